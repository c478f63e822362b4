// Calibrated uncertainty from inner-validation residuals.
//
// Intervals: split-conformal. The inner cases give, for every configuration of every inner
// dataset, the error of the absolute prediction (level + blended effect) made without that
// dataset. The 80% half-width is the weighted conformal quantile of |error|, each dataset
// weighing 1 in total (a dataset with 180 runs must not set the width for one with 20), with the
// finite-sample correction over datasets. The level is whichever estimate (meta-learner level
// model, mean of past datasets, neighbours) gives the narrowest calibrated width. Datasets outside the training meta-feature ranges get
// their own quantile (Mondrian conformal by "inside / outside"), so extrapolation is wider where
// the evidence says it errs more; with fewer than MIN_CLASS such datasets the outside width is
// the inside width at the 90% level, never narrower than the inside one.
//
// Ties: the error of a predicted difference between the top candidate and one of the next ones,
// e = (true_top - true_j) - (pred_top - pred_j). Half of those errors are smaller than its median
// |e|, so a predicted gap below that median is not evidence of an order: those candidates are
// tied with the top one, and `balanced` may take the cheapest of them.
import type { InnerCase } from './inner.ts';
import {
  blend,
  blendOrder,
  LEVEL_SOURCES,
  type LevelSource,
  type Prediction,
  type Weights,
} from './scorers.ts';
import { maxOf } from '../../core/arrays.ts';

export interface Calibration {
  coverage: number;
  /** Which estimate of the dataset's average run the absolute predictions start from. */
  level: LevelSource;
  /** Half-width (points) of the central interval for a dataset inside / outside the ranges. */
  halfWidth: { inside: number; outside: number };
  /** Predicted-effect gap (points) under which candidates count as tied with the top one. */
  tie: number;
  datasets: { inside: number; outside: number };
}

export const COVERAGE = 0.8;
/** Fewest datasets a Mondrian class needs for its own quantile. */
export const MIN_CLASS = 3;
/** How many next-best candidates each inner case compares with its top one for the tie margin. */
export const TIE_DEPTH = 5;

/** Predicted absolute points (oriented) of every candidate: level plus blended effect. */
export function absolute(p: Prediction, w: Weights, level: LevelSource): number[] {
  return blend(p, w).map((e) => p.levels[level] + e);
}

/** Quantile of scores where each dataset's scores share weight 1, corrected for D datasets. */
function datasetWeightedQuantile(groups: readonly number[][], q: number): number {
  const items: { s: number; w: number }[] = [];
  for (const g of groups) for (const s of g) items.push({ s, w: 1 / g.length });
  if (items.length === 0) return Infinity;
  const d = groups.length;
  const level = Math.min(1, (q * (d + 1)) / d);
  if (level >= 1) return maxOf(items.map((i) => i.s));
  items.sort((a, b) => a.s - b.s);
  let acc = 0;
  for (const it of items) {
    acc += it.w / d;
    if (acc >= level - 1e-12) return it.s;
  }
  return items[items.length - 1].s;
}

function halfWidths(
  cases: readonly InnerCase[],
  w: Weights,
  level: LevelSource,
  coverage: number,
): { inside: number; outside: number; nIn: number; nOut: number } {
  const errors = cases.map((c) => {
    const abs = absolute(c.prediction, w, level);
    return c.truth.map((t, i) => Math.abs(t - abs[i]));
  });
  const inside = errors.filter((_, i) => cases[i].prediction.outside === 0);
  const outside = errors.filter((_, i) => cases[i].prediction.outside > 0);
  const qIn = datasetWeightedQuantile(inside.length >= MIN_CLASS ? inside : errors, coverage);
  const qOut =
    outside.length >= MIN_CLASS
      ? datasetWeightedQuantile(outside, coverage)
      : datasetWeightedQuantile(errors, (1 + coverage) / 2);
  return { inside: qIn, outside: Math.max(qIn, qOut), nIn: inside.length, nOut: outside.length };
}

/**
 * The calibration for blend weights `w`: the level estimate whose calibrated inside interval is
 * narrowest (three candidates, so the selection costs little of the guarantee), its half-widths,
 * and the tie margin.
 */
export function calibrate(
  cases: readonly InnerCase[],
  w: Weights,
  coverage = COVERAGE,
): Calibration {
  const options = LEVEL_SOURCES.map((level) => ({
    level,
    ...halfWidths(cases, w, level, coverage),
  }));
  const chosen = options.reduce((a, b) => (b.inside < a.inside - 1e-12 ? b : a));
  const gaps: number[] = [];
  for (const c of cases) {
    const s = blend(c.prediction, w);
    const order = blendOrder(c.prediction, w);
    const top = order[0];
    for (const j of order.slice(1, 1 + TIE_DEPTH))
      gaps.push(Math.abs(c.truth[top] - c.truth[j] - (s[top] - s[j])));
  }
  gaps.sort((a, b) => a - b);
  return {
    coverage,
    level: chosen.level,
    halfWidth: { inside: chosen.inside, outside: chosen.outside },
    tie: gaps.length ? gaps[Math.floor((gaps.length - 1) / 2)] : 0,
    datasets: { inside: chosen.nIn, outside: chosen.nOut },
  };
}

/** Central intervals (oriented points) of every candidate. */
export function intervals(
  p: Prediction,
  w: Weights,
  cal: Calibration,
): { mean: number; low: number; high: number }[] {
  const h = p.outside > 0 ? cal.halfWidth.outside : cal.halfWidth.inside;
  return absolute(p, w, cal.level).map((m) => ({ mean: m, low: m - h, high: m + h }));
}

/**
 * Candidates best-first under `balanced`: the candidates tied with the top one (predicted effect
 * within the tie margin) fastest first, then the rest by score. Without times, by score.
 */
export function balancedOrder(p: Prediction, w: Weights, cal: Calibration): number[] {
  const s = blend(p, w);
  const byScore = blendOrder(p, w);
  const t = p.logTime;
  if (!t) return byScore;
  const top = s[byScore[0]];
  const tied = byScore.filter((i) => s[i] >= top - cal.tie);
  const rest = byScore.filter((i) => s[i] < top - cal.tie);
  return [...tied.sort((a, b) => t[a] - t[b] || s[b] - s[a]), ...rest];
}
