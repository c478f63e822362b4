import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { loadModelFile, parseLenientJson, parseXGBoostJson } from '../../src/learn/xgboost-json.ts';
import { predict, predictMargin } from '../../src/learn/predict.ts';
import { MetallmixError } from '../../src/core/errors.ts';
import { runXGBoost, tempDir, xgboostMissing } from './xgb-reference.ts';
import { maxAbsDiff, sliceRows, synthetic } from './synthetic.ts';

const skip = xgboostMissing();

for (const objective of ['reg:squarederror', 'binary:logistic'] as const) {
  test(
    `an XGBoost 1.7 ${objective} model with missing values and a categorical feature predicts the same here`,
    { skip },
    () => {
      const data = synthetic(7, {
        rows: 1500,
        numFeatures: 8,
        missingRate: 0.15,
        categorical: 2,
        numCategories: 9,
        task: objective === 'binary:logistic' ? 'binary' : 'regression',
      });
      const train = sliceRows(data, 0, 1000);
      const held = sliceRows(data, 1000, 1500);
      const dir = tempDir();
      const model = join(dir, 'm.json');
      const params = { objective, max_depth: 4, eta: 0.3, n_estimators: 30, max_cat_to_onehot: 1 };
      const ref = runXGBoost({ dir, ...data, train, params, model, predict: held.X });
      const ours = loadModelFile(model);
      assert.equal(ours.trees.length, 30);
      assert.deepEqual(ours.featureTypes.slice(-2), ['c', 'c']);
      assert.ok(
        ours.trees.some((t) => t.categories.size > 0),
        'the model uses categorical splits',
      );
      assert.ok(maxAbsDiff(predictMargin(ours, held.X), ref.margin!) <= 1e-5);
      assert.ok(maxAbsDiff(predict(ours, held.X), ref.prediction!) <= 1e-5);
    },
  );
}

test(
  'base_score of a binary:logistic model is a probability; its margin is the logit',
  { skip },
  () => {
    const data = synthetic(3, { rows: 400, numFeatures: 4, task: 'binary' });
    const dir = tempDir();
    const model = join(dir, 'm.json');
    const params = { objective: 'binary:logistic', base_score: 0.8, n_estimators: 3, max_depth: 2 };
    const ref = runXGBoost({ dir, ...data, train: data, params, model, predict: data.X });
    const ours = loadModelFile(model);
    assert.equal(ours.baseScore, 0.8);
    assert.ok(maxAbsDiff(predict(ours, data.X), ref.prediction!) <= 1e-5);
  },
);

test('NaN tokens written by XGBoost parse as numbers', () => {
  const v = parseLenientJson('{"a": [NaN, -Infinity, 1.5], "s": "NaN"}') as {
    a: number[];
    s: string;
  };
  assert.ok(Number.isNaN(v.a[0]));
  assert.equal(v.a[1], -Infinity);
  assert.equal(v.s, 'NaN');
});

test('bad model files fail with the file and field named', () => {
  const dir = tempDir();
  const file = join(dir, 'bad.json');
  writeFileSync(file, '{"learner": ');
  assert.throws(
    () => loadModelFile(file),
    (e: unknown) => e instanceof MetallmixError && e.message.includes(file),
  );
  assert.throws(() => loadModelFile(join(dir, 'absent.json')), /cannot read model file/);
  const json = {
    learner: {
      gradient_booster: { name: 'gbtree', model: { trees: [] } },
      learner_model_param: { base_score: '5E-1', num_feature: '2' },
      objective: { name: 'multi:softmax' },
    },
  };
  assert.throws(
    () => parseXGBoostJson(json, 'm.json'),
    (e: unknown) =>
      e instanceof MetallmixError &&
      e.message.startsWith('m.json') &&
      e.message.includes('objective.name') &&
      e.message.includes('unsupported objective'),
  );
  const tree = {
    base_weights: [0, 1, 2],
    default_left: [0, 0, 0],
    left_children: [1, -1, -1],
    right_children: [2, -1, -1],
    loss_changes: [1, 0, 0],
    split_conditions: [0.5, 1, 2],
    split_indices: [5, 0, 0],
    sum_hessian: [2, 1, 1],
  };
  json.learner.objective.name = 'reg:squarederror';
  (json.learner.gradient_booster.model.trees as unknown[]).push(tree);
  assert.throws(
    () => parseXGBoostJson(json, 'm.json'),
    /trees\.0\.split_indices\.0.*feature 5 outside 0\.\.1/,
  );
});
