// `metallmix gbdt train` / `gbdt predict` in-process, checked against XGBoost reading our file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../support/cli.ts';
import { loadModelFile } from '../../src/learn/xgboost-json.ts';
import { runXGBoost, tempDir, xgboostMissing } from './xgb-reference.ts';
import { sliceRows, synthetic, type Synthetic } from './synthetic.ts';

function toCsv(s: Synthetic, extra: Record<string, ArrayLike<number>> = {}): string {
  const F = s.X.numFeatures;
  const header = [...s.featureNames, ...Object.keys(extra)];
  const lines = [header.join(',')];
  for (let r = 0; r < s.X.numRows; r++) {
    const cells = Array.from(s.X.data.subarray(r * F, (r + 1) * F), (v) =>
      Number.isNaN(v) ? '' : String(v),
    );
    for (const col of Object.values(extra)) cells.push(String(col[r]));
    lines.push(cells.join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** `metallmix gbdt predict --model MODEL --data DATA ...flags`. */
const predictCli = (model: string, data: string, ...flags: string[]) =>
  runCli('gbdt', 'predict', '--model', model, '--data', data, ...flags);

const data = synthetic(17, {
  rows: 700,
  numFeatures: 6,
  missingRate: 0.1,
  categorical: 1,
  numCategories: 6,
});
const train = sliceRows(data, 0, 500);
const rows = sliceRows(data, 500, 700);

test('gbdt train writes an XGBoost JSON model; gbdt predict prints what XGBoost predicts from it', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'train.csv'), toCsv(train, { y: train.y }));
  writeFileSync(join(dir, 'rows.csv'), toCsv(rows));
  const model = join(dir, 'm.json');
  const trained = await runCli(
    'gbdt',
    'train',
    '--data',
    join(dir, 'train.csv'),
    '--target',
    'y',
    '--categorical',
    'cat5',
    '--params',
    '{"max_depth":4,"n_estimators":30,"eta":0.2}',
    '--out',
    model,
    '--json',
  );
  assert.equal(trained.code, 0, trained.err);
  const summary = JSON.parse(trained.out);
  assert.equal(summary.trees, 30);
  assert.deepEqual(loadModelFile(model).featureTypes, ['q', 'q', 'q', 'q', 'q', 'c']);
  const predicted = await predictCli(model, join(dir, 'rows.csv'), '--json');
  assert.equal(predicted.code, 0, predicted.err);
  const { predictions } = JSON.parse(predicted.out) as { predictions: number[] };
  assert.equal(predictions.length, 200);
  if (xgboostMissing()) return t.skip(xgboostMissing());
  const ref = runXGBoost({ dir, ...data, model, predict: rows.X });
  predictions.forEach((p, i) => assert.ok(Math.abs(p - ref.prediction![i]) <= 1e-5));
});

test('gbdt train --valid stops early and reports the validation metric', async () => {
  const dir = tempDir();
  const noisy = synthetic(3, { rows: 900, numFeatures: 5, noise: 2 });
  writeFileSync(
    join(dir, 'train.csv'),
    toCsv(sliceRows(noisy, 0, 600), { y: noisy.y.subarray(0, 600) }),
  );
  writeFileSync(
    join(dir, 'valid.csv'),
    toCsv(sliceRows(noisy, 600, 900), { y: noisy.y.subarray(600) }),
  );
  const r = await runCli(
    'gbdt',
    'train',
    '--data',
    join(dir, 'train.csv'),
    '--valid',
    join(dir, 'valid.csv'),
    '--target',
    'y',
    '--params',
    '{"n_estimators":500,"eta":0.3,"early_stopping_rounds":5}',
    '--out',
    join(dir, 'm.json'),
    '--json',
  );
  assert.equal(r.code, 0, r.err);
  const summary = JSON.parse(r.out);
  assert.equal(summary.validation.metric, 'rmse');
  assert.ok(summary.trees < 100);
});

test('gbdt predict reads a model saved by XGBoost', { skip: xgboostMissing() }, async () => {
  const dir = tempDir();
  const model = join(dir, 'xgb.json');
  const params = { objective: 'binary:logistic', max_depth: 3, n_estimators: 20 };
  const labels = { ...train, y: train.y.map((v) => (v > 0 ? 1 : 0)) };
  const ref = runXGBoost({ dir, ...data, train: labels, params, model, predict: rows.X });
  writeFileSync(join(dir, 'rows.csv'), toCsv(rows));
  const out = await predictCli(model, join(dir, 'rows.csv'), '--json');
  assert.equal(out.code, 0, out.err);
  const { predictions } = JSON.parse(out.out) as { predictions: number[] };
  predictions.forEach((p, i) => assert.ok(Math.abs(p - ref.prediction![i]) <= 1e-5));
  const margins = await predictCli(model, join(dir, 'rows.csv'), '--margin');
  margins.out
    .trim()
    .split('\n')
    .map(Number)
    .forEach((m, i) => assert.ok(Math.abs(m - ref.margin![i]) <= 1e-5));
});

test('gbdt train and predict name the file, line and column of bad input', async () => {
  const dir = tempDir();
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const good = file('good.csv', 'a,b,y\n1,2,3\n2,,4\n3,1,5\n');
  const out = join(dir, 'm.json');
  const expectError = async (args: string[], ...parts: string[]) => {
    const r = await runCli(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.out}`);
    for (const part of parts)
      assert.ok(r.err.includes(part), `${JSON.stringify(r.err)} lacks ${part}`);
  };
  const bad = file('bad.csv', 'a,b,y\n1,2,3\n2,x,4\n');
  await expectError(
    ['gbdt', 'train', '--data', bad, '--target', 'y', '--out', out],
    `${bad}:3`,
    'column "b"',
    'not a number',
  );
  await expectError(
    ['gbdt', 'train', '--data', good, '--target', 'z', '--out', out],
    `${good}:1`,
    'no target column "z"',
  );
  const noTarget = file('notarget.csv', 'a,b,y\n1,2,3\n2,1,\n');
  await expectError(
    ['gbdt', 'train', '--data', noTarget, '--target', 'y', '--out', out],
    `${noTarget}:3`,
    'column "y"',
    'missing',
  );
  const badCat = file('badcat.csv', 'a,b,y\n1,2,3\n2,1.5,4\n');
  await expectError(
    ['gbdt', 'train', '--data', badCat, '--target', 'y', '--categorical', 'b', '--out', out],
    `${badCat}:3`,
    'column "b"',
    'integer code',
  );
  await expectError(
    ['gbdt', 'train', '--data', good, '--target', 'y', '--params', '{max_depth:3}', '--out', out],
    '--params',
    'not valid JSON',
  );
  await expectError(
    ['gbdt', 'train', '--data', good, '--target', 'y', '--params', '{"max_dept":3}', '--out', out],
    'field "max_dept"',
  );

  const ok = await runCli('gbdt', 'train', '--data', good, '--target', 'y', '--out', out);
  assert.equal(ok.code, 0, ok.err);
  const missingFeature = file('rows.csv', 'a,c\n1,2\n');
  await expectError(
    ['gbdt', 'predict', '--model', out, '--data', missingFeature],
    `${missingFeature}:1`,
    'missing column "b"',
  );
  await expectError(
    ['gbdt', 'predict', '--model', join(dir, 'absent.json'), '--data', good],
    'absent.json',
    'cannot read model file',
  );
});

test('gbdt --help lists the commands; train --help shows examples', async () => {
  const group = await runCli('gbdt', '--help');
  assert.equal(group.code, 0);
  for (const cmd of ['train', 'predict']) assert.ok(group.out.includes(cmd));
  const help = await runCli('gbdt', 'train', '--help');
  assert.ok(
    help.out.includes('Examples:') && help.out.includes('--objective rank:pairwise --group'),
  );
});
