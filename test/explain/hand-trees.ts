// Small trees built by hand or at random for checking TreeSHAP against brute-force Shapley values.

import { Rng } from '../../src/core/rng.ts';
import {
  baseMargin,
  nextNode,
  type FeatureType,
  type Tree,
  type TreeEnsemble,
} from '../../src/learn/tree-model.ts';

/** A node: a leaf `{ value, cover }` or a split with children given inline. */
export type NodeSpec =
  | { value: number; cover: number }
  | {
      feature: number;
      threshold?: number;
      /** Category codes that go right (makes the split categorical). */
      categories?: number[];
      defaultLeft?: boolean;
      cover: number;
      left: NodeSpec;
      right: NodeSpec;
    };

/** Lays out a nested node spec in XGBoost's breadth-first node order. */
export function buildTree(root: NodeSpec): Tree {
  const order: NodeSpec[] = [];
  const queue = [root];
  while (queue.length) {
    const n = queue.shift()!;
    order.push(n);
    if ('left' in n) queue.push(n.left, n.right);
  }
  const ids = new Map(order.map((n, i) => [n, i]));
  const size = order.length;
  const tree: Tree = {
    left: new Int32Array(size).fill(-1),
    right: new Int32Array(size).fill(-1),
    feature: new Int32Array(size),
    threshold: new Float32Array(size),
    defaultLeft: new Uint8Array(size),
    value: new Float32Array(size),
    cover: new Float32Array(size),
    gain: new Float32Array(size),
    categories: new Map(),
  };
  order.forEach((n, i) => {
    tree.cover[i] = n.cover;
    if (!('left' in n)) {
      tree.value[i] = n.value;
      return;
    }
    tree.left[i] = ids.get(n.left)!;
    tree.right[i] = ids.get(n.right)!;
    tree.feature[i] = n.feature;
    tree.threshold[i] = n.threshold ?? 0;
    tree.defaultLeft[i] = n.defaultLeft ? 1 : 0;
    if (n.categories) tree.categories.set(i, new Set(n.categories));
  });
  return tree;
}

export function ensemble(
  trees: Tree[],
  numFeatures: number,
  options: {
    baseScore?: number;
    objective?: TreeEnsemble['objective'];
    types?: FeatureType[];
  } = {},
): TreeEnsemble {
  return {
    objective: options.objective ?? 'reg:squarederror',
    baseScore: options.baseScore ?? 0.5,
    featureNames: Array.from({ length: numFeatures }, (_, i) => `f${i}`),
    featureTypes: options.types ?? Array.from({ length: numFeatures }, () => 'q' as const),
    trees,
  };
}

/**
 * A random tree of the given depth whose leaves are reached by covers that add up; features
 * repeat along paths and feature `catFeature` (if any) splits on category sets.
 */
export function randomTree(rng: Rng, depth: number, numFeatures: number, catFeature = -1): Tree {
  const grow = (d: number, cover: number): NodeSpec => {
    if (d === depth || (d > 0 && rng.next() < 0.15)) return { value: rng.normal(), cover };
    const feature = rng.int(numFeatures);
    const share = rng.uniform(0.1, 0.9);
    const split = {
      feature,
      defaultLeft: rng.next() < 0.5,
      cover,
      left: grow(d + 1, cover * share),
      right: grow(d + 1, cover * (1 - share)),
    };
    if (feature === catFeature) return { ...split, categories: [rng.int(4), rng.int(4)] };
    return { ...split, threshold: rng.uniform(-1, 1) };
  };
  return buildTree(grow(0, rng.uniform(10, 100)));
}

/** A random row: values in [-1, 1], codes 0..3 for the categorical feature, some missing. */
export function randomRow(rng: Rng, numFeatures: number, catFeature = -1): number[] {
  return Array.from({ length: numFeatures }, (_, f) => {
    if (rng.next() < 0.15) return NaN;
    return f === catFeature ? rng.int(4) : rng.uniform(-1, 1);
  });
}

/** Path-dependent E[f(x) | x_S]: known features follow the row, unknown ones split by cover. */
function conditionalExpectation(tree: Tree, node: number, x: number[], known: number): number {
  if (tree.left[node] === -1) return tree.value[node];
  const f = tree.feature[node];
  if (known & (1 << f)) return conditionalExpectation(tree, nextNode(tree, node, x[f]), x, known);
  const l = tree.left[node];
  const r = tree.right[node];
  return (
    (tree.cover[l] * conditionalExpectation(tree, l, x, known) +
      tree.cover[r] * conditionalExpectation(tree, r, x, known)) /
    tree.cover[node]
  );
}

function valueOf(model: TreeEnsemble, x: number[], known: number): number {
  return model.trees.reduce(
    (s, t) => s + conditionalExpectation(t, 0, x, known),
    baseMargin(model),
  );
}

function factorial(n: number): number {
  return n <= 1 ? 1 : n * factorial(n - 1);
}

function popcount(mask: number): number {
  let c = 0;
  for (let m = mask; m; m &= m - 1) c++;
  return c;
}

/** Shapley values by enumerating every feature subset (exponential; for a handful of features). */
export function bruteForceShap(model: TreeEnsemble, x: number[]): number[] {
  const M = x.length;
  return x.map((_, i) => {
    let phi = 0;
    for (let S = 0; S < 1 << M; S++) {
      if (S & (1 << i)) continue;
      const s = popcount(S);
      const w = (factorial(s) * factorial(M - s - 1)) / factorial(M);
      phi += w * (valueOf(model, x, S | (1 << i)) - valueOf(model, x, S));
    }
    return phi;
  });
}

/** SHAP interaction values (Lundberg et al. 2018, eq. for Phi_ij) by subset enumeration. */
export function bruteForceInteractions(model: TreeEnsemble, x: number[]): number[][] {
  const M = x.length;
  const phi = bruteForceShap(model, x);
  const out = Array.from({ length: M }, () => new Array<number>(M).fill(0));
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < M; j++) {
      if (i === j) continue;
      for (let S = 0; S < 1 << M; S++) {
        if (S & ((1 << i) | (1 << j))) continue;
        const s = popcount(S);
        const w = (factorial(s) * factorial(M - s - 2)) / (2 * factorial(M - 1));
        const bi = 1 << i;
        const bj = 1 << j;
        out[i][j] +=
          w *
          (valueOf(model, x, S | bi | bj) -
            valueOf(model, x, S | bi) -
            valueOf(model, x, S | bj) +
            valueOf(model, x, S));
      }
    }
    out[i][i] = phi[i] - out[i].reduce((a, b) => a + b, 0);
  }
  return out;
}

/** The model's margin for row x (every feature known). */
export function marginOf(model: TreeEnsemble, x: number[]): number {
  return valueOf(model, x, (1 << x.length) - 1);
}
