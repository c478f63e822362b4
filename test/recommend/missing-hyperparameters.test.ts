// Two sources of different hyperparameters in one knowledge base (issue 15, item 6): one team
// tunes lr and weight_decay, another lr and batch_size. A record gets a hyperparameter its
// source lacks as "not set" (absent from its config, never null), and a recommendation never
// shows a null (`weight_decay = null`) as a reason, in a configuration or in its text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Recommendation } from '../../src/core/index.ts';
import { importFiles, loadMapping, openKnowledgeBase } from '../../src/store/index.ts';
import { runCliWith } from '../support/cli.ts';
import { PROFILES, MODELS, tempDir, write } from '../store/helpers.ts';
import { EXAMPLE } from './example.ts';

const DATASETS = ['derma', 'blood'];
const MODEL_IDS = ['resnet18', 'vit'];

/** A source's rows: a grid over lr and its own second hyperparameter, accuracy from a formula. */
function csv(second: string, values: number[], accuracy: (lr: number, v: number) => number) {
  const rows = [`run,ds,model,lr,${second},acc,minutes`];
  let n = 0;
  for (const ds of DATASETS)
    for (const model of MODEL_IDS)
      for (const lr of [1e-4, 1e-3, 1e-2])
        for (const v of values) {
          const acc = accuracy(lr, v) - (ds === 'blood' ? 0.05 : 0) - (model === 'vit' ? 0.02 : 0);
          rows.push(`${second}-${++n},${ds},${model},${lr},${v},${acc.toFixed(4)},${5 + (n % 7)}`);
        }
  return `${rows.join('\n')}\n`;
}

const mapping = (second: object) => ({
  dataset: 'ds',
  model: 'model',
  metrics: { accuracy: 'acc' },
  cost: { trainingTimeSec: { column: 'minutes', unit: 'min' } },
  runId: 'run',
  hyperparameters: [{ name: 'lr', type: 'float', log: true }, second],
  profiles: 'profiles.json',
  models: 'models.json',
});

/** Every null anywhere in a JSON value, by its path. */
function nullsIn(value: unknown, at = '$'): string[] {
  if (value === null) return [at];
  if (Array.isArray(value)) return value.flatMap((v, i) => nullsIn(v, `${at}[${i}]`));
  if (typeof value === 'object')
    return Object.entries(value as object).flatMap(([k, v]) => nullsIn(v, `${at}.${k}`));
  return [];
}

test('a hyperparameter one source lacks is "not set", and no recommendation shows a null', async (t) => {
  const dir = tempDir(t);
  write(dir, 'profiles.json', PROFILES);
  write(dir, 'models.json', MODELS);
  const wd = write(
    dir,
    'wd.csv',
    csv('weight_decay', [0, 0.01, 0.1], (lr, v) => 0.7 + 0.05 * Math.log10(lr * 1e4) + v),
  );
  const bs = write(
    dir,
    'bs.csv',
    csv('batch_size', [16, 64], (lr, v) => 0.72 + 0.04 * Math.log10(lr * 1e4) - v / 1000),
  );
  const kbFile = path.join(dir, 'kb.sqlite');
  const kb = await openKnowledgeBase(kbFile, { mode: 'write' });
  try {
    await importFiles(
      kb,
      [wd],
      loadMapping(write(dir, 'wd.json', mapping({ name: 'weight_decay', type: 'float' }))),
    );
    await importFiles(
      kb,
      [bs],
      loadMapping(write(dir, 'bs.json', mapping({ name: 'batch_size', type: 'int', log: true }))),
    );
    const { records, hyperparameters } = await kb.snapshot();
    assert.deepEqual(hyperparameters.map((h) => h.name).sort(), [
      'batch_size',
      'lr',
      'weight_decay',
    ]);
    assert.equal(records.length, 36 + 24);
    // Not set: the key is absent, never stored as null.
    for (const r of records) {
      const keys = Object.keys(r.config).sort();
      assert.deepEqual(
        keys,
        r.provenance.runId!.startsWith('weight_decay')
          ? ['lr', 'weight_decay']
          : ['batch_size', 'lr'],
      );
      assert.deepEqual(nullsIn(r.config), []);
    }
  } finally {
    await kb.close();
  }

  const env = { ...process.env, METALLMIX_CACHE: path.join(dir, 'cache') };
  const common = ['recommend', '--profile', EXAMPLE, '--kb', kbFile, '--top-k', '6'];
  const json = await runCliWith({ env }, ...common, '--json');
  assert.equal(json.code, 0, json.err);
  const answer = Recommendation.parse(JSON.parse(json.out));
  const configs = [answer.pick, ...answer.topK, ...answer.paretoFront].map((c) => c.config);
  assert.ok(
    configs.some((c) => 'weight_decay' in c) && configs.some((c) => 'batch_size' in c),
    'candidates from both sources are ranked',
  );
  for (const c of configs) assert.deepEqual(nullsIn(c), [], JSON.stringify(c));
  // No reason (SHAP explanation, justification, notices) says a value is null.
  const said = JSON.stringify(answer);
  assert.doesNotMatch(said, /\w ?= ?null/);
  for (const c of [answer.pick, ...answer.topK])
    assert.doesNotMatch(c.explanationText, /null/, c.explanationText);
  // The other source's parameter weighs in as "not set" (its SHAP value), not as a null value.
  assert.ok(
    [answer.pick, ...answer.topK].some((c) =>
      /(weight_decay|batch_size) not set/.test(c.explanationText),
    ),
  );
  const text = await runCliWith({ env }, ...common);
  assert.equal(text.code, 0, text.err);
  assert.doesNotMatch(text.out, /null/, text.out);
  assert.match(text.out, /- = not set/, 'the table marks a parameter a candidate lacks');
});
