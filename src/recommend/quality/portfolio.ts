// A single-best configuration and greedy portfolio that incomplete grids do not fool.
//
// Scoring a configuration by its mean result relative to each dataset's average run (the
// baseline's definition) lets the grid decide: a configuration run only where its competitors
// were weak, or never run where it would have failed, looks better than it is, because the
// "average run" it is compared with differs from dataset to dataset. Here every run is explained
// by one additive model fitted jointly on the whole incomplete table,
//     y[d, c] = mu[d] + a[model(c)] + b[c] + noise,
// so a configuration's effect a + b is estimated against the same dataset effects as every other
// one (a paired comparison, in effect), and shrunk towards its model's effect, and the model's
// towards 0, by one pseudo-observation each: a configuration seen once cannot outrank one seen on
// every dataset by luck alone. Missing cells are imputed from the model for the portfolio.
import type { Candidate } from '../../core/index.ts';
import { keyOf, mean, type RunTable } from './table.ts';

export interface AdditiveFit {
  /** Dataset effect mu[d] (points). */
  dataset: Map<string, number>;
  /** Model effect a[m] (points above the dataset effect). */
  model: Map<string, number>;
  /**
   * Configuration effect b[c] on top of its model's (points); only ever looked up (a cached
   * request reads a few hundred of them from disk, recommend/kept-scorers.ts).
   */
  config: Pick<ReadonlyMap<string, number>, 'get'>;
}

export interface AdditiveOptions {
  /** Pseudo-observations pulling a configuration's own effect to 0 (default 1). */
  configShrinkage?: number;
  /** Pseudo-observations pulling a model's effect to 0 (default 1). */
  modelShrinkage?: number;
  iterations?: number;
}

/** Fits the additive model by backfitting (block coordinate descent on the penalized squares). */
export function fitAdditive(table: RunTable, options: AdditiveOptions = {}): AdditiveFit {
  const lb = options.configShrinkage ?? 1;
  const la = options.modelShrinkage ?? 1;
  const iterations = options.iterations ?? 50;
  const runs = table.runs;
  const mu = new Map<string, number>();
  const a = new Map<string, number>();
  const b = new Map<string, number>();
  for (const r of runs) {
    a.set(r.model, 0);
    b.set(r.key, 0);
  }
  for (const [d, list] of table.byDataset) mu.set(d, mean(list.map((r) => r.y)));
  const byModel = groupBy(runs, (r) => r.model);
  const byKey = groupBy(runs, (r) => r.key);
  for (let it = 0; it < iterations; it++) {
    for (const [d, list] of table.byDataset)
      mu.set(d, mean(list.map((r) => r.y - a.get(r.model)! - b.get(r.key)!)));
    for (const [m, list] of byModel) {
      const s = list.reduce((acc, r) => acc + r.y - mu.get(r.dataset)! - b.get(r.key)!, 0);
      a.set(m, s / (list.length + la));
    }
    for (const [k, list] of byKey) {
      const s = list.reduce((acc, r) => acc + r.y - mu.get(r.dataset)! - a.get(r.model)!, 0);
      b.set(k, s / (list.length + lb));
    }
  }
  return { dataset: mu, model: a, config: b };
}

/** A candidate's effect: its model's plus its own (0 for what the table never saw). */
export function additiveEffect(fit: AdditiveFit, c: Candidate): number {
  return (fit.model.get(c.model) ?? 0) + (fit.config.get(keyOf(c)) ?? 0);
}

/**
 * Candidates best-first: the best expected effect, then each next one that most raises the sum
 * over past datasets of the best result among the picks so far. A cell never run is imputed as
 * the model's prediction (dataset effect plus the candidate's effect), so a configuration gains
 * nothing from where it was not tried, and loses nothing either.
 */
export function greedyPortfolio(
  table: RunTable,
  fit: AdditiveFit,
  candidates: readonly Candidate[],
): number[] {
  const n = candidates.length;
  if (n === 0) return [];
  const effects = candidates.map((c) => additiveEffect(fit, c));
  const keys = candidates.map(keyOf);
  const observed = new Map<string, Map<string, number>>();
  for (const [d, list] of table.byDataset) {
    const mu = fit.dataset.get(d)!;
    observed.set(d, new Map(list.map((r) => [r.key, r.y - mu])));
  }
  const cell = (d: string, i: number) => observed.get(d)!.get(keys[i]) ?? effects[i];
  const order: number[] = [];
  const remaining = new Set(candidates.map((_, i) => i));
  let first = 0;
  for (let i = 1; i < n; i++) if (effects[i] > effects[first]) first = i;
  order.push(first);
  remaining.delete(first);
  const best = new Map(table.datasets.map((d) => [d, cell(d, first)]));
  while (remaining.size) {
    let pick = -1;
    let pickGain = -Infinity;
    for (const i of remaining) {
      let gain = 0;
      for (const d of table.datasets) gain += Math.max(0, cell(d, i) - best.get(d)!);
      // Equal gains (often 0 once the portfolio covers every dataset) fall back to the effect.
      if (
        gain > pickGain + 1e-12 ||
        (Math.abs(gain - pickGain) <= 1e-12 && effects[i] > effects[pick])
      ) {
        pick = i;
        pickGain = gain;
      }
    }
    order.push(pick);
    remaining.delete(pick);
    for (const d of table.datasets) best.set(d, Math.max(best.get(d)!, cell(d, pick)));
  }
  return order;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = out.get(k);
    if (list) list.push(it);
    else out.set(k, [it]);
  }
  return out;
}
