// The compact view of a knowledge base, cached per content version: a second read does not
// touch the knowledge base's records, gives the same view, and a new import gives a new one; a
// cached recommendation does not even read the view's records.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { recommend } from '../../src/api/index.ts';
import type { DatasetProfile, ExperimentRecord } from '../../src/core/index.ts';
import { readProfileFile } from '../../src/profile/index.ts';
import { loadOrBuildView } from '../../src/recommend/cache.ts';
import type { KbView } from '../../src/recommend/kb-view.ts';
import { openKnowledgeBase, type KnowledgeBase } from '../../src/store/index.ts';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metallmix-perf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const PROFILES: DatasetProfile[] = ['a', 'b'].map((name, i) => ({
  name,
  task: 'multiclass',
  modality: 'xray',
  numInstances: 100 * (i + 1),
  numClasses: 3,
}));

function run(i: number, dataset = i % 2 ? 'a' : 'b'): ExperimentRecord {
  return {
    dataset,
    model: i % 3 ? 'resnet18' : 'vit_small',
    config: { lr: 10 ** -(2 + (i % 4)), optimizer: i % 2 ? 'adam' : 'sgd' },
    metrics: { accuracy: 0.5 + i / 100, ...(i % 5 === 0 ? { auc: 0.7 } : {}) },
    cost: { trainingTimeSec: 60 + i, ...(i % 7 === 0 ? { hardware: 'a100' } : {}) },
    status: i % 11 === 0 ? 'failed' : 'finished',
    provenance: { source: `runs-${i % 2}.csv`, line: i + 2, runId: `r${i}` },
    ...(i % 4 === 0 ? { seed: i, count: 3, std: { accuracy: 0.01 } } : {}),
  };
}

async function knowledgeBase(t: TestContext, dir: string): Promise<KnowledgeBase> {
  const kb = await openKnowledgeBase(path.join(dir, 'kb.sqlite'), { mode: 'write' });
  t.after(() => kb.close());
  await kb.importBatch({
    records: [
      ...Array.from({ length: 39 }, (_, i) => run(i)),
      { ...run(39, 'unprofiled'), metrics: { f1: 0.4 } },
    ],
    profiles: PROFILES,
    models: [{ id: 'resnet18', family: 'resnet', architecture: 'cnn' }],
    hyperparameters: [
      { name: 'lr', type: 'float', log: true },
      { name: 'optimizer', type: 'categorical' },
    ],
  });
  return kb;
}

/** The knowledge base with its record reads counted (snapshot and records). */
function counted(kb: KnowledgeBase): { kb: KnowledgeBase; reads: () => number } {
  let reads = 0;
  return {
    kb: {
      label: kb.label,
      backend: kb.backend,
      writable: kb.writable,
      indexLocation: kb.indexLocation,
      snapshot: () => (reads++, kb.snapshot()),
      records: (f) => (reads++, kb.records(f)),
      version: () => kb.version(),
      importBatch: (b) => kb.importBatch(b),
      close: () => kb.close(),
    },
    reads: () => reads,
  };
}

const plain = (v: KbView) => ({
  label: v.label,
  version: v.version,
  records: v.records,
  profiles: v.profiles,
  cards: v.cards,
  space: v.space,
  summary: v.summary,
});

test('a cached view is read without the records and equals the one read from the knowledge base', async (t) => {
  const dir = tempDir(t);
  const cache = path.join(dir, 'cache');
  const { kb, reads } = counted(await knowledgeBase(t, dir));
  const first = await loadOrBuildView(kb, cache);
  assert.equal(first.cache, 'miss');
  assert.equal(reads(), 1);
  const second = await loadOrBuildView(kb, cache);
  assert.equal(second.cache, 'hit');
  assert.equal(reads(), 1, 'a hit reads no record from the knowledge base');
  assert.deepEqual(plain(second.view), plain(first.view));
  assert.equal(second.view.summary.records, 40);
  assert.equal(second.view.summary.finishedRuns, 36);
  assert.equal(second.view.summary.datasets, 3);
  assert.deepEqual(second.view.summary.metrics.auc, { runs: 7, profiledDatasets: 2 });
  assert.deepEqual(second.view.summary.metrics.f1, { runs: 1, profiledDatasets: 0 });

  // A new record: a new version, a new view, and the old one still cached beside it.
  await kb.importBatch({ records: [run(100, 'a')] });
  const third = await loadOrBuildView(kb, cache);
  assert.equal(third.cache, 'miss');
  assert.notEqual(third.view.version, first.view.version);
  assert.equal(third.view.records.length, 41);
  assert.equal(readdirSync(path.join(cache, 'views')).length, 2);
  assert.equal((await loadOrBuildView(kb, undefined)).cache, 'off');
});

test('views of only the four most recently used versions are kept', async (t) => {
  const dir = tempDir(t);
  const cache = path.join(dir, 'cache');
  const kb = await knowledgeBase(t, dir);
  const versions: string[] = [];
  for (let i = 0; i < 6; i++) {
    await kb.importBatch({ records: [run(200 + i)] });
    versions.push((await loadOrBuildView(kb, cache)).view.version);
    // Directory times have a coarse resolution on some file systems.
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(readdirSync(path.join(cache, 'views')).length, 4);
  // The newest is still a hit; the oldest was evicted (read again from the knowledge base).
  assert.equal((await loadOrBuildView(kb, cache)).cache, 'hit');
  assert.equal(new Set(versions).size, 6);
});

test('a damaged cached view is rebuilt, or named in the error when only its records are damaged', async (t) => {
  const dir = tempDir(t);
  const cache = path.join(dir, 'cache');
  const kb = await knowledgeBase(t, dir);
  await loadOrBuildView(kb, cache);
  const [name] = readdirSync(path.join(cache, 'views'));
  const viewPath = path.join(cache, 'views', name);
  writeFileSync(path.join(viewPath, 'head.json'), '{"format":');
  assert.equal((await loadOrBuildView(kb, cache)).cache, 'miss');

  // Same size, not JSON: the head is valid, the records fail when read, naming the file.
  const records = path.join(viewPath, 'records.json');
  writeFileSync(records, 'x'.repeat(statSync(records).size));
  const damaged = await loadOrBuildView(kb, cache);
  assert.equal(damaged.cache, 'hit');
  assert.throws(
    () => damaged.view.records,
    (e: Error & { location?: { file?: string } }) =>
      e.name === 'MetallmixError' && e.location?.file === records && /delete/.test(e.message),
  );
});

test('a cache directory that cannot be written costs the full read every time, never an error', async (t) => {
  const dir = tempDir(t);
  // A file where the cache directory should be: nothing can be created under it, even by root.
  const cache = path.join(dir, 'cache');
  writeFileSync(cache, '');
  const kb = await knowledgeBase(t, dir);
  const first = await loadOrBuildView(kb, cache);
  assert.equal(first.cache, 'miss');
  assert.equal((await loadOrBuildView(kb, cache)).cache, 'miss');
  assert.equal(first.view.records.length, 40);
});

test('a cached recommendation reads no record: the same answer with the records file damaged', async (t) => {
  const dir = tempDir(t);
  const env = { METALLMIX_CACHE: path.join(dir, 'cache'), HOME: dir };
  const profile = readProfileFile(
    new URL('../../examples/chest-xray-small.json', import.meta.url).pathname,
  );
  const ask = () =>
    recommend({ dataset: { profile }, strategy: 'metalearner', seed: 3, env, embedder: undefined });
  const first = await ask();
  assert.equal(first.counters.viewCache, 'miss');
  // Every view's records, made unreadable at the same size: reading them would throw.
  const views = path.join(dir, 'cache', 'views');
  for (const name of readdirSync(views)) {
    const records = path.join(views, name, 'records.json');
    writeFileSync(records, 'x'.repeat(statSync(records).size));
  }
  const second = await ask();
  assert.equal(second.counters.viewCache, 'hit');
  const { timingsMs: _a, counters: _b, ...a } = first;
  const { timingsMs: _c, counters: _d, ...b } = second;
  assert.deepEqual(b, {
    ...a,
    notices: a.notices.filter((n) => !/rebuilding vector index/.test(n)),
  });
});
