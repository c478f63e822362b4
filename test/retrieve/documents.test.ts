import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetallmixError, Rng } from '../../src/core/index.ts';
import { buildDocuments, type StoredRecord } from '../../src/retrieve/index.ts';
import { INSIGHTS, PROFILES, syntheticRecords } from './fixtures.ts';

const records = syntheticRecords(PROFILES, 40);

test('documents and ids are stable across calls and input order', () => {
  const a = buildDocuments({ profiles: PROFILES, records, insights: INSIGHTS, metric: 'accuracy' });
  const shuffled = new Rng(7).shuffle(records).map((r) => ({
    ...r,
    config: Object.fromEntries(Object.entries(r.config).reverse()),
  }));
  const b = buildDocuments({
    profiles: new Rng(8).shuffle(PROFILES),
    records: shuffled,
    insights: INSIGHTS,
    metric: 'accuracy',
  });
  assert.deepEqual(b, a);
  assert.equal(new Set(a.map((d) => d.id)).size, a.length, 'ids are unique');
  for (const d of a) assert.match(d.id, /^(dataset:|run:|insight:)\S+$/);
  assert.deepEqual(
    a.filter((d) => d.kind === 'insight').map((d) => d.id),
    INSIGHTS.map((i) => `insight:${i.id}`),
  );
});

test('dataset documents state the profile, the spread of outcomes and the best configurations', () => {
  const docs = buildDocuments({ profiles: PROFILES, records, metric: 'accuracy' });
  const d = docs.find((x) => x.id === 'dataset:chest-xray-small')!;
  const mine = records.filter((r) => r.dataset === 'chest-xray-small' && r.status === 'finished');
  const values = mine.map((r) => r.metrics.accuracy).sort((x, y) => y - x);
  assert.equal(d.outcome?.runs, mine.length);
  assert.equal(d.outcome?.best, values[0]);
  assert.equal(d.outcome?.worst, values[values.length - 1]);
  assert.ok(d.outcome!.median! <= d.outcome!.best! && d.outcome!.median! >= d.outcome!.worst!);
  assert.ok(d.outcome?.trainingTimeSec! > 0);
  assert.equal(d.meta.task, 'binary');
  assert.equal(d.meta.modality, 'xray');
  assert.ok(d.meta.features);
  assert.match(
    d.text,
    /^Dataset chest-xray-small: binary X-ray image classification, 3100 images \(small\), 2 classes/,
  );
  assert.match(
    d.text,
    /runs on accuracy: best 0\.\d+, median 0\.\d+, worst 0\.\d+; typical training time/,
  );
  assert.match(
    d.text,
    /Best configurations: \w+ \(batch_size=\d+, learning_rate=[\d.e-]+, optimizer=\w+\) 0\.\d+/,
  );
  assert.match(d.text, /runs failed, stopped or lack accuracy/);
});

test('notable runs: top, bottom and fastest good run, bounded per dataset', () => {
  const many = syntheticRecords(PROFILES.slice(0, 4), 5000, 3);
  const t0 = performance.now();
  const docs = buildDocuments({ profiles: PROFILES, records: many, metric: 'accuracy' });
  const ms = performance.now() - t0;
  const runs = docs.filter((d) => d.kind === 'run');
  assert.ok(runs.length <= 4 * 5, `${runs.length} run documents for 20k runs`);
  assert.ok(ms < 5000, `buildDocuments took ${ms} ms`);
  const mine = runs.filter((d) => d.dataset === 'chest-xray-small');
  assert.equal(mine[0].outcome?.rank, 1);
  assert.match(mine[0].text, /best run/);
  assert.match(mine.at(-1)!.text, /worst run/);
  assert.ok(mine.some((d) => /fastest of the top quartile/.test(d.text)));
  const r = mine[0];
  assert.equal(r.model, many.find((x) => `run:${x.id}` === r.id)!.model);
  assert.match(
    r.text,
    /^Run on chest-xray-small \(X-ray, binary\): \w+ \(.*\); accuracy 0\.\d+ \(rank 1 of \d+, best run\); training time .*, 20 epochs\.$/,
  );
});

test('lower-is-better metrics rank the smallest value first', () => {
  const rs: StoredRecord[] = [0.5, 0.1, 0.9].map((loss, i) => ({
    id: `r${i}`,
    dataset: 'knee-mri',
    model: 'resnet50',
    config: {},
    metrics: { loss },
    cost: {},
    status: 'finished',
    provenance: { source: 't' },
  }));
  const docs = buildDocuments({ profiles: [], records: rs, metric: 'loss' });
  assert.deepEqual(
    docs.map((d) => d.id),
    ['dataset:knee-mri', 'run:r1', 'run:r0', 'run:r2'],
  );
  assert.equal(docs[0].outcome?.best, 0.1);
  assert.equal(docs[0].outcome?.median, 0.5);
  assert.match(docs[0].text, /no profile recorded/);
});

test('profiles without runs and duplicate ids', () => {
  const docs = buildDocuments({ profiles: PROFILES.slice(0, 1), records: [], metric: 'accuracy' });
  assert.match(docs[0].text, /No finished runs report accuracy\./);
  assert.throws(
    () => buildDocuments({ profiles: [], records: [records[0], records[0]], metric: 'accuracy' }),
    (e: unknown) =>
      e instanceof MetallmixError &&
      /field "records\[1\]\.id": duplicate id/.test(e.message) &&
      e.location.field === 'records[1].id',
  );
  assert.throws(
    () =>
      buildDocuments({
        profiles: [],
        records: [],
        insights: [{ id: '', text: 'x' }],
        metric: 'accuracy',
      }),
    /field "insights\[0\]\.id": an evidence id must be a non-empty string/,
  );
});
