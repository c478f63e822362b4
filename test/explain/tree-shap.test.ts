import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.ts';
import { MetallmixError } from '../../src/core/errors.ts';
import { treeShap, treeShapInteractions } from '../../src/explain/index.ts';
import { leafPaths, pathCosts, tablePaysOff } from '../../src/explain/leaf-table.ts';
import { prepareModel } from '../../src/explain/prepared-model.ts';
import { trainGBDT } from '../../src/learn/gbdt.ts';
import { predictMargin } from '../../src/learn/predict.ts';
import { synthetic } from '../learn/synthetic.ts';
import {
  bruteForceInteractions,
  bruteForceShap,
  buildTree,
  ensemble,
  marginOf,
  randomRow,
  type NodeSpec,
  randomTree,
} from './hand-trees.ts';

function close(actual: number, expected: number, tol: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} vs ${expected}`,
  );
}

// root: x0 < 0.5 (cover 10) -> [x1 < 0.5 (cover 6) -> leaf 1 (cover 2) | leaf 3 (cover 4)] | leaf 5 (cover 4)
const depth2 = buildTree({
  feature: 0,
  threshold: 0.5,
  cover: 10,
  left: {
    feature: 1,
    threshold: 0.5,
    cover: 6,
    left: { value: 1, cover: 2 },
    right: { value: 3, cover: 4 },
  },
  right: { value: 5, cover: 4 },
});

test('treeShap: hand-computed values of a depth-2 tree', () => {
  // E[f] = 3.4; v({x0}) = 14/6, v({x1}) = 2.6, f(0,0) = 1 -> phi0 = -4/3, phi1 = -16/15.
  const model = ensemble([depth2], 2, { baseScore: 0.5 });
  const { bias, values } = treeShap(model, new Float64Array([0, 0]), 1);
  close(bias, 0.5 + 3.4, 1e-12, 'bias');
  close(values[0], -4 / 3, 1e-12, 'phi0');
  close(values[1], -16 / 15, 1e-12, 'phi1');
  // Interactions: phi01 = (v01 - v0 - v1 + v)/2 = -4/15; diagonals are the rest.
  const I = treeShapInteractions(model, new Float64Array([0, 0]), 1);
  const expected = [-16 / 15, -4 / 15, 0, -4 / 15, -4 / 5, 0, 0, 0, 3.9];
  expected.forEach((e, k) => close(I[k], e, 1e-12, `interaction ${k}`));
});

test('treeShap: binary:logistic bias is the logit of base_score', () => {
  const model = ensemble([depth2], 2, { baseScore: 0.2, objective: 'binary:logistic' });
  close(treeShap(model, new Float64Array([1, 1]), 1).bias, Math.log(0.25) + 3.4, 1e-12, 'bias');
});

test('treeShap and interactions equal brute-force Shapley values on random trees', () => {
  const rng = new Rng(11);
  const F = 4;
  for (let trial = 0; trial < 12; trial++) {
    const cat = trial % 2 === 0 ? 2 : -1;
    const trees = Array.from({ length: 3 }, () => randomTree(rng, 2 + (trial % 4), F, cat));
    const model = ensemble(trees, F, { baseScore: 0.1 });
    const rows = Array.from({ length: 6 }, () => randomRow(rng, F, cat));
    const X = Float64Array.from(rows.flat());
    const { bias, values } = treeShap(model, X, rows.length);
    const I = treeShapInteractions(model, X, rows.length);
    const W = F + 1;
    rows.forEach((x, r) => {
      const expected = bruteForceShap(model, x);
      expected.forEach((e, f) =>
        close(values[r * F + f], e, 1e-9, `trial ${trial} row ${r} f${f}`),
      );
      const sum = values.subarray(r * F, (r + 1) * F).reduce((a, b) => a + b, bias);
      close(sum, marginOf(model, x), 1e-9, 'additivity');
      const inter = bruteForceInteractions(model, x);
      for (let i = 0; i < F; i++)
        for (let j = 0; j < F; j++)
          close(
            I[r * W * W + i * W + j],
            inter[i][j],
            1e-9,
            `trial ${trial} row ${r} I[${i}][${j}]`,
          );
      close(I[r * W * W + F * W + F], bias, 1e-12, 'interaction bias');
    });
  }
});

test('treeShap: the tabulated batch method and the per-row walk give the same values', () => {
  const rng = new Rng(5);
  const F = 3;
  const trees = Array.from({ length: 8 }, (_, t) => randomTree(rng, 2 + (t % 4), F, 1));
  const model = ensemble(trees, F);
  const rows = Array.from({ length: 300 }, () => randomRow(rng, F, 1));
  assert.ok(prepareModel(model).trees.every((t) => tablePaysOff(leafPaths(t), rows.length)));
  assert.ok(prepareModel(model).trees.every((t) => !tablePaysOff(leafPaths(t), 1)));
  // The decision is made from the costs alone; they are leafPaths' own.
  for (const t of prepareModel(model).trees) {
    const { entries, tableCost, walkCostPerRow } = leafPaths(t);
    assert.deepEqual(pathCosts(t), { entries, tableCost, walkCostPerRow });
  }
  const batch = treeShap(model, Float64Array.from(rows.flat()), rows.length).values;
  rows.forEach((x, r) => {
    const single = treeShap(model, Float64Array.from(x), 1).values;
    for (let f = 0; f < F; f++) close(batch[r * F + f], single[f], 1e-12, `row ${r} f${f}`);
    if (r < 20)
      bruteForceShap(model, x).forEach((e, f) => close(single[f], e, 1e-9, `row ${r} f${f}`));
  });
});

test('additivity on a model of our own trainer (missing values, a categorical feature)', () => {
  const data = synthetic(3, { rows: 400, numFeatures: 8, missingRate: 0.1, categorical: 1 });
  const model = trainGBDT(
    { X: data.X, y: data.y, featureNames: data.featureNames, featureTypes: data.featureTypes },
    { n_estimators: 30, max_depth: 5 },
  );
  const { data: X, numRows, numFeatures: F } = data.X;
  const margin = predictMargin(model, data.X);
  const { bias, values } = treeShap(model, X, numRows);
  for (let r = 0; r < numRows; r++) {
    const sum = values.subarray(r * F, (r + 1) * F).reduce((a, b) => a + b, bias);
    close(sum, margin[r], 1e-6, `row ${r}`);
  }
  const W = F + 1;
  const I = treeShapInteractions(model, X.subarray(0, 5 * F), 5);
  for (let r = 0; r < 5; r++)
    for (let i = 0; i < F; i++) {
      const rowSum = I.subarray(r * W * W + i * W, r * W * W + i * W + W).reduce((a, b) => a + b);
      close(rowSum, values[r * F + i], 1e-9, `row ${r} interaction row ${i}`);
      close(
        I[r * W * W + i * W + ((i + 1) % F)],
        I[r * W * W + ((i + 1) % F) * W + i],
        1e-9,
        'symmetry',
      );
    }
});

test('treeShap: a deep tree with 40 distinct features on one path (no table, long path)', () => {
  const F = 40;
  const chain = (d: number, cover: number): NodeSpec =>
    d === F
      ? { value: d, cover }
      : {
          feature: d,
          threshold: 0,
          cover,
          left: { value: -d, cover: cover / 4 },
          right: chain(d + 1, (cover * 3) / 4),
        };
  const model = ensemble([buildTree(chain(0, 1e6))], F);
  const rng = new Rng(2);
  const rows = Array.from({ length: 400 }, () => randomRow(rng, F).map((x) => x + 0.9));
  const X = Float64Array.from(rows.flat());
  const { bias, values } = treeShap(model, X, rows.length);
  const margin = predictMargin(model, { data: X, numRows: rows.length, numFeatures: F });
  rows.forEach((_, r) => {
    const sum = values.subarray(r * F, (r + 1) * F).reduce((a, b) => a + b, bias);
    close(sum, margin[r], 1e-7, `row ${r}`); // subset weights span 1/C(40, k): some rounding
  });
});

test('treeShap: a model without trees gives the base margin and zero values', () => {
  const model = ensemble([], 3, { baseScore: 0.7 });
  const { bias, values } = treeShap(model, new Float64Array(6), 2);
  assert.equal(bias, 0.7);
  assert.deepEqual([...values], [0, 0, 0, 0, 0, 0]);
});

test('treeShap: bad input sizes and bad trees are MetallmixErrors naming the problem', () => {
  const model = ensemble([depth2], 2);
  assert.throws(
    () => treeShap(model, new Float64Array(5), 3),
    (e: unknown) =>
      e instanceof MetallmixError && /3 rows x 2 features = 6 values, got 5/.test(e.message),
  );
  const narrow = ensemble([depth2], 1);
  assert.throws(
    () => treeShap(narrow, new Float64Array(1), 1),
    (e: unknown) => e instanceof MetallmixError && /tree 0 node 1: split feature 1/.test(e.message),
  );
});
