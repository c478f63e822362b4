import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Candidate, SearchSpace } from '../../src/core/index.ts';
import {
  expectedImprovement,
  nextCandidate,
  posterior,
  type ResidualKernel,
} from '../../src/quality/continuation.ts';
import { mixtureScores } from '../../src/quality/fewshot.ts';

const EMPTY: SearchSpace = { parameters: [] };
const NO_CARDS = new Map();

test('GP posterior with a shared offset: hand-computed mean and standard deviation', () => {
  // k = offset 1 + noise 1 on the diagonal. Observing candidate 0 two points above its prior:
  // mean_1 = prior_1 + k10 / k00 * 2 = prior_1 + 1 / 2 * 2; var_1 = 1 - k10^2 / k00 = 1 / 2.
  const kernel: ResidualKernel = { offset: 1, family: 0, model: 0, config: 0, noise: 1, length: 1 };
  const cands: Candidate[] = [
    { model: 'a', config: {} },
    { model: 'b', config: {} },
  ];
  const post = posterior([50, 60], cands, [{ index: 0, value: 52 }], kernel, EMPTY, NO_CARDS);
  assert.ok(Math.abs(post.mean[1] - 61) < 1e-12);
  assert.ok(Math.abs(post.sd[1] - Math.sqrt(0.5)) < 1e-12);
  // Candidate 0 itself: 50 + 1/2 * 2 (noise keeps it from the observed 52).
  assert.ok(Math.abs(post.mean[0] - 51) < 1e-12);
});

test('the same model shares its residual, another model does not', () => {
  // offset 0, model 4, noise 1: observing a (model x) 3 points low moves its sibling by
  // 4 / 5 * -3 = -2.4 and the other model not at all.
  const kernel: ResidualKernel = { offset: 0, family: 0, model: 4, config: 0, noise: 1, length: 1 };
  const cands: Candidate[] = [
    { model: 'x', config: {} },
    { model: 'x', config: {} },
    { model: 'y', config: {} },
  ];
  const post = posterior([10, 10, 9], cands, [{ index: 0, value: 7 }], kernel, EMPTY, NO_CARDS);
  assert.ok(Math.abs(post.mean[1] - 7.6) < 1e-12);
  assert.ok(Math.abs(post.mean[2] - 9) < 1e-12);
  // Expected improvement over 7 now favours the other model (9 vs 7.6, equal spread).
  assert.equal(
    nextCandidate([10, 10, 9], cands, [{ index: 0, value: 7 }], kernel, EMPTY, NO_CARDS),
    2,
  );
});

test('expected improvement: phi(0) at the incumbent, the gain when certain', () => {
  assert.ok(Math.abs(expectedImprovement(0, 1, 0) - 0.3989422804) < 1e-9);
  assert.equal(expectedImprovement(5, 0, 3), 2);
});

test('mixture: past datasets weighted by the likelihood of what was observed', () => {
  // Prior [0, 0]; past datasets [10, 0] and [0, 10]; observed candidate 0 at 10.
  // Misfits 100, 0, 100; s^2 = median 100 per observation; weights e^-0.5, 1, e^-0.5.
  const s = mixtureScores(
    [0, 0],
    [
      [10, 0],
      [0, 10],
    ],
    [{ index: 0, value: 10 }],
  );
  const e = Math.exp(-0.5);
  assert.ok(Math.abs(s[0] - 10 / (1 + 2 * e)) < 1e-12);
  assert.ok(Math.abs(s[1] - (10 * e) / (1 + 2 * e)) < 1e-12);
  // Nothing observed: the prior.
  assert.deepEqual(mixtureScores([3, 4], [[1, 2]], []), [3, 4]);
});
