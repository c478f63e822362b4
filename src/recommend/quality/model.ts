// The self-validating recommender's two entry points.
//
//   validateKnowledgeBase(view, metric): once per knowledge-base version. Inner validation
//     (inner.ts), then the blend (blend.ts) and the calibration (calibrate.ts) chosen from that
//     evidence. The result is small plain data (weights, widths, a tie margin, figures, one
//     evidence line): metalearner-source.ts caches it as JSON beside the meta-learner, keyed by
//     the knowledge-base version and the settings.
//   answer(model, scorers, profile, candidates, options): per request, from the cached model and
//     the scorers on the whole knowledge base: ranking under the objective, 80% intervals, and
//     the set of candidates tied with the top one.
import type { Candidate, DatasetProfile } from '../../core/index.ts';
import type { KbView } from '../kb-view.ts';
import { chooseBlend, type BlendChoice } from './blend.ts';
import { balancedOrder, calibrate, intervals, type Calibration } from './calibrate.ts';
import { innerCases, type InnerCase, type InnerOptions } from './inner.ts';
import { blend, blendOrder, predict, type Prediction, type TrainedScorers } from './scorers.ts';
import { maxOf } from '../../core/arrays.ts';

export interface QualityModel {
  version: string;
  metric: string;
  blend: BlendChoice;
  calibration: Calibration;
  /** The line shown with every answer. */
  evidence: string;
}

/** The model chosen from inner cases already computed (the few-shot layer reuses the cases). */
export function modelFromCases(
  view: KbView,
  metric: string,
  cases: readonly InnerCase[],
): QualityModel {
  const choice = chooseBlend(cases);
  return {
    version: view.version,
    metric,
    blend: choice,
    calibration: calibrate(cases, choice.weights),
    evidence: choice.evidence,
  };
}

export function validateKnowledgeBase(
  view: KbView,
  metric: string,
  options: InnerOptions = {},
): QualityModel {
  return modelFromCases(view, metric, innerCases(view, metric, options));
}

export interface AnswerOptions {
  objective: 'best' | 'balanced';
}

export interface Answer {
  /** Candidate indices best-first under the objective. */
  order: number[];
  /** Blended effect per candidate (oriented points above the dataset's average run). */
  scores: number[];
  /** 80% intervals of the metric per candidate (oriented points). */
  intervals: { mean: number; low: number; high: number }[];
  /** Candidates statistically tied with the top one (the set `balanced` chooses in). */
  tied: number[];
  evidence: string;
  prediction: Prediction;
}

export function answer(
  model: QualityModel,
  scorers: TrainedScorers,
  profile: DatasetProfile,
  candidates: readonly Candidate[],
  options: AnswerOptions,
): Answer {
  const p = predict(scorers, profile, candidates);
  const w = model.blend.weights;
  const scores = blend(p, w);
  const top = maxOf(scores);
  return {
    order:
      options.objective === 'balanced' ? balancedOrder(p, w, model.calibration) : blendOrder(p, w),
    scores,
    intervals: intervals(p, w, model.calibration),
    tied: scores.map((_, i) => i).filter((i) => scores[i] >= top - model.calibration.tie),
    evidence: model.evidence,
    prediction: p,
  };
}
