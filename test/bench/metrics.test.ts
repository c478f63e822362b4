import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  averageRanks,
  hitAtK,
  median,
  ndcgAtK,
  regret,
  spearman,
} from '../../src/bench/metrics.ts';

// Hand-computed case: values (points) of 4 configurations, a method's order best-first.
const values = [90, 80, 85, 70];
const order = [2, 0, 1, 3];

test('regret and hit@k on a hand-computed case', () => {
  assert.equal(regret(values, 2), 5);
  assert.equal(regret(values, 0), 0);
  assert.equal(hitAtK(values, order, 1), false);
  assert.equal(hitAtK(values, order, 2), true);
  assert.equal(hitAtK([1, 1, 0], [1, 2, 0], 1), true, 'a tie with the best is a hit');
});

test('NDCG@k on a hand-computed case', () => {
  // rel = (v-70)/20 -> [1, .5, .75, 0]; order 2,0,1,3: DCG@3 = .75/1 + 1/log2(3) + .5/2
  // ideal 0,2,1: 1 + .75/log2(3) + .5/2
  const dcg = 0.75 + 1 / Math.log2(3) + 0.25;
  const idcg = 1 + 0.75 / Math.log2(3) + 0.25;
  assert.ok(Math.abs(ndcgAtK(values, order, 3) - dcg / idcg) < 1e-12);
  assert.equal(ndcgAtK(values, [0, 2, 1, 3], 4), 1);
  assert.equal(ndcgAtK([5, 5], [1, 0], 2), 1);
});

test('Spearman with ties on a hand-computed case', () => {
  assert.deepEqual(averageRanks([10, 20, 20, 5]), [2, 3.5, 3.5, 1]);
  assert.ok(Math.abs(spearman([1, 2, 3, 4], [10, 20, 30, 40]) - 1) < 1e-12);
  assert.ok(Math.abs(spearman([1, 2, 3, 4], [4, 3, 2, 1]) + 1) < 1e-12);
  // ranks a = [1,2,3,4], b = [1,3,2,4]: d^2 sum = 2 -> rho = 1 - 6*2/(4*15) = 0.8
  assert.ok(Math.abs(spearman([1, 2, 3, 4], [1, 3, 2, 4]) - 0.8) < 1e-12);
  assert.equal(spearman([1, 1, 1], [1, 2, 3]), 0);
});

test('median', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
});
