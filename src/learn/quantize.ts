// Quantizes features into histogram bins once per training run, as XGBoost's `hist` method:
// numerical cut points at quantiles (every distinct value when there are few), categorical
// codes as their own bins, and one extra slot per feature that collects missing values.

import { MetallmixError } from '../core/errors.ts';
import type { Matrix } from './matrix.ts';
import type { FeatureType } from './tree-model.ts';

export interface Cuts {
  /** First global slot of each feature; feature f owns slots [offset[f], offset[f+1]). */
  offset: Int32Array;
  /** Bins per feature, not counting the trailing missing slot. */
  numBins: Int32Array;
  /** Upper bounds per numerical bin (global slot order): bin b holds cut[b-1] <= x < cut[b]. */
  cut: Float32Array;
  /** Split threshold that sends every non-missing value right (below the minimum). */
  minValue: Float32Array;
  isCategorical: Uint8Array;
  totalSlots: number;
}

export const MAX_CATEGORY_CODE = 4095;

/**
 * Cut points from the training matrix (XGBoost's layout: the last cut lies above the maximum),
 * with plain JavaScript sorting; the row store computes the same cuts in WebAssembly.
 */
export function computeCuts(
  X: Matrix,
  types: readonly FeatureType[],
  names: readonly string[],
  maxBin: number,
): Cuts {
  const { numRows, numFeatures, data } = X;
  const perFeature: Float32Array[] = [];
  const minValue = new Float32Array(numFeatures);
  const isCategorical = new Uint8Array(numFeatures);
  const column = new Float32Array(numRows);
  for (let f = 0; f < numFeatures; f++) {
    let n = 0;
    for (let r = 0; r < numRows; r++) {
      const v = data[r * numFeatures + f];
      if (!Number.isNaN(v)) column[n++] = v;
    }
    if (types[f] === 'c') {
      isCategorical[f] = 1;
      perFeature.push(categoricalCuts(column.subarray(0, n), names[f]));
      continue;
    }
    const sorted = column.subarray(0, n).sort(); // `column` is scratch: sort in place
    perFeature.push(numericalCuts(sorted, maxBin));
    minValue[f] = minimumCut(sorted);
  }
  return assembleCuts(perFeature, minValue, isCategorical);
}

/** One bin per category code 0..max; codes must be integers in 0..MAX_CATEGORY_CODE. */
export function categoricalCuts(values: Float32Array, name: string): Float32Array {
  let max = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= 0 && v <= MAX_CATEGORY_CODE))
      throw new MetallmixError(
        `categorical feature needs integer codes in 0..${MAX_CATEGORY_CODE}, got ${v}`,
        { location: { column: name } },
      );
    if (v > max) max = Math.trunc(v);
  }
  return Float32Array.from({ length: max + 1 }, (_, i) => i);
}

/** Split threshold below every value of a sorted column: it sends all non-missing rows right. */
export function minimumCut(sorted: Float32Array): number {
  const mval = sorted.length > 0 ? sorted[0] : 0;
  return Math.fround(mval - Math.abs(mval) - 1e-5);
}

/** The Cuts of all features, laid out slot by slot (each feature's bins, then its missing slot). */
export function assembleCuts(
  perFeature: Float32Array[],
  minValue: Float32Array,
  isCategorical: Uint8Array,
): Cuts {
  const numFeatures = perFeature.length;
  const offset = new Int32Array(numFeatures + 1);
  const numBins = new Int32Array(numFeatures);
  for (let f = 0; f < numFeatures; f++) {
    numBins[f] = perFeature[f].length;
    offset[f + 1] = offset[f] + numBins[f] + 1;
  }
  const totalSlots = offset[numFeatures];
  if (totalSlots > 65535)
    throw new MetallmixError(`too many histogram bins (${totalSlots}); lower max_bin`);
  const cut = new Float32Array(totalSlots);
  for (let f = 0; f < numFeatures; f++) cut.set(perFeature[f], offset[f]);
  return { offset, numBins, cut, minValue, isCategorical, totalSlots };
}

/** Cuts for one sorted non-missing column: at most maxBin bins, equal-count where values repeat little. */
export function numericalCuts(sorted: Float32Array, maxBin: number): Float32Array {
  const n = sorted.length;
  if (n === 0) return Float32Array.of(1e-5);
  const cuts: number[] = [];
  let distinct = 1;
  for (let i = 1; i < n && distinct <= maxBin; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
  if (distinct <= maxBin) {
    for (let i = 1; i < n; i++) if (sorted[i] !== sorted[i - 1]) cuts.push(sorted[i]);
  } else {
    for (let k = 1; k < maxBin; k++) {
      const v = sorted[Math.floor((k * n) / maxBin)];
      if (v > sorted[0] && (cuts.length === 0 || v > cuts[cuts.length - 1])) cuts.push(v);
    }
  }
  const last = sorted[n - 1];
  cuts.push(Math.fround(last + Math.abs(last) + 1e-5));
  return Float32Array.from(cuts);
}

/** Local bin code of value `v` of feature `f`: its bin, or numBins[f] when missing. */
export function binCode(cuts: Cuts, f: number, v: number): number {
  const begin = cuts.offset[f];
  const nb = cuts.numBins[f];
  if (Number.isNaN(v)) return nb;
  if (cuts.isCategorical[f] === 1) return Math.trunc(v);
  return upperBound(cuts.cut, begin, begin + nb, Math.fround(v));
}

/** Local index of the first cut > v (the last bin for values beyond the last cut). */
function upperBound(cut: Float32Array, begin: number, end: number, v: number): number {
  let lo = begin;
  let hi = end;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cut[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return Math.min(lo, end - 1) - begin;
}
