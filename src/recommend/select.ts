// Turning scored candidates into picks: ordering under an objective, the Pareto front of metric
// vs training time, and the pick under a training-time budget.
import type { Interval, Objective } from '../core/index.ts';

export interface Scored {
  index: number;
  /** Larger is better (already oriented for lower-is-better metrics). */
  score: Interval;
  timeSec?: Interval;
  /** Breaks exact score ties (larger first) before the index does. */
  tiebreak?: number;
}

// Comparisons, not differences: scores may be -Infinity (never seen) and Infinity - Infinity is NaN.
const cmp = (x: number, y: number) => (x < y ? -1 : x > y ? 1 : 0);
const byScore = (a: Scored, b: Scored) =>
  cmp(b.score.mean, a.score.mean) || cmp(b.tiebreak ?? 0, a.tiebreak ?? 0) || a.index - b.index;
const byTime = (a: Scored, b: Scored) =>
  cmp(a.timeSec?.mean ?? Infinity, b.timeSec?.mean ?? Infinity) || byScore(a, b);

/**
 * Candidates best-first under the objective.
 * - best: highest predicted score.
 * - balanced: the candidates not credibly worse than the best ordered fastest first, then the
 *   rest by score. With a measured tie margin (the metalearner strategy's validation), those
 *   whose mean is within it of the best; otherwise those whose interval reaches the best mean.
 *   A confident gap is paid for in time, an uncertain one is not.
 * - fastest: candidates predicted at least as good as the median candidate, fastest first.
 * Without time predictions every objective falls back to `best`.
 */
export function orderByObjective(
  items: readonly Scored[],
  objective: Objective,
  tieMargin?: number,
): Scored[] {
  const sorted = items.slice().sort(byScore);
  if (objective === 'best' || sorted.length === 0 || sorted.some((s) => s.timeSec === undefined))
    return sorted;
  let eligible: Scored[];
  if (objective === 'balanced') {
    const bestMean = sorted[0].score.mean;
    eligible = sorted.filter((s) =>
      tieMargin === undefined ? s.score.high >= bestMean : s.score.mean >= bestMean - tieMargin,
    );
  } else {
    const median = sorted[Math.floor((sorted.length - 1) / 2)].score.mean;
    eligible = sorted.filter((s) => s.score.mean >= median);
  }
  const chosen = new Set(eligible);
  return [...eligible.sort(byTime), ...sorted.filter((s) => !chosen.has(s))];
}

/** Candidates not dominated in (higher score, lower time), fastest first. */
export function paretoFront(items: readonly Scored[]): Scored[] {
  const timed = items.filter((s) => s.timeSec !== undefined).sort(byTime);
  const front: Scored[] = [];
  let bestScore = -Infinity;
  for (const s of timed) {
    if (s.score.mean > bestScore) {
      front.push(s);
      bestScore = s.score.mean;
    }
  }
  return front;
}

/** The first candidate of `ordered` predicted to train within the budget, or undefined. */
export function pickUnderBudget(ordered: readonly Scored[], budgetSec: number): Scored | undefined {
  return ordered.find((s) => s.timeSec !== undefined && s.timeSec.mean <= budgetSec);
}
