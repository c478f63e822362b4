// The recursive path-dependent TreeSHAP walk of one tree for one row, following XGBoost's
// RegTree::TreeShap step for step so that our numbers match `pred_contribs` and, with a
// condition, `pred_interactions`.

import { ShapPath } from './path.ts';
import { hotChild, type PreparedTree } from './prepared-model.ts';

export class ShapWalker {
  private readonly path: ShapPath;
  private tree!: PreparedTree;
  private rows!: Float64Array;
  private rowOffset = 0;
  private phi!: Float64Array;
  private phiOffset = 0;
  private condition = 0;
  private conditionFeature = -1;

  constructor(pathSize: number) {
    this.path = new ShapPath(pathSize);
  }

  /**
   * Adds the tree's SHAP values for the row at `rowOffset` of `rows` (float32-rounded values) to
   * `phi` from `phiOffset` on. condition 0: plain values; +1 / -1: values with
   * `conditionFeature` fixed to the row's value / left unknown (for interaction values).
   */
  run(
    tree: PreparedTree,
    rows: Float64Array,
    rowOffset: number,
    phi: Float64Array,
    phiOffset: number,
    condition: number,
    conditionFeature: number,
  ): void {
    this.tree = tree;
    this.rows = rows;
    this.rowOffset = rowOffset;
    this.phi = phi;
    this.phiOffset = phiOffset;
    this.condition = condition;
    this.conditionFeature = conditionFeature;
    this.walk(0, 0, 0, 1, 1, -1, 1);
  }

  // Each level works on its own copy of the path, placed right after its parent's
  // (offset + depth + 1) as in XGBoost, so that returning needs no undo.
  private walk(
    node: number,
    parentDepth: number,
    parentOffset: number,
    parentZero: number,
    parentOne: number,
    parentFeature: number,
    conditionFraction: number,
  ): void {
    if (conditionFraction === 0) return;
    const t = this.tree;
    const p = this.path;
    let depth = parentDepth;
    const offset = parentOffset + depth + 1;
    p.copy(parentOffset, offset, depth + 1);
    if (this.condition === 0 || this.conditionFeature !== parentFeature)
      p.extend(offset, depth, parentZero, parentOne, parentFeature);

    const left = t.left[node];
    if (left === -1) {
      const scale = t.leafValue[node] * conditionFraction;
      for (let i = 1; i <= depth; i++) {
        const w = p.unwoundSum(offset, depth, i);
        this.phi[this.phiOffset + p.feature[offset + i]] +=
          w * (p.one[offset + i] - p.zero[offset + i]) * scale;
      }
      return;
    }

    const split = t.feature[node];
    const hot = hotChild(t, node, this.rows[this.rowOffset + split]);
    const cold = hot === left ? t.right[node] : left;
    const hotZero = t.coverShare[hot];
    const coldZero = t.coverShare[cold];
    let incomingZero = 1;
    let incomingOne = 1;

    // A feature already on the path is undone here and redone with both splits' fractions.
    let k = 0;
    while (k <= depth && p.feature[offset + k] !== split) k++;
    if (k <= depth) {
      incomingZero = p.zero[offset + k];
      incomingOne = p.one[offset + k];
      p.unwind(offset, depth, k);
      depth -= 1;
    }

    let hotFraction = conditionFraction;
    let coldFraction = conditionFraction;
    if (this.condition !== 0 && split === this.conditionFeature) {
      if (this.condition > 0) coldFraction = 0;
      else {
        hotFraction *= hotZero;
        coldFraction *= coldZero;
      }
      depth -= 1;
    }
    this.walk(hot, depth + 1, offset, hotZero * incomingZero, incomingOne, split, hotFraction);
    this.walk(cold, depth + 1, offset, coldZero * incomingZero, 0, split, coldFraction);
  }
}
