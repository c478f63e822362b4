// Retrieval timings on a synthetic knowledge base: documents from 100k runs, then an index of
// ~10k documents with the default embedder (build, save, load, query).
// Run: node --import tsx bench/retrieve.ts [datasets=500] [runsPerDataset=200]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODALITIES, Rng, type DatasetProfile } from '../src/core/index.ts';
import {
  MetaTextEmbedder,
  buildDocuments,
  openOrBuildIndex,
  Retriever,
  type StoredRecord,
} from '../src/retrieve/index.ts';

function syntheticKnowledgeBase(datasets: number, runsPerDataset: number, rng: Rng) {
  const profiles: DatasetProfile[] = [];
  const records: StoredRecord[] = [];
  const models = ['resnet50', 'densenet121', 'efficientnet_b0', 'vit_small', 'convnext_tiny'];
  for (let d = 0; d < datasets; d++) {
    const side = Math.round(2 ** rng.uniform(5, 10));
    profiles.push({
      name: `ds${d}`,
      task: rng.choice(['binary', 'multiclass'] as const),
      modality: rng.choice(MODALITIES),
      numInstances: Math.round(10 ** rng.uniform(2.5, 6)),
      numClasses: 2 + rng.int(50),
      imbalanceRatio: 1 + 20 * rng.next(),
      normalizedEntropy: rng.next(),
      resolution: {
        medianWidth: side,
        medianHeight: side,
        minWidth: side,
        minHeight: side,
        maxWidth: side,
        maxHeight: side,
      },
      channels: rng.choice([1, 3]),
    });
    for (let i = 0; i < runsPerDataset; i++) {
      records.push({
        id: `ds${d}-r${i}`,
        dataset: `ds${d}`,
        model: rng.choice(models),
        config: {
          learning_rate: 10 ** rng.uniform(-5, -2),
          batch_size: rng.choice([16, 32, 64]),
          optimizer: rng.choice(['adam', 'sgd', 'adamw']),
        },
        metrics: { accuracy: rng.next() },
        cost: { trainingTimeSec: 60 + 3600 * rng.next(), epochs: 10 + rng.int(40) },
        status: 'finished',
        provenance: { source: 'bench' },
      });
    }
  }
  return { profiles, records };
}

function time<T>(label: string, f: () => T): T {
  const t0 = performance.now();
  const out = f();
  console.log(`${label}: ${(performance.now() - t0).toFixed(1)} ms`);
  return out;
}

async function timeAsync<T>(label: string, f: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await f();
  console.log(`${label}: ${(performance.now() - t0).toFixed(1)} ms`);
  return out;
}

async function main(datasets: number, runsPerDataset: number): Promise<void> {
  const rng = new Rng(1);
  const { profiles, records } = syntheticKnowledgeBase(datasets, runsPerDataset, rng);
  const options = { topRuns: 15, bottomRuns: 3 };
  const docs = time(`buildDocuments (${records.length} runs, ${datasets} datasets)`, () =>
    buildDocuments({ profiles, records, metric: 'accuracy', options }),
  );
  console.log(`documents: ${docs.length}`);
  const embedder = time('fit default embedder', () =>
    MetaTextEmbedder.fit({ profiles, texts: docs.map((d) => d.text) }),
  );
  console.log(`embedder: ${embedder.id} (${embedder.dim} dims)`);
  const dir = mkdtempSync(join(tmpdir(), 'metallmix-bench-retrieve-'));
  try {
    const cachePath = join(dir, 'kb.vectors');
    const built = await timeAsync('open, cold (embed + index + save)', () =>
      openOrBuildIndex({ cachePath, kbVersion: 'v1', embedder, documents: () => docs }),
    );
    console.log(`index file: ${(statSync(cachePath).size / 1e6).toFixed(1)} MB`);
    const warm = await timeAsync('open, warm (load file)', () =>
      openOrBuildIndex({ cachePath, kbVersion: 'v1', embedder, documents: () => docs }),
    );
    if (warm.rebuilt || !built.rebuilt) throw new Error('expected a cold build then a warm load');
    const retriever = new Retriever(warm.index, warm.documents, embedder);
    const queries = profiles.slice(0, 100).map((p) => ({ ...p, name: `${p.name}-query` }));
    const [q] = await embedder.embed(['x'], [{ task: 'binary', modality: 'xray' }]);
    const n = 200;
    for (let i = 0; i < 20; i++) warm.index.search(q, 10); // JIT warm-up
    const t0 = performance.now();
    for (let i = 0; i < n; i++) warm.index.search(q, 10, i % 2 ? { kind: 'run' } : undefined);
    console.log(
      `index.search k=10 over ${warm.index.size}: ${((performance.now() - t0) / n).toFixed(2)} ms/query`,
    );
    const t1 = performance.now();
    for (const p of queries)
      await retriever.retrieve(p, { k: 5, kinds: ['dataset', 'run', 'insight'] });
    console.log(
      `retriever.retrieve (embed + 3 searches): ${((performance.now() - t1) / queries.length).toFixed(2)} ms/query`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const [datasets, runs] = process.argv.slice(2).map(Number);
await main(datasets || 500, runs || 200);
console.log(
  `load average: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} on ${cpus().length} cores`,
);
