// The plain data every quality module works on: a knowledge-base view's finished runs, averaged
// per dataset x configuration and oriented so that larger is better, in the points users read
// (accuracy 0.913 -> 91.3; losses negated). Keeping one orientation here means no scorer,
// blend or interval needs to know the metric again.
import {
  aggregateRuns,
  byDataset,
  candidateKey,
  metricScale,
  metricSign,
  type AggregatedRun,
  type KbView,
} from '../kb-view.ts';
import type { Candidate } from '../../core/index.ts';

export interface PointRun {
  dataset: string;
  model: string;
  key: string;
  run: AggregatedRun;
  /** Oriented metric points: larger is better. */
  y: number;
}

export interface RunTable {
  metric: string;
  runs: PointRun[];
  /** Runs per dataset, datasets sorted by name. */
  byDataset: Map<string, PointRun[]>;
  datasets: string[];
}

/** Oriented points of a stored metric value (and back, for absolute predictions). */
export function toPoints(metric: string, value: number): number {
  return metricSign(metric) * metricScale(metric) * value;
}
export function fromPoints(metric: string, points: number): number {
  return points / (metricSign(metric) * metricScale(metric));
}

/** Finished runs with the metric on profiled datasets (what a recommender can learn from). */
export function runTable(view: KbView, metric: string): RunTable {
  const runs = aggregateRuns(view.records, metric)
    .filter((r) => view.profiles.has(r.dataset))
    .map((r) => ({
      dataset: r.dataset,
      model: r.model,
      key: r.key,
      run: r,
      y: toPoints(metric, r.value),
    }));
  const grouped = byDataset(runs);
  const datasets = [...grouped.keys()].sort();
  return { metric, runs, byDataset: new Map(datasets.map((d) => [d, grouped.get(d)!])), datasets };
}

export function keyOf(c: Candidate): string {
  return candidateKey(c.model, c.config);
}

export function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : Number.NaN;
}
