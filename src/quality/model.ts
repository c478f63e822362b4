// The self-validating recommender's two entry points.
//
//   validateKnowledgeBase(view, metric): once per knowledge-base version. Inner validation
//     (inner.ts), then the blend (blend.ts), the calibration (calibrate.ts) and the few-shot
//     continuation (fewshot.ts) chosen from that evidence. The result is small plain data
//     (weights, widths, a kernel, figures, one evidence line): cache it as JSON beside the
//     meta-learner, keyed by the knowledge-base version and the metric.
//   answer(model, scorers, profile, candidates, options): per request, from the cached model and
//     the scorers fitted on the whole knowledge base (trainScorers, cached like the meta-learner):
//     ranking under the objective, 80% intervals, the tie set, and the next trial given results
//     already observed on the new dataset.
import type { Candidate, DatasetProfile } from '../core/index.ts';
import type { KbView } from '../recommend/kb-view.ts';
import { chooseBlend, type BlendChoice } from './blend.ts';
import { absolute, balancedOrder, calibrate, intervals, type Calibration } from './calibrate.ts';
import {
  chooseFewShot,
  nextTrial,
  pastResults,
  type FewShotChoice,
  type Observation,
} from './fewshot.ts';
import { innerCases, type InnerOptions } from './inner.ts';
import { blend, blendOrder, predict, type Prediction, type TrainedScorers } from './scorers.ts';

export interface QualityModel {
  version: string;
  metric: string;
  blend: BlendChoice;
  calibration: Calibration;
  fewshot: FewShotChoice;
  /** The line shown with every answer. */
  evidence: string;
}

export function validateKnowledgeBase(
  view: KbView,
  metric: string,
  options: InnerOptions = {},
): QualityModel {
  const cases = innerCases(view, metric, options);
  const choice = chooseBlend(cases);
  const calibration = calibrate(cases, choice.weights);
  const fewshot = chooseFewShot(view, metric, cases, choice.weights, calibration.level);
  return {
    version: view.version,
    metric,
    blend: choice,
    calibration,
    fewshot,
    evidence: choice.evidence,
  };
}

export interface AnswerOptions {
  objective: 'best' | 'balanced';
  /** Results already observed on the new dataset (candidate index, oriented points). */
  observed?: Observation[];
}

export interface Answer {
  /** Candidate indices best-first under the objective (zero-shot). */
  order: number[];
  /** Blended effect per candidate (oriented points above the dataset's average run). */
  scores: number[];
  /** 80% intervals of the metric per candidate (oriented points). */
  intervals: { mean: number; low: number; high: number }[];
  /** Candidates statistically tied with the top one (the set `balanced` chooses in). */
  tied: number[];
  /** With observations: the candidate to run next. */
  next?: number;
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
  const top = Math.max(...scores);
  const order =
    options.objective === 'balanced' ? balancedOrder(p, w, model.calibration) : blendOrder(p, w);
  const out: Answer = {
    order,
    scores,
    intervals: intervals(p, w, model.calibration),
    tied: scores.map((_, i) => i).filter((i) => scores[i] >= top - model.calibration.tie),
    evidence: model.evidence,
    prediction: p,
  };
  if (options.observed?.length) {
    out.next = nextTrial(
      model.fewshot.method,
      {
        prior: absolute(p, w, model.calibration.level),
        first: blendOrder(p, w)[0],
        candidates,
        past:
          model.fewshot.method === 'mixture'
            ? pastResults(scorers.view, scorers.metric, candidates)
            : [],
        kernel: model.fewshot.kernel,
        space: scorers.view.space,
        cards: scorers.view.cards,
      },
      options.observed,
    );
  }
  return out;
}
