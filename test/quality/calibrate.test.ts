import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Candidate } from '../../src/core/index.ts';
import { balancedOrder, calibrate, intervals } from '../../src/recommend/quality/calibrate.ts';
import { chooseBlend } from '../../src/recommend/quality/blend.ts';
import type { InnerCase } from '../../src/recommend/quality/inner.ts';
import type { Prediction, Weights } from '../../src/recommend/quality/scorers.ts';

const PORTFOLIO: Weights = { metalearner: 0, portfolio: 1, neighbors: 0 };

function prediction(
  scores: Partial<Prediction['scores']> & { portfolio: number[] },
  extra: Partial<Prediction> = {},
): Prediction {
  const n = scores.portfolio.length;
  return {
    scores: {
      metalearner: scores.metalearner ?? new Array(n).fill(0),
      portfolio: scores.portfolio,
      neighbors: scores.neighbors ?? new Array(n).fill(0),
    },
    effectSd: new Array(n).fill(0),
    levels: { metalearner: 0, average: 0, neighbors: 0 },
    outside: 0,
    neighbors: [],
    ...extra,
  };
}

function innerCase(dataset: string, truth: number[], p: Prediction): InnerCase {
  const candidates: Candidate[] = truth.map((_, i) => ({ model: `m${i}`, config: {} }));
  return { dataset, heldOut: [dataset], candidates, truth, prediction: p };
}

// Ten inner datasets, two configurations each. Predicted effects 1 (top) and 0; the top one errs
// by i points on dataset i, the other by 0. Every error weighs 1/2 of its dataset's 1/10.
const cases = Array.from({ length: 10 }, (_, k) => {
  const i = k + 1;
  return innerCase(`d${i}`, [1 + i, 0], prediction({ portfolio: [1, 0] }));
});

test('split-conformal half-width: dataset-weighted quantile with the correction over datasets', () => {
  const cal = calibrate(cases, PORTFOLIO);
  // Level 0.8 * 11 / 10 = 0.88 of 20 errors (ten 0s, then 1..10) weighing 0.05 each: the 18th
  // smallest, 8. No dataset lies outside the ranges, so the outside width is the pooled 90%
  // quantile: level min(1, 0.9 * 11 / 10) = 0.99, the 20th smallest, 10.
  assert.equal(cal.halfWidth.inside, 8);
  assert.equal(cal.halfWidth.outside, 10);
  // Predicted gap 1, true gap 1 + i: errors 1..10, median (the 5th of 10, lower middle) 5.
  assert.equal(cal.tie, 5);
  const iv = intervals(prediction({ portfolio: [3, 1] }), PORTFOLIO, cal);
  assert.deepEqual(iv[0], { mean: 3, low: -5, high: 11 });
  const out = intervals(prediction({ portfolio: [3, 1] }, { outside: 2 }), PORTFOLIO, cal);
  assert.deepEqual(out[1], { mean: 1, low: -9, high: 11 });
});

test('balanced takes the fastest of the candidates tied with the top one, then the rest by score', () => {
  const cal = calibrate(cases, PORTFOLIO); // tie margin 5
  // Scores 10, 7, 5.5, 2: the first three are within 5 of the top. log10 times 3, 2, 1, 0.
  const p = prediction({ portfolio: [10, 7, 5.5, 2] }, { logTime: [3, 2, 1, 0] });
  assert.deepEqual(balancedOrder(p, PORTFOLIO, cal), [2, 1, 0, 3]);
  // Without times, balanced is best.
  assert.deepEqual(
    balancedOrder(prediction({ portfolio: [10, 7, 5.5, 2] }), PORTFOLIO, cal),
    [0, 1, 2, 3],
  );
});

test('the blend stays on the portfolio unless the evidence is credible', () => {
  // Portfolio picks the worse of two configurations on every dataset (regret 10); the
  // meta-learner the better (regret 0): a consistent 10-point advantage, zero variance.
  const clear = Array.from({ length: 6 }, (_, k) =>
    innerCase(
      `c${k}`,
      [0, 10],
      prediction({ portfolio: [1, 0], metalearner: [0, 1], neighbors: [1, 0] }),
    ),
  );
  assert.equal(chooseBlend(clear).weights.metalearner > 0, true);
  assert.match(
    chooseBlend(clear).evidence,
    /leave-one-dataset-out over 6 datasets: meta-learner 0.00 points of regret, best-on-average 10.00/,
  );
  // Half the datasets favour each: mean difference 0, no switch.
  const mixed = Array.from({ length: 6 }, (_, k) =>
    innerCase(
      `m${k}`,
      k % 2 ? [0, 10] : [10, 0],
      prediction({ portfolio: [1, 0], metalearner: [0, 1], neighbors: [1, 0] }),
    ),
  );
  assert.deepEqual(chooseBlend(mixed).weights, PORTFOLIO);
});
