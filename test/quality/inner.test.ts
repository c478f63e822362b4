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
