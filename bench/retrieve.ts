// Retrieval timings on a synthetic knowledge base: documents from 100k runs, then an index of
// ~10k documents with the default embedder (build, save, load, query). index.search is timed
// per query (200 queries, p50 and spread) against two references on the same vectors in the
// same run: a plain loop with a full sort, and numpy through /usr/bin/python3.
// Run: node --import tsx bench/retrieve.ts [datasets=500] [runsPerDataset=200]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODALITIES, Rng, type DatasetProfile } from '../src/core/index.ts';
import {
  MetaTextEmbedder,
  buildDocuments,
  openOrBuildIndex,
  Retriever,
  type Embedder,
  type EvidenceDocument,
  FlatIndex,
  type StoredRecord,
} from '../src/retrieve/index.ts';
import { squareResolution } from './kb-generate.ts';

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
      resolution: squareResolution(side),
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

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.round(q * (s.length - 1)))];
}

/** `p50 1.23 ms (p10-p90 1.10-1.40, n=200)` */
function describe(xs: readonly number[]): string {
  const f = (x: number) => x.toFixed(x < 1 ? 3 : 2);
  return `p50 ${f(quantile(xs, 0.5))} ms (p10-p90 ${f(quantile(xs, 0.1))}-${f(quantile(xs, 0.9))}, n=${xs.length})`;
}

/** Top-k rows of X q by a plain loop and a full sort: the simplest correct search. */
function plainSearch(X: Float32Array, dim: number, q: Float32Array, k: number): number[] {
  const n = X.length / dim;
  const scores = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let dot = 0;
    for (let j = 0; j < dim; j++) dot += X[r * dim + j] * q[j];
    scores[r] = dot;
  }
  return Array.from({ length: n }, (_, i) => i)
    .sort((a, b) => scores[b] - scores[a] || a - b)
    .slice(0, k);
}

const NUMPY = `
import sys, time, numpy as np
dim, n, nq, k = (int(a) for a in sys.argv[2:6])
X = np.fromfile(sys.argv[1] + '/X.f32', dtype=np.float32).reshape(n, dim)
Q = np.fromfile(sys.argv[1] + '/Q.f32', dtype=np.float32).reshape(nq, dim)
out = []
for rep in range(2):
    out = []
    for q in Q:
        t0 = time.perf_counter()
        s = X @ q
        top = np.argpartition(-s, k)[:k]
        top = top[np.argsort(-s[top], kind='stable')]
        out.append((time.perf_counter() - t0) * 1000)
print(' '.join(f'{t:.6f}' for t in out))
`;

/**
 * index.search against two references on the same vectors and queries: a plain loop with a
 * full sort in this process (also the check that the top k agree), and numpy's
 * matrix-vector product with argpartition in /usr/bin/python3 (timed inside Python), both
 * single-threaded where numpy's BLAS allows.
 */
async function searchAgainstReferences(
  index: FlatIndex,
  docs: EvidenceDocument[],
  embedder: Embedder,
  dir: string,
): Promise<void> {
  const vectors = await embedder.embed(
    docs.map((d) => d.text),
    docs.map((d) => d.meta),
  );
  const dim = embedder.dim;
  const X = new Float32Array(vectors.length * dim);
  vectors.forEach((v, i) => X.set(v, i * dim));
  const nq = 200;
  const k = 10;
  const Q = new Float32Array(nq * dim);
  for (let i = 0; i < nq; i++) Q.set(vectors[(i * 7919) % vectors.length], i * dim);
  const query = (i: number) => Q.subarray(i * dim, (i + 1) * dim);
  for (let i = 0; i < 20; i++) index.search(query(i), k); // JIT warm-up
  const ours: number[] = [];
  const filtered: number[] = [];
  const plain: number[] = [];
  let agree = 0;
  for (let i = 0; i < nq; i++) {
    let t0 = performance.now();
    const hits = index.search(query(i), k);
    ours.push(performance.now() - t0);
    t0 = performance.now();
    index.search(query(i), k, { kind: 'run' });
    filtered.push(performance.now() - t0);
    t0 = performance.now();
    const ref = plainSearch(X, dim, query(i), k);
    plain.push(performance.now() - t0);
    if (hits.map((h) => h.id).join() === ref.map((r) => docs[r].id).join()) agree++;
  }
  writeFileSync(join(dir, 'X.f32'), X);
  writeFileSync(join(dir, 'Q.f32'), Q);
  let numpy: number[] | undefined;
  try {
    numpy = execFileSync(
      '/usr/bin/python3',
      ['-c', NUMPY, dir, String(dim), String(vectors.length), String(nq), String(k)],
      {
        encoding: 'utf8',
        env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
      },
    )
      .trim()
      .split(' ')
      .map(Number);
  } catch (err) {
    console.log(`numpy reference skipped: ${(err as Error).message.split('\n')[0]}`);
  }
  const n = vectors.length;
  console.log(`index.search k=${k} over ${n} vectors of ${dim} dims, per query: ${describe(ours)}`);
  console.log(`  with a kind filter (runs only): ${describe(filtered)}`);
  console.log(`  reference, plain loop + full sort (same process): ${describe(plain)}`);
  if (numpy)
    console.log(`  reference, numpy X @ q + argpartition (one thread): ${describe(numpy)}`);
  console.log(
    `  ratio ours/plain p50: ${(quantile(ours, 0.5) / quantile(plain, 0.5)).toFixed(2)}${numpy ? `; ours/numpy p50: ${(quantile(ours, 0.5) / quantile(numpy, 0.5)).toFixed(2)}` : ''}; per 10k vectors: ${((quantile(ours, 0.5) * 10000) / n).toFixed(2)} ms; top ${k} equal to the plain loop's on ${agree}/${nq} queries`,
  );
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
    if (!(warm.index instanceof FlatIndex)) throw new Error('expected the flat index of a file');
    await searchAgainstReferences(warm.index, docs, embedder, dir);
    const perQuery: number[] = [];
    for (const p of queries) {
      const t1 = performance.now();
      await retriever.retrieve(p, { k: 5, kinds: ['dataset', 'run', 'insight'] });
      perQuery.push(performance.now() - t1);
    }
    console.log(`retriever.retrieve (embed + 3 searches), per query: ${describe(perQuery)}`);
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
