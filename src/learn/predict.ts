// Prediction with a tree ensemble. Features are compared as float32 and leaf values summed in
// float32, as XGBoost's CPU predictor does, so our numbers and XGBoost's agree to the last bit.

import type { Matrix } from './matrix.ts';
import { baseMargin, type Tree, type TreeEnsemble } from './tree-model.ts';
import { MetallmixError } from '../core/errors.ts';
import { packTree, predictModule, type PredictExports } from './predict-kernel.ts';
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

/** Rows converted and walked per kernel call: bounds the memory a large batch needs. */
const WINDOW_ROWS = 8192;

function checkFeatures(model: TreeEnsemble, X: Matrix): void {
  if (X.numFeatures !== model.featureNames.length)
    throw new MetallmixError(
      `data has ${X.numFeatures} features but the model expects ${model.featureNames.length}`,
    );
}

/** Untransformed scores (log-odds for binary:logistic), one per row. */
export function predictMargin(model: TreeEnsemble, X: Matrix, treeLimit?: number): Float64Array {
  return predictMargins([model], X, treeLimit)[0];
}

/**
 * Untransformed scores of several models on the same rows (e.g. the members of a bagged
 * ensemble), in one pass over the rows: each row's features are converted once and stay in
 * cache while every model's trees run. Equal to predictMargin for each model.
 */
export function predictMargins(
  models: readonly TreeEnsemble[],
  X: Matrix,
  treeLimit?: number,
): Float64Array[] {
  for (const model of models) checkFeatures(model, X);
  const limits = models.map((m) => Math.min(m.trees.length, treeLimit ?? m.trees.length));
  const outs = models.map((m) => new Float64Array(X.numRows).fill(Math.fround(baseMargin(m))));
  if (X.numRows > 0) kernelMargins(models, limits, X, outs);
  return outs;
}

let kernel: { memory: WebAssembly.Memory; exports: PredictExports } | undefined;

/** The kernel's memory with at least `bytes` (kept between calls; a window bounds its size). */
function kernelMemory(bytes: number): { memory: WebAssembly.Memory; exports: PredictExports } {
  if (!kernel) {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
    const instance = new WebAssembly.Instance(predictModule(), { env: { memory } });
    kernel = { memory, exports: instance.exports as unknown as PredictExports };
  }
  const have = kernel.memory.buffer.byteLength;
  if (bytes > have) kernel.memory.grow(Math.ceil((bytes - have) / 65536));
  return kernel;
}

/** A model's trees packed one after the other (see predict-kernel.ts). */
interface PackedModel {
  /** The trees packed, to notice when the model's list changed. */
  trees: Tree[];
  words: Int32Array;
  /** Byte offset of each tree's root record in `words`, and one past the last tree. */
  starts: Int32Array;
  depths: Int32Array;
  /** Whether tree t or one before it has categorical splits. */
  categorical: Uint8Array;
}

const packedModels = new WeakMap<TreeEnsemble, PackedModel>();

function packModel(model: TreeEnsemble): PackedModel {
  const cached = packedModels.get(model);
  if (
    cached &&
    cached.trees.length === model.trees.length &&
    cached.trees.every((t, i) => t === model.trees[i])
  )
    return cached;
  const packs = model.trees.map(packTree);
  const starts = new Int32Array(packs.length + 1);
  packs.forEach((p, t) => (starts[t + 1] = starts[t] + 16 * Math.ceil(p.words.length / 4)));
  const words = new Int32Array(starts[packs.length] / 4);
  const categorical = new Uint8Array(packs.length);
  packs.forEach((p, t) => {
    words.set(p.words, starts[t] / 4);
    categorical[t] = p.categorical || (t > 0 && categorical[t - 1] === 1) ? 1 : 0;
  });
  const depths = Int32Array.from(packs, (p) => p.depth);
  const packed = { trees: model.trees.slice(), words, starts, depths, categorical };
  packedModels.set(model, packed);
  return packed;
}

function kernelMargins(
  models: readonly TreeEnsemble[],
  limits: number[],
  X: Matrix,
  outs: Float64Array[],
): void {
  const F = X.numFeatures;
  const packs = models.map(packModel);
  let categorical = false;
  let blobBytes = 0;
  let count = 0;
  packs.forEach((p, m) => {
    if (limits[m] === 0) return;
    categorical ||= p.categorical[limits[m] - 1] === 1;
    blobBytes += p.starts[limits[m]];
    count += limits[m];
  });
  const window = Math.min(WINDOW_ROWS, Math.ceil(X.numRows / 4) * 4);
  const table = 16 + blobBytes; // address 0: the empty category map
  const xAt = table + 16 * count;
  const outAt = xAt + 4 * F * window;
  const { memory, exports } = kernelMemory(outAt + 4 * window * outs.length);
  const buffer = memory.buffer as ArrayBuffer;
  const words = new Int32Array(buffer);
  words.fill(0, 0, 4);
  let at = 16;
  let slot = table / 4;
  packs.forEach((p, m) => {
    const limit = limits[m];
    words.set(p.words.subarray(0, p.starts[limit] / 4), at / 4);
    for (let t = 0; t < limit; t++, slot += 4) {
      words[slot] = at + p.starts[t];
      words[slot + 1] = p.depths[t];
      words[slot + 2] = 4 * window * m;
    }
    at += p.starts[limit];
  });
  const x = new Float32Array(buffer, xAt, F * window);
  const out = new Float32Array(buffer, outAt, window * outs.length);
  const run = categorical ? exports.predictCategorical : exports.predictNumerical;
  const bases = outs.map((o) => o[0]);
  for (let start = 0; start < X.numRows; start += window) {
    const rows = Math.min(window, X.numRows - start);
    const padded = Math.ceil(rows / 4) * 4;
    x.set(X.data.subarray(start * F, (start + rows) * F));
    x.fill(0, rows * F, padded * F);
    bases.forEach((base, m) => out.fill(base, m * window, m * window + padded));
    run(xAt, 4 * F, padded, table, count, outAt);
    outs.forEach((o, m) => o.set(out.subarray(m * window, m * window + rows), start));
  }
}

/** Predictions on the objective's output scale (probabilities for binary:logistic). */
export function predict(model: TreeEnsemble, X: Matrix, treeLimit?: number): Float64Array {
  const margin = predictMargin(model, X, treeLimit);
  if (model.objective === 'binary:logistic')
    for (let i = 0; i < margin.length; i++) margin[i] = Math.fround(1 / (1 + Math.exp(-margin[i])));
  return margin;
}
