// Per-tree structures TreeSHAP needs, computed once per model and cached with it.

import { MetallmixError } from '../core/errors.ts';
import { baseMargin, type Tree, type TreeEnsemble } from '../learn/tree-model.ts';

export interface PreparedTree {
  left: Int32Array;
  right: Int32Array;
  feature: Int32Array;
  threshold: Float32Array;
  defaultLeft: Uint8Array;
  /** cover(node) / cover(parent): the share of the parent's training rows a node gets. */
  coverShare: Float64Array;
  leafValue: Float64Array;
  /** Category codes going right, by node; undefined for numerical splits. */
  categories: (Set<number> | undefined)[];
  /** Distinct split features: conditioning on any other feature leaves this tree unchanged. */
  uniqueFeatures: Int32Array;
  depth: number;
}

export interface PreparedModel {
  numFeatures: number;
  /** Base margin + each tree's cover-weighted mean leaf value (XGBoost's bias column). */
  bias: number;
  trees: PreparedTree[];
  /** Path buffer length for the deepest tree: XGBoost's maxd * (maxd + 1) / 2, maxd = depth + 2. */
  pathSize: number;
}

const cache = new WeakMap<TreeEnsemble, PreparedModel>();

export function prepareModel(model: TreeEnsemble): PreparedModel {
  const cached = cache.get(model);
  if (cached) return cached;
  const numFeatures = model.featureNames.length;
  let bias = baseMargin(model);
  let maxDepth = 0;
  const trees = model.trees.map((tree, t) => {
    const p = prepareTree(tree, t, numFeatures);
    bias += meanValue(tree, 0);
    maxDepth = Math.max(maxDepth, p.depth);
    return p;
  });
  const maxd = maxDepth + 2;
  const prepared = { numFeatures, bias, trees, pathSize: (maxd * (maxd + 1)) / 2 };
  cache.set(model, prepared);
  return prepared;
}

function prepareTree(tree: Tree, index: number, numFeatures: number): PreparedTree {
  const n = tree.left.length;
  const coverShare = new Float64Array(n);
  const leafValue = new Float64Array(n);
  const categories: (Set<number> | undefined)[] = new Array(n).fill(undefined);
  const features = new Set<number>();
  coverShare[0] = 1;
  let depth = 0;
  const stack: [number, number][] = [[0, 0]];
  while (stack.length) {
    const [node, d] = stack.pop()!;
    depth = Math.max(depth, d);
    const l = tree.left[node];
    if (l === -1) {
      leafValue[node] = tree.value[node];
      continue;
    }
    const r = tree.right[node];
    const f = tree.feature[node];
    if (f < 0 || f >= numFeatures || l >= n || r >= n || r < 0)
      throw new MetallmixError(
        `tree ${index} node ${node}: split feature ${f} or children ${l}/${r} out of range (${numFeatures} features, ${n} nodes)`,
      );
    features.add(f);
    categories[node] = tree.categories.get(node);
    const c = tree.cover[node];
    coverShare[l] = tree.cover[l] / c;
    coverShare[r] = tree.cover[r] / c;
    stack.push([r, d + 1], [l, d + 1]);
  }
  return {
    left: tree.left,
    right: tree.right,
    feature: tree.feature,
    threshold: tree.threshold,
    defaultLeft: tree.defaultLeft,
    coverShare,
    leafValue,
    categories,
    uniqueFeatures: Int32Array.from([...features].sort((a, b) => a - b)),
    depth,
  };
}

/** Cover-weighted mean of the leaves under `node` (XGBoost's FillNodeMeanValues). */
function meanValue(tree: Tree, node: number): number {
  const l = tree.left[node];
  if (l === -1) return tree.value[node];
  const r = tree.right[node];
  return (
    (meanValue(tree, l) * tree.cover[l] + meanValue(tree, r) * tree.cover[r]) / tree.cover[node]
  );
}

/**
 * The child a row goes to at internal `node`; `x` is the row's value of the split feature,
 * already rounded to float32 (splits compare in float32, as XGBoost's do).
 */
export function hotChild(t: PreparedTree, node: number, x: number): number {
  if (x !== x) return t.defaultLeft[node] ? t.left[node] : t.right[node];
  const cats = t.categories[node];
  if (cats !== undefined) return cats.has(x) ? t.right[node] : t.left[node];
  return x < t.threshold[node] ? t.left[node] : t.right[node];
}
