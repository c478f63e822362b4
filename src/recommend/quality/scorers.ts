// The three zero-shot scorers a recommendation can lean on, fitted once on a knowledge-base view
// and asked together, so that validation, blending and intervals all see the same predictions:
//   metalearner: the GBDT meta-learner's effect (learner.ts);
//   portfolio:   the fair single-best effect of the additive model (portfolio.ts);
//   neighbors:   the candidate's results on the most similar past datasets (neighbors.ts),
//                the portfolio's effect where the neighbours never ran its model.
// Every score is "oriented points above the dataset's average run", so blends are plain convex
// combinations, with no rescaling that would depend on the candidate set.
import type { Candidate, DatasetProfile } from '../../core/index.ts';
import type { KbView } from '../kb-view.ts';
import {
  fitLearner,
  outsideCount,
  predictLearner,
  type LearnerPrediction,
  type LearnerSettings,
} from './learner.ts';
import {
  datasetSpace,
  nearestDatasets,
  neighborScores,
  type DatasetSpace,
  type Neighbor,
  type NeighborRuns,
} from './neighbors.ts';
import { additiveEffect, fitAdditive, type AdditiveFit } from './portfolio.ts';
import { mean, runTable, type RunTable } from './table.ts';
import { maxOf } from '../../core/arrays.ts';

export const SCORERS = ['metalearner', 'portfolio', 'neighbors'] as const;
export type ScorerName = (typeof SCORERS)[number];
export type Weights = Record<ScorerName, number>;

/**
 * Estimates of a new dataset's average run: the meta-learner's level model, the mean of the
 * past datasets' effects, and the neighbours' weighted mean.
 */
export const LEVEL_SOURCES = ['metalearner', 'average', 'neighbors'] as const;
export type LevelSource = (typeof LEVEL_SOURCES)[number];

/** How many nearest past datasets the neighbour scores average (the knn baseline's k). */
export const NEIGHBORS_K = 3;

/**
 * The meta-learner as the scorers ask it: per-member predictions and how far a profile lies
 * outside its training datasets. Inner folds fit learner.ts's light one; a request asks the
 * product's cached meta-learner (metalearner.ts), which is the same model fitted on the whole
 * knowledge base, so what the validation measured is what answers.
 */
export interface MemberPredictor {
  predict(
    profile: DatasetProfile,
    candidates: readonly Candidate[],
    cards: KbView['cards'],
  ): LearnerPrediction;
  outside(profile: DatasetProfile): number;
}

export interface TrainedScorers {
  view: KbView;
  metric: string;
  table: RunTable;
  learner: MemberPredictor;
  additive: AdditiveFit;
  space: DatasetSpace;
  /** The runs the neighbour scores read, when kept apart from `table` (a cached request's). */
  neighborRuns?: NeighborRuns;
}

export interface Prediction {
  /** Per scorer, per candidate: oriented points above the dataset's average run. */
  scores: Record<ScorerName, number[]>;
  /** Standard deviation of the meta-learner's effect over its ensemble members, per candidate. */
  effectSd: number[];
  /** Predicted average run on the dataset (oriented points), by each level estimate. */
  levels: Record<LevelSource, number>;
  /** Predicted log10 training seconds per candidate (undefined without recorded times). */
  logTime?: number[];
  /** Meta-features outside the training datasets' ranges (0 = inside). */
  outside: number;
  neighbors: Neighbor[];
}

export function trainScorers(
  view: KbView,
  metric: string,
  settings?: LearnerSettings,
  learner?: MemberPredictor,
): TrainedScorers {
  const table = runTable(view, metric);
  const fitted = learner ? undefined : fitLearner(view, metric, settings);
  return {
    view,
    metric,
    table,
    learner: learner ?? {
      predict: (profile, candidates, cards) => predictLearner(fitted!, profile, candidates, cards),
      outside: (profile) => outsideCount(fitted!, profile),
    },
    additive: fitAdditive(table),
    space: datasetSpace(view, table.datasets),
  };
}

function sd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
}

export function predict(
  t: TrainedScorers,
  profile: DatasetProfile,
  candidates: readonly Candidate[],
): Prediction {
  const p = t.learner.predict(profile, candidates, t.view.cards);
  const ml = candidates.map((_, i) => mean(p.effect.map((e) => e[i])));
  const effectSd = candidates.map((_, i) => sd(p.effect.map((e) => e[i])));
  const portfolio = candidates.map((c) => additiveEffect(t.additive, c));
  const neighbors = nearestDatasets(t.space, profile, NEIGHBORS_K);
  const runs = t.neighborRuns ?? { runsOf: (d: string) => t.table.byDataset.get(d)! };
  const near = neighborScores(runs, t.additive, neighbors, candidates).map(
    (v, i) => v ?? portfolio[i],
  );
  return {
    scores: { metalearner: ml, portfolio, neighbors: near },
    effectSd,
    levels: {
      metalearner: mean(p.level),
      average: mean([...t.additive.dataset.values()]),
      neighbors:
        neighbors.reduce((acc, n) => acc + n.weight * t.additive.dataset.get(n.dataset)!, 0) /
        neighbors.reduce((acc, n) => acc + n.weight, 0),
    },
    logTime: p.logTime.length
      ? candidates.map((_, i) => mean(p.logTime.map((t) => t[i])))
      : undefined,
    outside: t.learner.outside(profile),
    neighbors,
  };
}

/** The convex combination of the scorers' effects. */
export function blend(p: Prediction, w: Weights): number[] {
  const n = p.scores.metalearner.length;
  const out = new Array<number>(n).fill(0);
  for (const s of SCORERS)
    if (w[s] !== 0) for (let i = 0; i < n; i++) out[i] += w[s] * p.scores[s][i];
  return out;
}

/**
 * Candidates best-first by blended score. Exact ties (common when the blend is the portfolio
 * alone and every candidate of a model is a configuration it never saw) are broken by the
 * meta-learner's score, then the neighbours', then the candidate's position: taking the first
 * listed configuration of the best model would make the pick depend on the order of a file.
 */
export function blendOrder(p: Prediction, w: Weights): number[] {
  const s = blend(p, w);
  const tie = 1e-9 * (1 + maxOf(s.map(Math.abs)));
  const ml = p.scores.metalearner;
  const nb = p.scores.neighbors;
  return s
    .map((_, i) => i)
    .sort((a, b) =>
      Math.abs(s[b] - s[a]) > tie ? s[b] - s[a] : ml[b] - ml[a] || nb[b] - nb[a] || a - b,
    );
}

/** Weight vectors on the simplex with the given step (0.25: 15 vectors), pure scorers first. */
export function weightGrid(step: number): Weights[] {
  const k = Math.round(1 / step);
  const out: Weights[] = [];
  for (let a = 0; a <= k; a++)
    for (let b = 0; a + b <= k; b++) {
      const c = k - a - b;
      out.push({ metalearner: a / k, portfolio: b / k, neighbors: c / k });
    }
  const purity = (w: Weights) => -Math.max(w.metalearner, w.portfolio, w.neighbors);
  return out.sort((x, y) => purity(x) - purity(y));
}
