import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { trainGBDT } from '../../src/learn/gbdt.ts';
import { predict, predictMargin } from '../../src/learn/predict.ts';
import { saveModelFile, stringifyXGBoostJson } from '../../src/learn/xgboost-json.ts';
import { meanNdcg, groupsFromIds } from '../../src/learn/objective.ts';
import { MetallmixError } from '../../src/core/errors.ts';
import type { Matrix } from '../../src/learn/matrix.ts';
import { runXGBoost, tempDir, xgboostMissing, type ReferenceRun } from './xgb-reference.ts';
import { maxAbsDiff, rmse, sliceRows, synthetic, type Synthetic } from './synthetic.ts';

const skip = xgboostMissing();

/** XGBoost trained on `train` with `params` (in a fresh temp dir), predicting `X`. */
function xgboostTrained(
  data: Synthetic,
  train: ReferenceRun['train'],
  params: Record<string, unknown>,
  X: Matrix,
) {
  const dir = tempDir();
  return runXGBoost({ dir, ...data, train, params, model: join(dir, 'x.json'), predict: X });
}

function logloss(p: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s -= y[i] ? Math.log(p[i]) : Math.log(1 - p[i]);
  return s / y.length;
}

/** Trains ours, saves it, and returns XGBoost's predictions from our file next to ours. */
function roundTrip(model: ReturnType<typeof trainGBDT>, data: Synthetic, X = data.X) {
  const dir = tempDir();
  const file = join(dir, 'ours.json');
  saveModelFile(file, model);
  const ref = runXGBoost({ dir, ...data, model: file, predict: X });
  return {
    ours: predict(model, X),
    xgb: ref.prediction!,
    oursMargin: predictMargin(model, X),
    xgbMargin: ref.margin!,
  };
}

// With few distinct values per feature both libraries cut at every distinct value, so the
// same greedy algorithm must grow the same trees: predictions agree to float precision.
const base = { rows: 600, numFeatures: 6 };
const exactCases: [string, Parameters<typeof synthetic>[1], Record<string, unknown>, boolean?][] = [
  ['numerical', base, {}],
  ['missing values', { ...base, missingRate: 0.2 }, {}],
  [
    'lambda, alpha, gamma, min_child_weight',
    { ...base, missingRate: 0.2 },
    { lambda: 3, alpha: 0.5, gamma: 0.2, min_child_weight: 5 },
  ],
  ['one-vs-rest categorical', { ...base, missingRate: 0.1, categorical: 2, numCategories: 3 }, {}],
  ['partitioned categorical', { ...base, missingRate: 0.1, categorical: 2, numCategories: 9 }, {}],
  [
    'binary:logistic',
    { ...base, missingRate: 0.1, task: 'binary' },
    { objective: 'binary:logistic' },
  ],
  // Row weights scale gradients and hessians (and so min_child_weight's meaning).
  ['row weights', { ...base, missingRate: 0.1 }, { min_child_weight: 3 }, true],
];
for (const [name, shape, extra, withWeights] of exactCases) {
  test(`grows the same trees as XGBoost 1.7 hist when cuts coincide: ${name}`, { skip }, () => {
    const data: Synthetic & { weights?: Float64Array } = synthetic(5, shape);
    if (withWeights)
      data.weights = Float64Array.from({ length: data.X.numRows }, (_, i) => 0.5 + (i % 4));
    const F = data.X.numFeatures;
    for (let i = 0; i < data.X.data.length; i++)
      if (data.featureTypes[i % F] === 'q') data.X.data[i] = Math.round(data.X.data[i] * 10) / 10;
    const params = { n_estimators: 20, max_depth: 4, eta: 0.3, ...extra };
    const ours = trainGBDT(data, params);
    const ref = xgboostTrained(data, data, params, data.X);
    assert.ok(maxAbsDiff(predictMargin(ours, data.X), ref.margin!) <= 1e-5);
  });
}

test(
  'held-out RMSE within 2% of XGBoost on data with missing values and categorical features; the saved model predicts the same in XGBoost',
  { skip },
  () => {
    const data = synthetic(21, {
      rows: 5000,
      numFeatures: 12,
      missingRate: 0.1,
      categorical: 3,
      numCategories: 10,
    });
    const train = sliceRows(data, 0, 3000);
    const held = sliceRows(data, 3000, 5000);
    // Sampling draws differ between the libraries, so the sampled case averages two seeds.
    for (const [extra, seeds] of [
      [{}, [0]],
      [{ subsample: 0.8, colsample_bytree: 0.8 }, [1, 2]],
    ] as const) {
      let ours = 0;
      let theirs = 0;
      for (const seed of seeds) {
        const params = { n_estimators: 60, max_depth: 6, eta: 0.1, seed, ...extra };
        const model = trainGBDT(train, params);
        const ref = xgboostTrained(data, train, params, held.X);
        ours += rmse(predict(model, held.X), held.y) / seeds.length;
        theirs += rmse(ref.prediction!, held.y) / seeds.length;
        const rt = roundTrip(model, data, held.X);
        assert.ok(maxAbsDiff(rt.ours, rt.xgb) <= 1e-5);
      }
      assert.ok(
        ours <= 1.02 * theirs,
        `RMSE ours ${ours} vs XGBoost ${theirs} (${JSON.stringify(extra)})`,
      );
    }
  },
);

test(
  'binary:logistic: held-out log loss within 2% of XGBoost; XGBoost reads our model',
  { skip },
  () => {
    const data = synthetic(8, {
      rows: 4000,
      numFeatures: 10,
      missingRate: 0.1,
      categorical: 1,
      task: 'binary',
    });
    const train = sliceRows(data, 0, 2500);
    const held = sliceRows(data, 2500, 4000);
    const params = { objective: 'binary:logistic', n_estimators: 60, max_depth: 4, eta: 0.1 };
    const model = trainGBDT(train, params);
    const ref = xgboostTrained(data, train, params, held.X);
    const ours = logloss(predict(model, held.X), held.y);
    const theirs = logloss(ref.prediction!, held.y);
    assert.ok(ours <= 1.02 * theirs, `log loss ours ${ours} vs XGBoost ${theirs}`);
    const rt = roundTrip(model, data, held.X);
    assert.ok(maxAbsDiff(rt.ours, rt.xgb) <= 1e-5);
    assert.ok(maxAbsDiff(rt.oursMargin, rt.xgbMargin) <= 1e-5);
  },
);

test('rank:pairwise orders rows within query groups about as well as XGBoost', { skip }, () => {
  const groupsOf = 40;
  const data = synthetic(13, { rows: 4000, numFeatures: 8, missingRate: 0.05 });
  // Relevance 0..4 from the latent target; one query group per 40 consecutive rows.
  data.y = data.y.map((v) => Math.max(0, Math.min(4, Math.round(v + 2))));
  const groupIds = Int32Array.from({ length: 4000 }, (_, i) => Math.floor(i / groupsOf));
  const train = sliceRows(data, 0, 2800);
  const held = sliceRows(data, 2800, 4000);
  const params = { objective: 'rank:pairwise', n_estimators: 50, max_depth: 4, eta: 0.1 };
  const model = trainGBDT({ ...train, groups: groupIds.subarray(0, 2800) }, params);
  const sizes = Array.from({ length: 70 }, () => groupsOf);
  const ref = xgboostTrained(data, { ...train, groups: sizes }, params, held.X);
  const heldGroups = groupsFromIds(groupIds.subarray(0, 1200));
  const ours = meanNdcg(predict(model, held.X), held.y, heldGroups);
  const theirs = meanNdcg(ref.prediction!, held.y, heldGroups);
  assert.ok(ours >= 0.98 * theirs, `NDCG ours ${ours} vs XGBoost ${theirs}`);
  const rt = roundTrip(model, data, held.X);
  assert.ok(maxAbsDiff(rt.ours, rt.xgb) <= 1e-5);
});

test('the same seed gives the same model; another seed with sampling gives another', () => {
  const data = synthetic(4, { rows: 800, numFeatures: 6, missingRate: 0.1, categorical: 1 });
  const params = { n_estimators: 15, subsample: 0.7, colsample_bytree: 0.5, seed: 42 };
  const a = stringifyXGBoostJson(trainGBDT(data, params));
  assert.equal(stringifyXGBoostJson(trainGBDT(data, params)), a);
  assert.notEqual(stringifyXGBoostJson(trainGBDT(data, { ...params, seed: 43 })), a);
});

test('every node carries cover (sum of hessians) and internal nodes a positive gain', () => {
  const data = synthetic(6, { rows: 700, numFeatures: 5, missingRate: 0.1, categorical: 1 });
  const model = trainGBDT(data, { n_estimators: 5, max_depth: 3, subsample: 0.5 });
  for (const tree of model.trees) {
    assert.ok(Math.abs(tree.cover[0] - 700 * 0.5) < 60, 'root cover is the sampled row count');
    for (let i = 0; i < tree.left.length; i++) {
      if (tree.left[i] === -1) {
        assert.equal(tree.gain[i], 0);
        continue;
      }
      assert.ok(tree.gain[i] > 0);
      assert.ok(
        Math.abs(tree.cover[tree.left[i]] + tree.cover[tree.right[i]] - tree.cover[i]) < 1e-3,
      );
    }
  }
});

test('early stopping keeps the rounds up to the best validation score', () => {
  const data = synthetic(9, { rows: 1500, numFeatures: 6, noise: 2 });
  const train = sliceRows(data, 0, 1000);
  const valid = sliceRows(data, 1000, 1500);
  const losses: number[] = [];
  const model = trainGBDT(
    train,
    { n_estimators: 500, eta: 0.3, early_stopping_rounds: 10 },
    {
      valid,
      onRound: (_, score) => losses.push(score!.value),
    },
  );
  const best = losses.indexOf(Math.min(...losses));
  assert.ok(losses.length < 500, 'stopped early');
  assert.equal(losses.length, best + 11);
  assert.equal(model.trees.length, best + 1);
  assert.ok(Math.abs(rmse(predict(model, valid.X), valid.y) - losses[best]) < 1e-9);
});

test('parameters: XGBoost aliases are accepted; unknown or invalid ones name the field', () => {
  const data = synthetic(2, { rows: 200, numFeatures: 5 });
  const a = trainGBDT(data, { learning_rate: 0.2, reg_lambda: 2, n_estimators: 3 });
  const b = trainGBDT(data, { eta: 0.2, lambda: 2, n_estimators: 3 });
  assert.equal(stringifyXGBoostJson(a), stringifyXGBoostJson(b));
  const isError = (field: string) => (e: unknown) =>
    e instanceof MetallmixError && e.message.includes(`"${field}"`);
  assert.throws(() => trainGBDT(data, { max_dept: 3 }), isError('max_dept'));
  assert.throws(() => trainGBDT(data, { subsample: 1.5 }), isError('subsample'));
  assert.throws(
    () => trainGBDT(data, { early_stopping_rounds: 5 }),
    isError('early_stopping_rounds'),
  );
  assert.throws(() => trainGBDT(data, { eta: 0.1, learning_rate: 0.2 }), isError('learning_rate'));
  assert.throws(
    () => trainGBDT(data, { objective: 'binary:logistic' }),
    /targets in \[0, 1\]; row 1/,
  );
  assert.throws(() => trainGBDT(data, { objective: 'rank:pairwise' }), /query group/);
});
