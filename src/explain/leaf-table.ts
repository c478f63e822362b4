// Batch speed-up of path-dependent TreeSHAP (the "Fast TreeSHAP v2" idea of Yang 2021): a
// leaf's contribution to each feature on its path depends on the row only through which of the
// path's features the row follows (its one fractions, each 0 or 1). So for every leaf and every
// such pattern we precompute the contributions once per tree, and a row then costs one pass over
// the tree's splits plus a table lookup per leaf, instead of the O(D^2)-per-leaf walk.

import { ShapPath } from './path.ts';
import { hotChild, type PreparedTree } from './prepared-model.ts';
import { maxOf, pushAll } from '../core/arrays.ts';

/** Beyond this many table entries for one tree, the walk is used (memory stays small). */
const MAX_TABLE_ENTRIES = 1 << 22;

/** Table entries (sum over leaves of 2^k * k) and estimated costs of both methods. */
export interface PathCosts {
  entries: number;
  tableCost: number;
  walkCostPerRow: number;
}

export interface LeafPaths extends PathCosts {
  leaves: Int32Array;
  /** Leaf l's distinct path features are elemFeature[elemStart[l] .. elemStart[l + 1]). */
  elemFeature: Int32Array;
  elemStart: Int32Array;
  /** Product of the cover shares of the feature's splits on the path (its zero fraction). */
  elemZero: Float64Array;
  /** Internal nodes, parents before children. */
  internal: Int32Array;
  /**
   * Bit of an internal node's feature in the patterns of the leaves below it: path features are
   * numbered by first appearance from the root, so every leaf under a node numbers them alike.
   */
  nodeMask: Int32Array;
}

const pathsCache = new WeakMap<PreparedTree, LeafPaths>();

export function leafPaths(t: PreparedTree): LeafPaths {
  const cached = pathsCache.get(t);
  if (cached) return cached;
  const leaves: number[] = [];
  const elemStart = [0];
  const elemFeature: number[] = [];
  const elemZero: number[] = [];
  const internal: number[] = [];
  const nodeMask = new Int32Array(t.left.length);
  const costs = { entries: 0, tableCost: 0, walkCostPerRow: 0 };
  // The distinct features from the root down to the current node and their zero fractions.
  const features: number[] = [];
  const zeros: number[] = [];
  const visit = (node: number): void => {
    if (t.left[node] === -1) {
      leaves.push(node);
      pushAll(elemFeature, features);
      pushAll(elemZero, zeros);
      elemStart.push(elemFeature.length);
      addLeafCosts(costs, features.length);
      return;
    }
    internal.push(node);
    const f = t.feature[node];
    let j = features.indexOf(f);
    const isNew = j === -1;
    if (isNew) {
      j = features.push(f) - 1;
      zeros.push(1);
    }
    nodeMask[node] = 1 << j;
    const before = zeros[j];
    for (const child of [t.left[node], t.right[node]]) {
      zeros[j] = before * t.coverShare[child];
      visit(child);
    }
    zeros[j] = before;
    if (isNew) {
      features.pop();
      zeros.pop();
    }
  };
  visit(0);
  const paths = {
    leaves: Int32Array.from(leaves),
    elemStart: Int32Array.from(elemStart),
    elemFeature: Int32Array.from(elemFeature),
    elemZero: Float64Array.from(elemZero),
    internal: Int32Array.from(internal),
    nodeMask,
    ...costs,
  };
  pathsCache.set(t, paths);
  return paths;
}

/** A leaf whose path holds k distinct features: its table entries and the costs of both methods. */
function addLeafCosts(costs: PathCosts, k: number): void {
  // 2 ** k, not 1 << k: a path may hold more than 31 features (and then no table is built).
  costs.entries += 2 ** k * k;
  costs.tableCost += 2 ** k * (k + 1) * (k + 1);
  costs.walkCostPerRow += (k + 1) * (k + 1);
}

const costsCache = new WeakMap<PreparedTree, PathCosts>();

/**
 * The costs of leafPaths without its paths: a request explains a handful of rows, for which the
 * walk always wins, and building every tree's paths only to learn that was a third of its SHAP
 * time. Counts the distinct features from the root down in one array, allocating nothing per node.
 */
export function pathCosts(t: PreparedTree): PathCosts {
  const cached = costsCache.get(t);
  if (cached) return cached;
  const seen = new Int32Array(Math.max(0, maxOf(t.uniqueFeatures) + 1));
  const costs = { entries: 0, tableCost: 0, walkCostPerRow: 0 };
  let k = 0;
  const visit = (node: number): void => {
    if (t.left[node] === -1) {
      addLeafCosts(costs, k);
      return;
    }
    const f = t.feature[node];
    if (seen[f]++ === 0) k++;
    visit(t.left[node]);
    visit(t.right[node]);
    if (--seen[f] === 0) k--;
  };
  visit(0);
  costsCache.set(t, costs);
  return costs;
}

/** Whether precomputing the table pays off for `numRows` rows and fits in memory. */
export function tablePaysOff(paths: PathCosts, numRows: number): boolean {
  return paths.entries <= MAX_TABLE_ENTRIES && paths.tableCost < numRows * paths.walkCostPerRow;
}

export class LeafTable {
  /** Leaf l, pattern p, element j: coef[coefStart[l] + p * k + j]. */
  private readonly coefStart: Int32Array;
  private readonly coef: Float64Array;
  /** Per node, bits of the path features whose splits the row follows from the root. */
  private readonly pattern: Int32Array;

  constructor(
    private readonly tree: PreparedTree,
    private readonly paths: LeafPaths,
  ) {
    const { leaves, elemStart, elemFeature, elemZero } = paths;
    this.coefStart = new Int32Array(leaves.length);
    this.coef = new Float64Array(paths.entries);
    this.pattern = new Int32Array(tree.left.length);
    const path = new ShapPath(tree.depth + 2);
    let at = 0;
    for (let l = 0; l < leaves.length; l++) {
      this.coefStart[l] = at;
      const e0 = elemStart[l];
      const k = elemStart[l + 1] - e0;
      const value = tree.leafValue[leaves[l]];
      for (let pattern = 0; pattern < 1 << k; pattern++) {
        path.extend(0, 0, 1, 1, -1);
        for (let j = 0; j < k; j++)
          path.extend(0, j + 1, elemZero[e0 + j], (pattern >> j) & 1, elemFeature[e0 + j]);
        for (let j = 0; j < k; j++) {
          const w = path.unwoundSum(0, k, j + 1);
          this.coef[at++] = w * (path.one[j + 1] - path.zero[j + 1]) * value;
        }
      }
    }
  }

  /**
   * Adds the tree's SHAP values for the row at `rowOffset` of `rows` (float32-rounded values)
   * to `phi` from `phiOffset` on.
   */
  add(rows: Float64Array, rowOffset: number, phi: Float64Array, phiOffset: number): void {
    const t = this.tree;
    const { leaves, elemStart, elemFeature, internal, nodeMask } = this.paths;
    const pattern = this.pattern;
    pattern[0] = -1;
    for (let i = 0; i < internal.length; i++) {
      const node = internal[i];
      const hot = hotChild(t, node, rows[rowOffset + t.feature[node]]);
      const cold = hot === t.left[node] ? t.right[node] : t.left[node];
      pattern[hot] = pattern[node];
      pattern[cold] = pattern[node] & ~nodeMask[node];
    }
    const coef = this.coef;
    for (let l = 0; l < leaves.length; l++) {
      const e0 = elemStart[l];
      const k = elemStart[l + 1] - e0;
      const base = this.coefStart[l] + (pattern[leaves[l]] & ((1 << k) - 1)) * k;
      for (let j = 0; j < k; j++) phi[phiOffset + elemFeature[e0 + j]] += coef[base + j];
    }
  }
}
