// Gradients and hessians of XGBoost's objectives (float32, as XGBoost computes them), and the
// validation metric early stopping watches for each.

import type { Rng } from '../core/rng.ts';
import type { Objective } from './tree-model.ts';

/** Rows of one query group, for rank:pairwise. */
export type Groups = Int32Array[];

export function computeGradients(
  objective: Objective,
  margin: Float64Array,
  y: Float64Array,
  weights: Float64Array | undefined,
  groups: Groups | undefined,
  rng: Rng,
  grad: Float32Array,
  hess: Float32Array,
): void {
  const n = margin.length;
  if (objective === 'rank:pairwise') return pairwiseGradients(margin, y, groups!, rng, grad, hess);
  for (let i = 0; i < n; i++) {
    const w = weights ? weights[i] : 1;
    if (objective === 'binary:logistic') {
      const p = Math.fround(1 / (1 + Math.exp(-margin[i])));
      grad[i] = (p - y[i]) * w;
      hess[i] = Math.max(Math.fround(p * (1 - p)), 1e-16) * w;
    } else {
      grad[i] = (margin[i] - y[i]) * w;
      hess[i] = w;
    }
  }
}

/**
 * XGBoost's rank:pairwise (LambdaRank with unit pair weights, num_pairsample=1): every row is
 * paired with one random row of the same group that has a different label.
 */
function pairwiseGradients(
  margin: Float64Array,
  y: Float64Array,
  groups: Groups,
  rng: Rng,
  grad: Float32Array,
  hess: Float32Array,
): void {
  grad.fill(0);
  hess.fill(0);
  for (const rows of groups) {
    const byLabel = Array.from(rows).sort((a, b) => y[a] - y[b] || a - b);
    for (let i = 0; i < byLabel.length;) {
      let j = i + 1;
      while (j < byLabel.length && y[byLabel[j]] === y[byLabel[i]]) j++;
      const nLeft = i;
      const nOther = nLeft + byLabel.length - j;
      if (nOther > 0)
        for (let k = i; k < j; k++) {
          const pick = rng.int(nOther);
          const other = byLabel[pick < nLeft ? pick : pick + j - i];
          const [pos, neg] = pick < nLeft ? [byLabel[k], other] : [other, byLabel[k]];
          const p = Math.fround(1 / (1 + Math.exp(-(margin[pos] - margin[neg]))));
          const g = p - 1;
          const h = 2 * Math.max(Math.fround(p * (1 - p)), 1e-16);
          grad[pos] += g;
          grad[neg] -= g;
          hess[pos] += h;
          hess[neg] += h;
        }
      i = j;
    }
  }
}

export const METRIC_NAME: Record<Objective, string> = {
  'reg:squarederror': 'rmse',
  'binary:logistic': 'logloss',
  'rank:pairwise': 'ndcg',
};

/** Validation metric on margins; lower is better (ndcg is returned negated). */
export function validationLoss(
  objective: Objective,
  margin: Float64Array,
  y: Float64Array,
  groups: Groups | undefined,
): number {
  const n = margin.length;
  if (objective === 'rank:pairwise') return -meanNdcg(margin, y, groups!);
  let s = 0;
  for (let i = 0; i < n; i++) {
    if (objective === 'binary:logistic') {
      const p = Math.min(Math.max(1 / (1 + Math.exp(-margin[i])), 1e-16), 1 - 1e-16);
      s -= y[i] * Math.log(p) + (1 - y[i]) * Math.log(1 - p);
    } else s += (margin[i] - y[i]) ** 2;
  }
  return objective === 'binary:logistic' ? s / n : Math.sqrt(s / n);
}

/** The metric as users read it, from the loss early stopping minimizes. */
export function metricValue(objective: Objective, loss: number): number {
  return objective === 'rank:pairwise' ? -loss : loss;
}

/** Mean NDCG over groups with gain 2^label - 1 (XGBoost's ndcg); groups without gain count 1. */
export function meanNdcg(score: Float64Array, y: Float64Array, groups: Groups): number {
  let total = 0;
  for (const rows of groups) {
    const dcg = (order: number[]) =>
      order.reduce((s, r, i) => s + (2 ** y[r] - 1) / Math.log2(i + 2), 0);
    const list = Array.from(rows);
    const ideal = dcg(list.slice().sort((a, b) => y[b] - y[a]));
    total += ideal > 0 ? dcg(list.sort((a, b) => score[b] - score[a] || a - b)) / ideal : 1;
  }
  return total / groups.length;
}

/** Groups from a per-row group id, rows kept in input order. */
export function groupsFromIds(ids: ArrayLike<number>): Groups {
  const byId = new Map<number, number[]>();
  for (let r = 0; r < ids.length; r++) {
    const list = byId.get(ids[r]);
    if (list) list.push(r);
    else byId.set(ids[r], [r]);
  }
  return [...byId.values()].map((rows) => Int32Array.from(rows));
}
