// Generated regression / classification / ranking data with missing values and categorical
// features, shared by the reference tests and the benchmark.

import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.ts';
import type { Matrix } from '../../src/learn/matrix.ts';
import type { FeatureType } from '../../src/learn/tree-model.ts';

export interface Synthetic {
  X: Matrix;
  y: Float64Array;
  featureNames: string[];
  featureTypes: FeatureType[];
}

export interface SyntheticOptions {
  rows: number;
  numFeatures?: number;
  missingRate?: number;
  /** Number of categorical columns (placed last), each with `numCategories` codes. */
  categorical?: number;
  numCategories?: number;
  task?: 'regression' | 'binary';
  noise?: number;
}

/** A nonlinear target with interactions, so trees of depth 6 have something to learn. */
export function synthetic(seed: number, o: SyntheticOptions): Synthetic {
  const rng = new Rng(seed);
  const f = o.numFeatures ?? 20; // at least 5: the target reads x0..x4
  const nCat = o.categorical ?? 0;
  const k = o.numCategories ?? 8;
  const catEffect = Array.from({ length: nCat * k }, () => rng.normal());
  const data = new Float64Array(o.rows * f);
  const y = new Float64Array(o.rows);
  for (let r = 0; r < o.rows; r++) {
    const row = data.subarray(r * f, (r + 1) * f);
    for (let j = 0; j < f; j++) row[j] = j >= f - nCat ? rng.int(k) : rng.normal();
    let t =
      2 * Math.sin(row[0]) + row[1] * row[2] + (row[3] > 0.5 ? 1.5 : -0.5) + 0.5 * row[4] ** 2;
    for (let j = 5; j < Math.min(f - nCat, 10); j++) t += 0.3 * row[j];
    for (let c = 0; c < nCat; c++) t += catEffect[c * k + row[f - nCat + c]];
    t += (o.noise ?? 0.5) * rng.normal();
    y[r] = o.task === 'binary' ? (rng.next() < 1 / (1 + Math.exp(-t)) ? 1 : 0) : t;
    // Missing after the target is computed: the model must learn where missing rows belong.
    if (o.missingRate) for (let j = 0; j < f; j++) if (rng.next() < o.missingRate) row[j] = NaN;
  }
  return {
    X: { data, numRows: o.rows, numFeatures: f },
    y,
    featureNames: Array.from({ length: f }, (_, j) => (j >= f - nCat ? `cat${j}` : `x${j}`)),
    featureTypes: Array.from({ length: f }, (_, j) => (j >= f - nCat ? 'c' : 'q')),
  };
}

/** Rows [from, to) of a data set. */
export function sliceRows(s: Synthetic, from: number, to: number): Synthetic {
  const f = s.X.numFeatures;
  return {
    ...s,
    X: { data: s.X.data.slice(from * f, to * f), numRows: to - from, numFeatures: f },
    y: s.y.slice(from, to),
  };
}

export function rmse(pred: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (pred[i] - y[i]) ** 2;
  return Math.sqrt(s / y.length);
}

export function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
