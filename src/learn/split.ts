// Finds the best split of one node from its gradient histogram, with XGBoost's gain
// (G_L^2/(H_L+lambda) + G_R^2/(H_R+lambda) - G^2/(H+lambda), L1-thresholded by alpha), both
// directions for missing values, one-vs-rest splits for few categories and sorted partitions
// (by gradient/hessian ratio, as XGBoost and LightGBM) for many.

import type { Cuts } from './quantize.ts';
import type { GBDTParams } from './params.ts';

export interface Split {
  gain: number;
  feature: number;
  /** Numerical: rows with local bin <= bin go left (-1: no non-missing row goes left). */
  bin: number;
  /** Categorical: local codes that go right; undefined for numerical splits. */
  rightCategories: number[] | undefined;
  defaultLeft: boolean;
  leftGrad: number;
  leftHess: number;
}

function thresholdL1(g: number, alpha: number): number {
  if (g > alpha) return g - alpha;
  if (g < -alpha) return g + alpha;
  return 0;
}

export function nodeWeight(p: GBDTParams, g: number, h: number): number {
  if (h < p.min_child_weight || h <= 0) return 0;
  return -thresholdL1(g, p.alpha) / (h + p.lambda);
}

/** XGBoost's kRtEps: splits gaining less are noise. */
const MIN_GAIN = 1e-6;

export class SplitFinder {
  private readonly order: number[] = [];
  private readonly mcw: number;
  private readonly lambda: number;
  private readonly alpha: number;
  // The node being evaluated and its best split so far (fields, not closures: hot loop).
  private hist: Float64Array = new Float64Array(0);
  private G = 0;
  private H = 0;
  private parentGain = 0;
  private best: Split | undefined;
  private bestGain = MIN_GAIN;

  constructor(
    private readonly cuts: Cuts,
    private readonly p: GBDTParams,
  ) {
    this.mcw = p.min_child_weight;
    this.lambda = p.lambda;
    this.alpha = p.alpha;
  }

  /** The best split over `features`, or undefined when none gains enough (or less than gamma). */
  find(hist: Float64Array, G: number, H: number, features: Int32Array): Split | undefined {
    this.hist = hist;
    this.G = G;
    this.H = H;
    this.parentGain = this.score(G, H);
    this.best = undefined;
    this.bestGain = MIN_GAIN;
    for (let k = 0; k < features.length; k++) {
      const f = features[k];
      const begin = this.cuts.offset[f];
      const nb = this.cuts.numBins[f];
      const ms = 2 * (begin + nb);
      const hasMissing = hist[ms + 1] > 0 || hist[ms] !== 0;
      if (!this.cuts.isCategorical[f]) this.scanNumerical(f, begin, nb, hasMissing);
      else if (nb < this.p.max_cat_to_onehot) this.scanOneHot(f, begin, nb, hasMissing);
      else this.scanPartitions(f, begin, nb, hasMissing);
    }
    // The scans assign `this.best`; TS still holds the narrowing from the reset above.
    const best = this.best as Split | undefined;
    return best !== undefined && best.gain >= this.p.gamma ? best : undefined;
  }

  /** XGBoost's gain of one side (0 below min_child_weight). */
  private score(g: number, h: number): number {
    if (h < this.mcw || h <= 0) return 0;
    const a = this.alpha;
    const t = g > a ? g - a : g < -a ? g + a : 0;
    return (t * t) / (h + this.lambda);
  }

  /** Gain of sending (gl, hl) left and the rest right, or -1 when a side is too light. */
  private gain(gl: number, hl: number): number {
    const hr = this.H - hl;
    if (hl < this.mcw || hr < this.mcw || hl <= 0 || hr <= 0) return -1;
    return this.score(gl, hl) + this.score(this.G - gl, hr) - this.parentGain;
  }

  private record(
    gain: number,
    feature: number,
    bin: number,
    cats: number[] | undefined,
    defaultLeft: boolean,
    gl: number,
    hl: number,
  ): void {
    this.bestGain = gain;
    this.best = {
      gain,
      feature,
      bin,
      rightCategories: cats,
      defaultLeft,
      leftGrad: gl,
      leftHess: hl,
    };
  }

  private scanNumerical(f: number, begin: number, nb: number, hasMissing: boolean): void {
    const hist = this.hist;
    // Forward: bins 0..b go left, missing right.
    let gl = 0;
    let hl = 0;
    for (let i = 2 * begin, b = 0; b < nb; b++, i += 2) {
      const g = hist[i];
      const h = hist[i + 1];
      // An empty bin repeats the previous candidate; XGBoost keeps the first of equal gains.
      if (h === 0 && g === 0) continue;
      gl += g;
      hl += h;
      const gain = this.gain(gl, hl);
      if (gain > this.bestGain) this.record(gain, f, b, undefined, false, gl, hl);
    }
    if (!hasMissing) return;
    // Backward: bins b..nb-1 go right, missing left.
    let gr = 0;
    let hr = 0;
    for (let b = nb - 1, i = 2 * (begin + b); b >= 0; b--, i -= 2) {
      const g = hist[i];
      const h = hist[i + 1];
      if (h === 0 && g === 0) continue;
      gr += g;
      hr += h;
      const gain = this.gain(this.G - gr, this.H - hr);
      if (gain > this.bestGain)
        this.record(gain, f, b - 1, undefined, true, this.G - gr, this.H - hr);
    }
  }

  /** One category right, the others left; missing goes left, then (if any) right. */
  private scanOneHot(f: number, begin: number, nb: number, hasMissing: boolean): void {
    const hist = this.hist;
    const ms = 2 * (begin + nb);
    for (let c = 0; c < nb; c++)
      for (const missingLeft of hasMissing ? [true, false] : [true]) {
        const gl = this.G - hist[2 * (begin + c)] - (missingLeft ? 0 : hist[ms]);
        const hl = this.H - hist[2 * (begin + c) + 1] - (missingLeft ? 0 : hist[ms + 1]);
        const gain = this.gain(gl, hl);
        if (gain > this.bestGain) this.record(gain, f, -1, [c], missingLeft, gl, hl);
      }
  }

  /**
   * Categories sorted (stably) by leaf weight, empty ones included with weight 0 as XGBoost
   * does; a prefix of the order goes right. Missing goes left (growing prefixes), then right
   * (shrinking prefixes), so ties between equivalent partitions resolve as in XGBoost 1.7.
   */
  private scanPartitions(f: number, begin: number, nb: number, hasMissing: boolean): void {
    const { hist, order, p } = this;
    const ms = 2 * (begin + nb);
    order.length = nb;
    for (let c = 0; c < nb; c++) order[c] = c;
    const w = (c: number) => nodeWeight(p, hist[2 * (begin + c)], hist[2 * (begin + c) + 1]);
    order.sort((a, b) => w(a) - w(b) || a - b);
    const prefixG = new Float64Array(nb);
    const prefixH = new Float64Array(nb);
    for (let i = 0, g = 0, h = 0; i < nb; i++) {
      prefixG[i] = g += hist[2 * (begin + order[i])];
      prefixH[i] = h += hist[2 * (begin + order[i]) + 1];
    }
    for (let size = 1; size < nb; size++) {
      const gl = this.G - prefixG[size - 1];
      const hl = this.H - prefixH[size - 1];
      const gain = this.gain(gl, hl);
      if (gain > this.bestGain) this.record(gain, f, -1, order.slice(0, size), true, gl, hl);
    }
    if (!hasMissing) return;
    for (let size = nb - 1; size >= 1; size--) {
      const gl = this.G - prefixG[size - 1] - hist[ms];
      const hl = this.H - prefixH[size - 1] - hist[ms + 1];
      const gain = this.gain(gl, hl);
      if (gain > this.bestGain) this.record(gain, f, -1, order.slice(0, size), false, gl, hl);
    }
  }
}
