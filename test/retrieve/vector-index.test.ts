import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetallmixError, Rng } from '../../src/core/index.ts';
import {
  FlatIndex,
  l2normalize,
  loadIndex,
  type IndexEntryMeta,
} from '../../src/retrieve/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'metallmix-retrieve-index-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function randomUnitVectors(rng: Rng, n: number, dim: number): Float32Array[] {
  return Array.from({ length: n }, () =>
    l2normalize(Float32Array.from({ length: dim }, () => rng.normal())),
  );
}

const KINDS = ['dataset', 'run', 'insight'] as const;
function randomMeta(rng: Rng, i: number): IndexEntryMeta {
  const kind = KINDS[i % 3];
  if (kind === 'insight') return { kind };
  return {
    kind,
    dataset: `d${i % 7}`,
    task: rng.choice(['binary', 'multiclass'] as const),
    modality: rng.choice(['xray', 'ct', 'natural'] as const),
  };
}

function bruteForce(
  vectors: Float32Array[],
  query: Float32Array,
  k: number,
  keep: (i: number) => boolean,
) {
  return vectors
    .map((v, i) => ({ i, score: v.reduce((s, x, j) => s + x * query[j], 0) }))
    .filter(({ i }) => keep(i))
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .slice(0, k);
}

const rng = new Rng(42);
const N = 3000;
const DIM = 48;
const vectors = randomUnitVectors(rng, N, DIM);
const meta = vectors.map((_, i) => randomMeta(rng, i));
const ids = vectors.map((_, i) => `v${i}`);
const index = new FlatIndex(DIM, 16); // small capacity: add must grow the buffer
index.add(ids.slice(0, 1000), vectors.slice(0, 1000), meta.slice(0, 1000));
index.add(ids.slice(1000), vectors.slice(1000), meta.slice(1000));

test('exact search matches brute force on random vectors', () => {
  assert.equal(index.size, N);
  for (const query of randomUnitVectors(rng, 20, DIM)) {
    for (const k of [1, 10, 57]) {
      const got = index.search(query, k);
      const want = bruteForce(vectors, query, k, () => true);
      assert.deepEqual(
        got.map((h) => h.id),
        want.map((w) => `v${w.i}`),
      );
      got.forEach((h, j) => assert.ok(Math.abs(h.score - want[j].score) < 1e-5));
    }
  }
});

test('filters on kind, task, modality, dataset and excluded datasets', () => {
  const query = randomUnitVectors(rng, 1, DIM)[0];
  const cases = [
    { filter: { kind: 'run' as const }, keep: (m: IndexEntryMeta) => m.kind === 'run' },
    {
      filter: { task: 'binary' as const, modality: ['xray', 'ct'] as const },
      keep: (m: IndexEntryMeta) =>
        m.task === 'binary' && (m.modality === 'xray' || m.modality === 'ct'),
    },
    {
      filter: { dataset: ['d1', 'd2'] },
      keep: (m: IndexEntryMeta) => m.dataset === 'd1' || m.dataset === 'd2',
    },
    {
      filter: { kind: ['dataset', 'insight'] as const, excludeDatasets: ['d0', 'd3'] },
      keep: (m: IndexEntryMeta) => m.kind !== 'run' && m.dataset !== 'd0' && m.dataset !== 'd3',
    },
    // Insights have no modality: a modality filter leaves them out.
    { filter: { kind: 'insight' as const, modality: 'xray' as const }, keep: () => false },
  ];
  for (const { filter, keep } of cases) {
    const got = index.search(query, 25, filter);
    const want = bruteForce(vectors, query, 25, (i) => keep(meta[i]));
    assert.deepEqual(
      got.map((h) => h.id),
      want.map((w) => `v${w.i}`),
      JSON.stringify(filter),
    );
  }
});

test('edge cases: k = 0, k beyond size, ties keep insertion order, bad input', () => {
  const small = new FlatIndex(2);
  const same = Float32Array.from([1, 0]);
  small.add(
    ['a', 'b', 'c'],
    [same, Float32Array.from([0, 1]), same],
    [{ kind: 'run' }, { kind: 'run' }, { kind: 'run' }],
  );
  assert.deepEqual(small.search(same, 0), []);
  assert.deepEqual(
    small.search(same, 10).map((h) => h.id),
    ['a', 'c', 'b'],
  );
  assert.throws(
    () => small.add(['a'], [same], [{ kind: 'run' }]),
    /id "a" is already in the index/,
  );
  assert.throws(() => small.search(new Float32Array(3), 1), /query has 3 dims, the index 2/);
  assert.deepEqual(new FlatIndex(4).search(new Float32Array(4), 5), []);
});

test('save and load round-trip gives the same results and header', () => {
  const path = join(dir, 'round-trip.vectors');
  index.save(path, { kbVersion: 'v1', note: 'x' });
  const { index: loaded, header } = loadIndex(path);
  assert.equal(header.kbVersion, 'v1');
  assert.equal(loaded.size, N);
  assert.equal(loaded.type, 'flat-ip');
  for (const query of randomUnitVectors(rng, 5, DIM)) {
    assert.deepEqual(
      loaded.search(query, 15, { kind: 'run' }),
      index.search(query, 15, { kind: 'run' }),
    );
  }
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
    'no temp file left',
  );
});

test('corrupt files give a MetallmixError naming the file and the reason', () => {
  const good = join(dir, 'good.vectors');
  index.save(good);
  const bytes = readFileSync(good);
  const cases: [string, Buffer, RegExp][] = [
    ['empty', Buffer.alloc(0), /signature/],
    ['garbage', Buffer.from('hello world, not an index'), /signature/],
    ['truncated', bytes.subarray(0, bytes.length - 6), /payload/],
    ['cut-header', bytes.subarray(0, 40), /header of \d+ bytes runs past the end/],
    [
      'bad-json',
      Buffer.concat([bytes.subarray(0, 12), Buffer.from('{{{'), bytes.subarray(15)]),
      /header is not JSON/,
    ],
  ];
  for (const [name, content, reason] of cases) {
    const path = join(dir, `${name}.vectors`);
    writeFileSync(path, content);
    assert.throws(
      () => loadIndex(path),
      (e: unknown) =>
        e instanceof MetallmixError && e.message.startsWith(path) && reason.test(e.message),
      name,
    );
  }
  assert.throws(
    () => loadIndex(join(dir, 'absent.vectors')),
    /absent\.vectors: cannot read vector index/,
  );
});
