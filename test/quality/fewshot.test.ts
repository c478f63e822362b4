import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Candidate, SearchSpace } from '../../src/core/index.ts';
import {
  expectedImprovement,
  fitResidualKernel,
  nextCandidate,
  posterior,
  type ResidualKernel,
} from '../../src/quality/continuation.ts';
import { mixtureScores } from '../../src/quality/fewshot.ts';
import type { InnerCase } from '../../src/recommend/quality/inner.ts';

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

/** An inner case whose prior is `predicted` (the meta-learner's scores alone, level 0). */
function innerCase(name: string, predicted: number[], truth: number[]): InnerCase {
  return {
    dataset: name,
    heldOut: [name],
    candidates: predicted.map((_, i) => ({ model: `m${i}`, config: {} })),
    truth,
    prediction: {
      scores: {
        metalearner: predicted,
        portfolio: predicted.map(() => 0),
        neighbors: predicted.map(() => 0),
      },
      effectSd: predicted.map(() => 0),
      levels: { metalearner: 0, average: 0, neighbors: 0 },
      outside: 0,
      neighbors: [],
    },
  };
}
const ML_ONLY = { metalearner: 1, portfolio: 0, neighbors: 0 };
const totalVariance = (k: ResidualKernel) => k.offset + k.family + k.model + k.config + k.noise;

test('residual kernel: fitted on the upper half by prediction, not on the failures below it', () => {
  // Ten candidates per dataset predicted 90..81; the five predicted best err by +-1 point, the
  // five below by +-30 (configurations that diverged). Fitted on all ten, the residuals' variance
  // would be about 450; the continuation chooses among the upper half, whose variance is 1.
  const predicted = Array.from({ length: 10 }, (_, i) => 90 - i);
  const cases = ['a', 'b', 'c', 'd'].map((name, d) =>
    innerCase(
      name,
      predicted,
      predicted.map((p, i) => p + (i < 5 ? 1 : 30) * ((i + d) % 2 ? 1 : -1)),
    ),
  );
  const k = fitResidualKernel(cases, ML_ONLY, 'metalearner', EMPTY, NO_CARDS);
  assert.ok(totalVariance(k) > 0.2 && totalVariance(k) < 5, `total variance ${totalVariance(k)}`);
});

test('residual kernel: datasets with one candidate or none still give a finite kernel', () => {
  const k = fitResidualKernel(
    [innerCase('one', [50], [52]), innerCase('none', [], []), innerCase('two', [50, 40], [49, 44])],
    ML_ONLY,
    'metalearner',
    EMPTY,
    NO_CARDS,
  );
  for (const v of Object.values(k)) assert.ok(Number.isFinite(v) && v > 0, JSON.stringify(k));
});
