// Scoring a method's choice on a held-out dataset by lookup among the configurations actually
// run there. Values are oriented so that larger is better before these functions see them.
import { maxOf, minOf } from '../core/arrays.ts';

/** Best achievable minus the pick's value, in the caller's units (metric points). */
export function regret(values: readonly number[], pick: number): number {
  return maxOf(values) - values[pick];
}

/** Whether one of the first k picks reaches the best value (ties with the best count as hits). */
export function hitAtK(values: readonly number[], order: readonly number[], k: number): boolean {
  const best = maxOf(values);
  return order.slice(0, k).some((i) => values[i] === best);
}

/**
 * NDCG@k with graded relevance (v - min) / (max - min), gain rel / log2(rank + 1).
 * 1 when every configuration is equally good.
 */
export function ndcgAtK(values: readonly number[], order: readonly number[], k: number): number {
  const min = minOf(values);
  const max = maxOf(values);
  if (max === min) return 1;
  const rel = (i: number) => (values[i] - min) / (max - min);
  const dcg = (idx: readonly number[]) =>
    idx.slice(0, k).reduce((s, i, r) => s + rel(i) / Math.log2(r + 2), 0);
  const ideal = values.map((_, i) => i).sort((a, b) => values[b] - values[a]);
  return dcg(order) / dcg(ideal);
}

/** Ranks 1..n with ties given their average rank. */
export function averageRanks(values: readonly number[]): number[] {
  const idx = values.map((_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Array<number>(values.length);
  for (let s = 0; s < idx.length;) {
    let e = s;
    while (e + 1 < idx.length && values[idx[e + 1]] === values[idx[s]]) e++;
    for (let j = s; j <= e; j++) ranks[idx[j]] = (s + e) / 2 + 1;
    s = e + 1;
  }
  return ranks;
}

/** Spearman's rank correlation (Pearson on average ranks); 0 when either side is constant. */
export function spearman(a: readonly number[], b: readonly number[]): number {
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  const n = ra.length;
  const ma = ra.reduce((s, x) => s + x, 0) / n;
  const mb = rb.reduce((s, x) => s + x, 0) / n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    cov += (ra[i] - ma) * (rb[i] - mb);
    va += (ra[i] - ma) ** 2;
    vb += (rb[i] - mb) ** 2;
  }
  return va === 0 || vb === 0 ? 0 : cov / Math.sqrt(va * vb);
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = values.slice().sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((s, v) => s + v, 0) / values.length : Number.NaN;
}
