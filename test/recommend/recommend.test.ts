import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Recommendation } from '../../src/core/index.ts';
import { openKnowledgeBase } from '../../src/store/index.ts';
import { runCli } from '../support/cli.ts';
import { EXAMPLE, recommendJson } from './example.ts';

let dir: string;

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'metallmix-recommend-'));
  process.env.METALLMIX_CACHE = path.join(dir, 'cache');
  delete process.env.METALLMIX_KB;
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('recommend on the built-in knowledge base: schema-valid answer, explained, cached, deterministic', async () => {
  const first = await recommendJson('--top-k', '4');
  assert.equal(first.topK.length, 4);
  assert.deepEqual(first.pick, first.topK[0]);
  assert.ok(first.pick.explanation.length > 0, 'the pick has SHAP contributions');
  assert.match(first.pick.explanationText, /points/);
  assert.ok(first.pick.predictedTrainingTimeSec, 'training time is predicted');
  const p = first.pick.predictedMetric;
  assert.ok(p.low <= p.mean && p.mean <= p.high, 'interval around the mean');
  assert.ok(first.paretoFront.length > 0 && first.paretoFront.some((c) => c.onParetoFront));
  assert.equal(first.counters.metalearnerCache, 'miss');
  assert.equal(
    readdirSync(path.join(dir, 'cache', 'metalearners')).length,
    1,
    'the trained meta-learner is cached',
  );

  const second = await recommendJson('--top-k', '4');
  assert.equal(second.counters.metalearnerCache, 'hit', 'the second call does not retrain');
  assert.deepEqual(second.topK, first.topK, 'same inputs and seed, same recommendation');
});

test('a corrupt cache file is replaced, not fatal', async () => {
  const cacheDir = path.join(dir, 'cache', 'metalearners');
  for (const f of readdirSync(cacheDir)) writeFileSync(path.join(cacheDir, f), '{ not json');
  const rec = await recommendJson();
  assert.equal(rec.counters.metalearnerCache, 'miss');
});

test('balanced and fastest objectives trade metric for predicted time', async () => {
  const best = await recommendJson('--objective', 'best');
  const balanced = await recommendJson('--objective', 'balanced');
  const fastest = await recommendJson('--objective', 'fastest');
  const t = (r: Recommendation) => r.pick.predictedTrainingTimeSec!.mean;
  assert.ok(t(balanced) <= t(best));
  assert.ok(t(fastest) <= t(balanced));
  assert.ok(best.pick.predictedMetric.mean >= fastest.pick.predictedMetric.mean);
});

test('budget: a pick under the budget, and a clear error when no candidate meets it', async () => {
  const ok = await recommendJson('--budget-minutes', '600');
  assert.ok(ok.budgetPick && ok.budgetPick.predictedTrainingTimeSec!.mean <= 600 * 60);
  const r = await runCli('recommend', '--profile', EXAMPLE, '--budget-minutes', '0.001');
  assert.equal(r.code, 3);
  assert.match(r.err, /no candidate is predicted to train within 0.001 minutes/);
  assert.match(
    r.out,
    /No candidate is predicted to train within 0.001 minutes; the fastest is predicted at/,
  );
});

test('bad inputs: unknown model, unknown metric, empty knowledge base, profile missing fields, no input', async () => {
  let r = await runCli('recommend', '--profile', EXAMPLE, '--models', 'resnet18,not-a-model');
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown model "not-a-model": the knowledge base has runs for .*resnet18/);
  assert.doesNotMatch(r.err, /at .*\.ts:\d+/, 'no stack trace');

  r = await runCli('recommend', '--profile', EXAMPLE, '--metric', 'top5');
  assert.equal(r.code, 2);
  assert.match(r.err, /metric "top5"; available: accuracy, auc/);

  const empty = path.join(dir, 'empty.sqlite');
  await (await openKnowledgeBase(empty, { mode: 'write' })).close();
  r = await runCli('recommend', '--profile', EXAMPLE, '--kb', empty);
  assert.equal(r.code, 3);
  assert.match(r.err, /has no finished runs: import runs first/);

  const partial = path.join(dir, 'partial.json');
  writeFileSync(
    partial,
    JSON.stringify({ name: 'x', task: 'multiclass', modality: 'ct', numInstances: 100 }),
  );
  r = await runCli('recommend', '--profile', partial);
  assert.equal(r.code, 2);
  assert.match(
    r.err,
    new RegExp(
      `${partial.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} field "numClasses": invalid dataset profile`,
    ),
  );

  r = await runCli('recommend');
  assert.equal(r.code, 2);
  assert.match(r.err, /give exactly one of --profile FILE, --dataset DIR, --manifest FILE/);
});

// The report: test/cli/report.test.ts; the exports: test/recommend/export.test.ts.

test('a dataset outside what the knowledge base covers gets a notice naming each meta-feature', async () => {
  const big = path.join(dir, 'big.json');
  writeFileSync(
    big,
    JSON.stringify({
      name: 'big-mri',
      task: 'multiclass',
      modality: 'mri',
      numInstances: 2_000_000,
      numClasses: 4,
    }),
  );
  const r = await runCli('recommend', '--profile', big, '--json');
  assert.equal(r.code, 0, r.err);
  const rec = Recommendation.parse(JSON.parse(r.out));
  const notice = rec.notices.find((n) => n.startsWith('The dataset lies outside'));
  assert.ok(notice, rec.notices.join('\n'));
  assert.match(
    notice,
    /n_instances 2e\+6 is outside the knowledge base's range \(780 to 112,000\)/,
  );
  assert.match(notice, /modality "mri" is not among the knowledge base's/);
  assert.doesNotMatch(notice, /n_classes/, '4 classes lies inside the range');
  const inside = await recommendJson();
  assert.ok(!inside.notices.some((n) => n.startsWith('The dataset lies outside')));
});

test('predicted intervals stay inside the metric range; bad numbers in flags are rejected', async () => {
  const rec = await recommendJson('--top-k', '32');
  for (const c of rec.topK)
    assert.ok(
      c.predictedMetric.low >= 0 && c.predictedMetric.high <= 1,
      JSON.stringify(c.predictedMetric),
    );
  for (const seed of ['', '0x10', '1.5']) {
    const r = await runCli('recommend', '--profile', EXAMPLE, '--seed', seed);
    assert.equal(r.code, 2, `--seed "${seed}"`);
    assert.match(r.err, /is not an integer/);
  }
  const empty = await runCli('recommend', '--profile', '');
  assert.equal(empty.code, 2);
  assert.match(empty.err, /--profile FILE needs a path, not an empty string/);
});

test('the output of `metallmix profile --json` is accepted as --profile', async () => {
  const file = path.join(dir, 'profile-result.json');
  const profile = {
    name: 'from-profile-command',
    task: 'binary',
    modality: 'ultrasound',
    numInstances: 900,
    numClasses: 2,
  };
  writeFileSync(
    file,
    JSON.stringify({ profile, skipped: [], counts: { files: 900, images: 900, skipped: 0 } }),
  );
  const r = await runCli('recommend', '--profile', file, '--json');
  assert.equal(r.code, 0, r.err);
  assert.equal(JSON.parse(r.out).dataset, 'from-profile-command');
});

test('--dataset and --manifest errors name the path', async () => {
  const missing = path.join(dir, 'no-such-folder');
  let r = await runCli('recommend', '--dataset', missing);
  assert.equal(r.code, 2);
  assert.match(r.err, new RegExp(missing));
  const manifest = path.join(dir, 'bad-manifest.csv');
  writeFileSync(manifest, 'file,class\na.png,x\n');
  r = await runCli('recommend', '--manifest', manifest);
  assert.equal(r.code, 2);
  assert.match(r.err, /bad-manifest\.csv/);
});
