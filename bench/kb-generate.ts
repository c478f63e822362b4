// A generated knowledge base of any size, for the benchmarks that must show what happens at a
// million runs (recommend, bench). Runs are written through the SQLite backend's importBatch,
// as `metallmix import` writes them, in batches of 50,000 (one transaction each).
//
// The data: `datasets` profiled datasets of varied size, modality and resolution; `models`
// backbones with cards; every run a random configuration (learning rate, weight decay, batch
// size, optimizer, epochs, augmentation), so distinct configurations are about as many as runs,
// the worst case for anything that enumerates past configurations. Accuracy follows a smooth
// function of dataset, model and configuration plus noise, so a meta-learner has something to
// learn; training time grows with dataset size, epochs and model size.
//
// The file is built once per parameter set into os.tmpdir() and reused (delete it to rebuild).
// Run: node --import tsx bench/kb-generate.ts [--runs 1000000] [--datasets 500] [--models 12]
import { existsSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  MODALITIES,
  Rng,
  type DatasetProfile,
  type ExperimentRecord,
  type ModelCard,
  type Resolution,
} from '../src/core/index.ts';
import { openSqliteKnowledgeBase } from '../src/store/sqlite/knowledge-base.ts';
import type { DeclaredHyperparameter } from '../src/store/index.ts';

/** Bumped when the generated content changes, so old files are not reused. */
const GENERATOR_VERSION = 1;
const BATCH = 50_000;

export interface GenerateOptions {
  runs: number;
  datasets: number;
  models: number;
  seed?: number;
  /** Called after each written batch with the runs written so far. */
  onBatch?: (written: number) => void;
}

const HYPERPARAMETERS: DeclaredHyperparameter[] = [
  { name: 'lr', type: 'float', log: true },
  { name: 'weight_decay', type: 'float', log: true },
  { name: 'batch_size', type: 'categorical', choices: [16, 32, 64, 128] },
  { name: 'optimizer', type: 'categorical', choices: ['sgd', 'adam', 'adamw'] },
  { name: 'epochs', type: 'int' },
  { name: 'augment', type: 'bool' },
];

/** Where the knowledge base for these options lives (it may not exist yet). */
export function generatedPath(o: GenerateOptions): string {
  return join(
    tmpdir(),
    `metallmix-bench-kb-v${GENERATOR_VERSION}-${o.runs}r-${o.datasets}d-${o.models}m-s${o.seed ?? 0}.sqlite`,
  );
}

/** Every image of a generated dataset is `side` x `side`. */
export function squareResolution(side: number): Resolution {
  return {
    medianWidth: side,
    medianHeight: side,
    minWidth: side,
    minHeight: side,
    maxWidth: side,
    maxHeight: side,
  };
}

function profiles(n: number, rng: Rng): DatasetProfile[] {
  return Array.from({ length: n }, (_, d) => {
    const side = Math.round(2 ** rng.uniform(5, 10));
    return {
      name: `gen${d}`,
      task: rng.next() < 0.3 ? 'binary' : 'multiclass',
      modality: rng.choice(MODALITIES.filter((m) => m !== 'unknown')),
      numInstances: Math.round(10 ** rng.uniform(2.5, 5.5)),
      numClasses: 2 + rng.int(40),
      imbalanceRatio: 1 + 30 * rng.next() ** 2,
      normalizedEntropy: 0.5 + 0.5 * rng.next(),
      resolution: squareResolution(side),
      channels: rng.next() < 0.5 ? 1 : 3,
    };
  });
}

function cards(n: number, rng: Rng): ModelCard[] {
  return Array.from({ length: n }, (_, m) => ({
    id: `genmodel${m}`,
    family: `family${m % 4}`,
    architecture: m % 3 === 0 ? 'transformer' : 'cnn',
    params: Math.round(10 ** rng.uniform(6, 8.5)),
    pretrainingData: m % 2 ? 'imagenet-1k' : 'imagenet-21k',
  }));
}

/** Builds the knowledge base unless it exists; returns its path. */
export async function generateKnowledgeBase(o: GenerateOptions): Promise<string> {
  const file = generatedPath(o);
  if (existsSync(file)) return file;
  const rng = new Rng(o.seed ?? 0).fork('kb-generate');
  const ps = profiles(o.datasets, rng.fork('profiles'));
  const ms = cards(o.models, rng.fork('models'));
  // Per dataset: difficulty, the best log10 learning rate, and each model's affinity.
  const difficulty = ps.map(() => rng.uniform(-1, 2));
  const bestLr = ps.map((p) => -4 + 0.4 * Math.log10(p.numInstances / 1000) + 0.3 * rng.normal());
  const affinity = ps.map(() => ms.map(() => 0.4 * rng.normal()));
  const tmp = `${file}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  const kb = openSqliteKnowledgeBase(tmp);
  try {
    let written = 0;
    let first = true;
    const runRng = rng.fork('runs');
    while (written < o.runs) {
      const n = Math.min(BATCH, o.runs - written);
      const records: ExperimentRecord[] = [];
      for (let i = 0; i < n; i++) {
        const d = (written + i) % o.datasets;
        const m = runRng.int(o.models);
        const p = ps[d];
        const lr = 10 ** runRng.uniform(-5.5, -1.5);
        const wd = 10 ** runRng.uniform(-6, -2);
        const batch = runRng.choice([16, 32, 64, 128]);
        const optimizer = runRng.choice(['sgd', 'adam', 'adamw']);
        const epochs = 5 + runRng.int(96);
        const augment = runRng.next() < 0.5;
        const z =
          difficulty[d] +
          affinity[d][m] -
          0.8 * (Math.log10(lr) - bestLr[d]) ** 2 +
          0.3 * Math.log10(epochs / 5) +
          (optimizer === 'sgd' ? -0.2 : 0) +
          (augment ? 0.1 : 0) -
          0.05 * Math.abs(Math.log10(wd) + 4) +
          0.15 * runRng.normal();
        const chance = 1 / p.numClasses;
        const accuracy = chance + (1 - chance) / (1 + Math.exp(-z));
        const seconds =
          (p.numInstances / 1000) * epochs * (ms[m].params! / 2e7) * (128 / batch) ** 0.3 * 3;
        records.push({
          dataset: p.name,
          model: ms[m].id,
          config: {
            lr,
            weight_decay: wd,
            batch_size: batch,
            optimizer,
            epochs,
            augment,
          },
          metrics: { accuracy },
          cost: { trainingTimeSec: seconds * Math.exp(0.1 * runRng.normal()), epochs },
          status: 'finished',
          provenance: { source: 'bench/kb-generate.ts', runId: String(written + i) },
        });
      }
      await kb.importBatch({
        records,
        ...(first ? { profiles: ps, models: ms, hyperparameters: HYPERPARAMETERS } : {}),
      });
      first = false;
      written += n;
      o.onBatch?.(written);
    }
  } finally {
    await kb.close();
  }
  renameSync(tmp, file);
  for (const ext of ['-wal', '-shm']) rmSync(`${tmp}${ext}`, { force: true });
  return file;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '1000000' },
      datasets: { type: 'string', default: '500' },
      models: { type: 'string', default: '12' },
      seed: { type: 'string', default: '0' },
    },
  });
  const o: GenerateOptions = {
    runs: Number(values.runs),
    datasets: Number(values.datasets),
    models: Number(values.models),
    seed: Number(values.seed),
  };
  const t0 = performance.now();
  const file = await generateKnowledgeBase({
    ...o,
    onBatch: (w) =>
      process.stderr.write(
        `\r${w} / ${o.runs} runs (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
      ),
  });
  process.stderr.write('\n');
  console.log(file);
}
