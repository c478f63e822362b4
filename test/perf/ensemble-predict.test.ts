// predictMargins (all ensembles in one pass) must give each ensemble exactly predictMargin's
// margins: the meta-learner's predictions may not move by a bit when evaluated together.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { predictMargins } from '../../src/learn/ensemble-predict.ts';
import { trainGBDT } from '../../src/learn/gbdt.ts';
import { predictMargin } from '../../src/learn/predict.ts';
import { synthetic } from '../learn/synthetic.ts';

test('predictMargins equals predictMargin of each ensemble, bit for bit, across block boundaries', () => {
  // 2,500 rows: two full blocks of 1,024 and a partial one; categorical columns and missing values.
  const train = synthetic(1, { rows: 800, numFeatures: 8, categorical: 2, missingRate: 0.1 });
  const test_ = synthetic(2, { rows: 2500, numFeatures: 8, categorical: 2, missingRate: 0.1 });
  const models = [
    trainGBDT(train, { n_estimators: 20, max_depth: 4, seed: 0, base_score: 0.3 }),
    trainGBDT(train, { n_estimators: 7, max_depth: 2, seed: 1, subsample: 0.7 }),
    trainGBDT(
      { ...train, y: train.y.map((v) => (v > 0 ? 1 : 0)) },
      { n_estimators: 10, objective: 'binary:logistic', seed: 2 },
    ),
  ];
  const together = predictMargins(models, test_.X);
  assert.equal(together.length, models.length);
  models.forEach((m, i) => {
    const alone = predictMargin(m, test_.X);
    assert.equal(together[i].length, alone.length);
    for (let r = 0; r < alone.length; r++)
      assert.ok(
        Object.is(together[i][r], alone[r]),
        `model ${i} row ${r}: ${together[i][r]} vs ${alone[r]}`,
      );
  });
  assert.deepEqual(predictMargins([], test_.X), []);
});

test('predictMargins refuses rows of the wrong width', () => {
  const train = synthetic(3, { rows: 200, numFeatures: 6 });
  const model = trainGBDT(train, { n_estimators: 3 });
  const narrow = synthetic(4, { rows: 10, numFeatures: 5 });
  assert.throws(() => predictMargins([model], narrow.X), /5 features but the model expects 6/);
});
