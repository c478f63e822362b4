import assert from 'node:assert/strict';
import { test } from 'node:test';
import { innerCases } from '../../src/recommend/quality/inner.ts';
import { builtinView } from '../support/builtin-view.ts';

const view = await builtinView('inner');

test('inner folds on more records than their bound train on a seeded sample, and still ask about every run', () => {
  const whole = innerCases(view, 'accuracy', { groups: 3 });
  // 320 runs in 3 groups: about 210 training records per fold, bounded here to 40.
  const bounded = innerCases(view, 'accuracy', { groups: 3, maxRecords: 120 });
  assert.deepEqual(
    bounded.map((c) => [c.dataset, c.heldOut, c.candidates, c.truth]),
    whole.map((c) => [c.dataset, c.heldOut, c.candidates, c.truth]),
    'the held-out questions are the same: only the training side is sampled',
  );
  assert.notDeepEqual(
    bounded.map((c) => c.prediction.scores.metalearner),
    whole.map((c) => c.prediction.scores.metalearner),
    'the bound changes what the folds were fitted on',
  );
  assert.deepEqual(
    innerCases(view, 'accuracy', { groups: 3, maxRecords: 120 }).map((c) => c.prediction),
    bounded.map((c) => c.prediction),
    'the same seed draws the same sample',
  );
});

test('held-out datasets with more configurations than their share are asked about a seeded sample of them', () => {
  const whole = innerCases(view, 'accuracy', { groups: 3 });
  // 9 datasets with 32-40 configurations each; a bound of 90 gives each 10.
  const asked = innerCases(view, 'accuracy', { groups: 3, maxQuestions: 90 });
  assert.deepEqual(
    asked.map((c) => [c.dataset, c.heldOut]),
    whole.map((c) => [c.dataset, c.heldOut]),
  );
  for (const [i, c] of asked.entries()) {
    const w = whole[i];
    assert.equal(c.candidates.length, 10, c.dataset);
    assert.equal(c.truth.length, 10);
    // Each question is one of the dataset's own runs, with its own truth and the same prediction.
    for (const [j, cand] of c.candidates.entries()) {
      const k = w.candidates.findIndex((x) => JSON.stringify(x) === JSON.stringify(cand));
      assert.ok(k >= 0, `${c.dataset}: ${JSON.stringify(cand)} is not one of its runs`);
      assert.equal(c.truth[j], w.truth[k]);
      assert.equal(c.prediction.scores.metalearner[j], w.prediction.scores.metalearner[k]);
    }
  }
  assert.deepEqual(
    innerCases(view, 'accuracy', { groups: 3, maxQuestions: 90 }).map((c) => c.candidates),
    asked.map((c) => c.candidates),
    'the same seed asks the same configurations',
  );
});
