// SHAP values of a batch of rows as plain nested arrays: the shape `metallmix gbdt shap --json`
// prints and the library returns.

import type { Matrix } from '../learn/matrix.ts';
import type { TreeEnsemble } from '../learn/tree-model.ts';
import { treeShap, treeShapInteractions } from './tree-shap.ts';

export interface ShapTable {
  bias: number;
  features: string[];
  /** Per row, one value per feature; bias + a row's values = its margin prediction. */
  values: number[][];
  /** Per row, features x features: [i][i] main effects, [i][j] half the pair's interaction. */
  interactions?: number[][][];
}

export function shapTable(
  model: TreeEnsemble,
  X: Matrix,
  options: { interactions?: boolean } = {},
): ShapTable {
  const F = model.featureNames.length;
  const { bias, values } = treeShap(model, X.data, X.numRows);
  const table: ShapTable = {
    bias,
    features: model.featureNames,
    values: Array.from({ length: X.numRows }, (_, r) =>
      Array.from(values.subarray(r * F, (r + 1) * F)),
    ),
  };
  if (options.interactions) {
    const W = F + 1;
    const I = treeShapInteractions(model, X.data, X.numRows);
    // The bias row and column are dropped: bias is its own field.
    table.interactions = Array.from({ length: X.numRows }, (_, r) =>
      Array.from({ length: F }, (_, i) =>
        Array.from(I.subarray(r * W * W + i * W, r * W * W + i * W + F)),
      ),
    );
  }
  return table;
}
