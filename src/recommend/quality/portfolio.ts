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
import { keyOf, type PointRun, type RunTable } from './table.ts';

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

/**
 * Fits the additive model by backfitting (block coordinate descent on the penalized squares).
 * Works on integer codes and typed arrays (at 200,000 runs, string-keyed maps made it seconds per
 * fit), adding in the order of the runs in each group, so it gives the same effects to the bit.
 */
export function fitAdditive(table: RunTable, options: AdditiveOptions = {}): AdditiveFit {
  const lb = options.configShrinkage ?? 1;
  const la = options.modelShrinkage ?? 1;
  const iterations = options.iterations ?? 50;
  const models = new Codes();
  const keys = new Codes();
  const runY: number[] = [];
  const runModel: number[] = [];
  const runKey: number[] = [];
  const runDataset: number[] = [];
  const indexOf = new Map<PointRun, number>();
  const code = (r: PointRun, d: number): number => {
    const i = runY.push(r.y) - 1;
    runModel.push(models.of(r.model));
    runKey.push(keys.of(r.key));
    runDataset.push(d);
    return i;
  };
  for (const r of table.runs) indexOf.set(r, code(r, -1));
  const datasets = [...table.byDataset.keys()];
  // A run of a dataset's list that is not in table.runs still counts for its dataset's effect.
  const byDataset = datasets.map((d, di) =>
    Int32Array.from(table.byDataset.get(d)!, (r) => {
      const i = indexOf.get(r) ?? code(r, di);
      runDataset[i] = di;
      return i;
    }),
  );
  const inRuns = table.runs.length;
  const byModel = groups(runModel, models.size, inRuns);
  const byKey = groups(runKey, keys.size, inRuns);
  const y = Float64Array.from(runY);
  const mu = Float64Array.from(byDataset, (list) => {
    let s = 0;
    for (const i of list) s += y[i];
    return list.length ? s / list.length : Number.NaN;
  });
  const a = new Float64Array(models.size);
  const b = new Float64Array(keys.size);
  for (let it = 0; it < iterations; it++) {
    byDataset.forEach((list, d) => {
      let s = 0;
      for (const i of list) s += y[i] - a[runModel[i]] - b[runKey[i]];
      mu[d] = list.length ? s / list.length : Number.NaN;
    });
    byModel.forEach((list, m) => {
      let s = 0;
      for (const i of list) s = s + y[i] - mu[runDataset[i]] - b[runKey[i]];
      a[m] = s / (list.length + la);
    });
    byKey.forEach((list, k) => {
      let s = 0;
      for (const i of list) s = s + y[i] - mu[runDataset[i]] - a[runModel[i]];
      b[k] = s / (list.length + lb);
    });
  }
  return {
    dataset: new Map(datasets.map((d, i) => [d, mu[i]])),
    model: new Map(models.names.map((m, i) => [m, a[i]])),
    config: new Map(keys.names.map((k, i) => [k, b[i]])),
  };
}

/** Dense codes of names in order of first appearance. */
class Codes {
  readonly names: string[] = [];
  private readonly codes = new Map<string, number>();
  get size(): number {
    return this.names.length;
  }
  of(name: string): number {
    let c = this.codes.get(name);
    if (c === undefined) this.codes.set(name, (c = this.names.push(name) - 1));
    return c;
  }
}

/** Indices 0..n-1 grouped by their code, each group in index order. */
function groups(codes: readonly number[], size: number, n: number): Int32Array[] {
  const count = new Int32Array(size);
  for (let i = 0; i < n; i++) count[codes[i]]++;
  const out = Array.from(count, (c) => new Int32Array(c));
  const fill = new Int32Array(size);
  for (let i = 0; i < n; i++) out[codes[i]][fill[codes[i]]++] = i;
  return out;
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
