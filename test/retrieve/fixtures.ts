// Hand-made knowledge base for retrieval tests: a few medical and natural-image datasets with
// synthetic runs. Figures are plausible, not taken from any real table.
import { Rng, completeProfile, type DatasetProfile } from '../../src/core/index.ts';
import type { StoredRecord } from '../../src/retrieve/index.ts';

const res = (w: number, h: number) => ({
  medianWidth: w,
  medianHeight: h,
  minWidth: w / 2,
  minHeight: h / 2,
  maxWidth: w * 2,
  maxHeight: h * 2,
});

export const PROFILES: DatasetProfile[] = [
  {
    name: 'chest-xray-small',
    task: 'binary',
    modality: 'xray',
    numInstances: 3100,
    numClasses: 2,
    classCounts: { normal: 900, pneumonia: 2200 },
    resolution: res(1024, 1024),
    channels: 1,
  },
  {
    name: 'natural-large',
    task: 'multiclass',
    modality: 'natural',
    numInstances: 1_281_167,
    numClasses: 1000,
    imbalanceRatio: 1.3,
    normalizedEntropy: 0.999,
    resolution: res(400, 350),
    channels: 3,
  },
  {
    name: 'natural-tiny',
    task: 'multiclass',
    modality: 'natural',
    numInstances: 60_000,
    numClasses: 10,
    classCounts: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`c${i}`, 6000])),
    resolution: res(32, 32),
    channels: 3,
  },
  {
    name: 'skin-lesions',
    task: 'multiclass',
    modality: 'dermoscopy',
    numInstances: 10_015,
    numClasses: 7,
    classCounts: { nv: 6705, mel: 1113, bkl: 1099, bcc: 514, akiec: 327, vasc: 142, df: 115 },
    resolution: res(600, 450),
    channels: 3,
  },
  {
    name: 'histo-patches',
    task: 'binary',
    modality: 'histopathology',
    numInstances: 327_680,
    numClasses: 2,
    classCounts: { tumor: 163_840, normal: 163_840 },
    resolution: res(96, 96),
    channels: 3,
  },
  {
    name: 'knee-mri',
    task: 'multiclass',
    modality: 'mri',
    numInstances: 1370,
    numClasses: 3,
    classCounts: { healthy: 800, partial: 400, torn: 170 },
    resolution: res(256, 256),
    channels: 1,
  },
].map((p) => completeProfile(p as DatasetProfile));

/** A pneumonia-like query: small, binary, imbalanced, grayscale, high-resolution X-rays. */
export const PNEUMONIA_QUERY: DatasetProfile = completeProfile({
  name: 'pneumonia-query',
  task: 'binary',
  modality: 'xray',
  numInstances: 5856,
  numClasses: 2,
  classCounts: { normal: 1583, pneumonia: 4273 },
  resolution: res(1200, 950),
  channels: 1,
});

export const MODELS = ['resnet50', 'densenet121', 'efficientnet_b0', 'vit_small'];

/** `perDataset` runs per profile with seeded random configs, accuracy and time; ~5% failed. */
export function syntheticRecords(
  profiles: readonly DatasetProfile[],
  perDataset: number,
  seed = 1,
): StoredRecord[] {
  const rng = new Rng(seed);
  const out: StoredRecord[] = [];
  for (const p of profiles) {
    const base = 0.6 + 0.3 * rng.next();
    for (let i = 0; i < perDataset; i++) {
      const model = rng.choice(MODELS);
      const lr = 10 ** rng.uniform(-5, -2);
      const failed = rng.next() < 0.05;
      out.push({
        id: `${p.name}-${i}`,
        dataset: p.name,
        model,
        config: {
          learning_rate: lr,
          batch_size: rng.choice([16, 32, 64]),
          optimizer: rng.choice(['adam', 'sgd']),
        },
        metrics: failed
          ? {}
          : {
              accuracy: Math.min(
                1,
                base + 0.1 * rng.next() - 0.02 * Math.abs(Math.log10(lr) + 3.5),
              ),
            },
        cost: { trainingTimeSec: Math.round(60 + 3000 * rng.next()), epochs: 20 },
        status: failed ? 'failed' : 'finished',
        provenance: { source: 'fixtures' },
      });
    }
  }
  return out;
}

export const INSIGHTS = [
  {
    id: 'lr-low',
    text: 'Learning rates below 1e-4 raise predicted accuracy for small grayscale X-ray datasets.',
  },
  {
    id: 'batch',
    text: 'Batch size has little effect on predicted accuracy once learning rate is fixed.',
  },
  {
    id: 'vit-data',
    text: 'Vision transformers need many images: on datasets under 10k images they trail convolutional networks.',
  },
];
