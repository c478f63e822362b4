// Exact path-dependent TreeSHAP values and interaction values of a tree ensemble's margin.
// Our values equal XGBoost's `pred_contribs` / `pred_interactions` up to float32 rounding
// (XGBoost computes in float32, we in float64).

import { MetallmixError } from '../core/errors.ts';
import type { TreeEnsemble } from '../learn/tree-model.ts';
import { LeafTable, leafPaths, pathCosts, tablePaysOff } from './leaf-table.ts';
import { ShapWalker } from './path-walk.ts';
import { prepareModel, type PreparedModel } from './prepared-model.ts';

export interface ShapValues {
  /** Expected margin over the training data (base margin + cover-weighted mean of every tree). */
  bias: number;
  /** Row-major rows x features; bias + the row's values = its margin prediction. */
  values: Float64Array;
}

function checkInput(model: PreparedModel, X: Float64Array, numRows: number): void {
  if (!Number.isInteger(numRows) || numRows < 0 || X.length !== numRows * model.numFeatures)
    throw new MetallmixError(
      `SHAP input: expected ${numRows} rows x ${model.numFeatures} features = ${numRows * model.numFeatures} values, got ${X.length}`,
    );
}

/** X with values rounded to float32: splits compare in float32, as XGBoost's do. */
function float32Rows(X: Float64Array): Float64Array {
  const out = new Float64Array(X.length);
  for (let i = 0; i < X.length; i++) out[i] = Math.fround(X[i]);
  return out;
}

/**
 * Exact path-dependent SHAP values of the model's margin for each row of `X` (row-major,
 * numRows x features, NaN = missing): XGBoost's `pred_contribs` without its last (bias) column.
 * Works tree by tree; for large batches a tree's per-leaf contributions are tabulated first.
 */
export function treeShap(model: TreeEnsemble, X: Float64Array, numRows: number): ShapValues {
  const m = prepareModel(model);
  checkInput(m, X, numRows);
  const F = m.numFeatures;
  const rows = float32Rows(X);
  const values = new Float64Array(numRows * F);
  const walker = new ShapWalker(m.pathSize);
  for (const tree of m.trees) {
    const table = tablePaysOff(pathCosts(tree), numRows)
      ? new LeafTable(tree, leafPaths(tree))
      : undefined;
    for (let r = 0; r < numRows; r++) {
      if (table) table.add(rows, r * F, values, r * F);
      else walker.run(tree, rows, r * F, values, r * F, 0, -1);
    }
  }
  return { bias: m.bias, values };
}

/**
 * SHAP interaction values, laid out as XGBoost's `pred_interactions`: rows x (F+1) x (F+1),
 * row-major, where index F is the bias. Entry [i][j] (i != j) is half the interaction of features
 * i and j; [i][i] is feature i's main effect; [F][F] is the bias; the rest of the bias row and
 * column is 0. Row i sums to SHAP value i, and all of a row's entries to its margin.
 */
export function treeShapInteractions(
  model: TreeEnsemble,
  X: Float64Array,
  numRows: number,
): Float64Array {
  const m = prepareModel(model);
  checkInput(m, X, numRows);
  const F = m.numFeatures;
  const W = F + 1;
  const rows = float32Rows(X);
  const out = new Float64Array(numRows * W * W);
  const walker = new ShapWalker(m.pathSize);
  const phi = new Float64Array(F);
  const on = new Float64Array(F);
  const off = new Float64Array(F);
  for (let r = 0; r < numRows; r++) {
    phi.fill(0);
    const base = r * W * W;
    for (const tree of m.trees) {
      walker.run(tree, rows, r * F, phi, 0, 0, -1);
      const feats = tree.uniqueFeatures;
      // Conditioning on a feature the tree never splits on changes nothing: skip those.
      for (let a = 0; a < feats.length; a++) {
        const i = feats[a];
        for (let b = 0; b < feats.length; b++) on[feats[b]] = off[feats[b]] = 0;
        walker.run(tree, rows, r * F, on, 0, 1, i);
        walker.run(tree, rows, r * F, off, 0, -1, i);
        for (let b = 0; b < feats.length; b++) {
          const j = feats[b];
          if (j !== i) out[base + i * W + j] += (on[j] - off[j]) / 2;
        }
      }
    }
    for (let i = 0; i < F; i++) {
      let rest = 0;
      for (let j = 0; j < F; j++) if (j !== i) rest += out[base + i * W + j];
      out[base + i * W + i] = phi[i] - rest;
    }
    out[base + F * W + F] = m.bias;
  }
  return out;
}
