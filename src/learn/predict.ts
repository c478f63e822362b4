// Prediction with a tree ensemble. Features are compared as float32 and leaf values summed in
// float32, as XGBoost's CPU predictor does, so our numbers and XGBoost's agree to the last bit.

import type { Matrix } from './matrix.ts';
import { baseMargin, type Tree, type TreeEnsemble } from './tree-model.ts';
import { MetallmixError } from '../core/errors.ts';
import { maxOf } from '../core/arrays.ts';

/** Per-tree lookup tables for the hot loop (categorical sets as byte maps instead of a Map). */
interface FlatTree {
  tree: Tree;
  isCategorical: Uint8Array;
  categoryMaps: (Uint8Array | undefined)[];
}

const flatCache = new WeakMap<Tree, FlatTree>();

function flatten(tree: Tree): FlatTree {
  let flat = flatCache.get(tree);
  if (flat) return flat;
  const isCategorical = new Uint8Array(tree.left.length);
  const categoryMaps: (Uint8Array | undefined)[] = [];
  for (const [node, set] of tree.categories) {
    isCategorical[node] = 1;
    const map = new Uint8Array(Math.max(-1, maxOf(set)) + 1);
    for (const c of set) if (c >= 0) map[c] = 1;
    categoryMaps[node] = map;
  }
  flat = { tree, isCategorical, categoryMaps };
  flatCache.set(tree, flat);
  return flat;
}

/** Feature values rounded to float32 once, as XGBoost's DMatrix stores them. */
export function toFloat32(X: Matrix): Float32Array {
  return new Float32Array(X.data);
}

/**
 * Adds the tree's leaf values to `margin[r]` (float32 sums) for rows start..end-1 except those
 * marked in `skip`; one loop per tree so the node arrays stay in registers.
 */
function addLeaves(
  flat: FlatTree,
  x: Float32Array,
  F: number,
  margin: Float64Array,
  start: number,
  end: number,
  skip?: Uint8Array,
): void {
  const { left, right, feature, threshold, defaultLeft, value } = flat.tree;
  const { isCategorical, categoryMaps } = flat;
  for (let r = start; r < end; r++) {
    if (skip !== undefined && skip[r] === 1) continue;
    const off = r * F;
    let node = 0;
    let l: number;
    while ((l = left[node]) !== -1) {
      const v = x[off + feature[node]];
      if (v !== v) node = defaultLeft[node] ? l : right[node];
      else if (isCategorical[node] === 0) node = v < threshold[node] ? l : right[node];
      else {
        // XGBoost truncates to an integer code; negative or unlisted codes go left.
        const map = categoryMaps[node]!;
        const c = Math.trunc(v);
        node = c >= 0 && c < map.length && map[c] === 1 ? right[node] : l;
      }
    }
    margin[r] = Math.fround(margin[r] + value[node]);
  }
}

/** Adds one tree's leaf values to `margin` in float32, skipping rows marked in `skip`. */
export function addTreeToMargin(
  tree: Tree,
  x: Float32Array,
  numFeatures: number,
  margin: Float64Array,
  skip?: Uint8Array,
): void {
  addLeaves(flatten(tree), x, numFeatures, margin, 0, margin.length, skip);
}

const BLOCK = 64; // rows per block: the block's features stay in cache while all trees run

/** Untransformed scores (log-odds for binary:logistic), one per row. */
export function predictMargin(model: TreeEnsemble, X: Matrix, treeLimit?: number): Float64Array {
  if (X.numFeatures !== model.featureNames.length)
    throw new MetallmixError(
      `data has ${X.numFeatures} features but the model expects ${model.featureNames.length}`,
    );
  const x = toFloat32(X);
  const F = X.numFeatures;
  const out = new Float64Array(X.numRows).fill(Math.fround(baseMargin(model)));
  const trees = model.trees.slice(0, treeLimit ?? model.trees.length).map(flatten);
  for (let start = 0; start < X.numRows; start += BLOCK) {
    const end = Math.min(X.numRows, start + BLOCK);
    for (const flat of trees) addLeaves(flat, x, F, out, start, end);
  }
  return out;
}

/** Predictions on the objective's output scale (probabilities for binary:logistic). */
export function predict(model: TreeEnsemble, X: Matrix, treeLimit?: number): Float64Array {
  const margin = predictMargin(model, X, treeLimit);
  if (model.objective === 'binary:logistic')
    for (let i = 0; i < margin.length; i++) margin[i] = Math.fround(1 / (1 + Math.exp(-margin[i])));
  return margin;
}
