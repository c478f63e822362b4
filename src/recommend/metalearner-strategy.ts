// The MetaLLMiX core without an LLM: rank candidates by the meta-learner's predictions, choose
// under the objective (best / balanced / fastest) and budget, explain each pick with TreeSHAP.
import { Rng, type Candidate, type DatasetProfile, type EvidenceRef } from '../core/index.ts';
import { treeShap } from '../explain/index.ts';
import { decodeValue, encodeRows } from '../learn/encode.ts';
import { assembleRecommendation, type Explained } from './assemble.ts';
import { loadOrFit } from './cache.ts';
import { candidatesForRequest } from './candidates.ts';
import { metricScale, metricSign, type KbView } from './kb-view.ts';
import {
  DEFAULT_SETTINGS,
  fitMetaLearner,
  outsideKnowledge,
  predictCandidates,
  type MetaLearner,
  type MetaLearnerSettings,
} from './metalearner.ts';
import type { Scored } from './select.ts';
import type { RecommendOptions, Recommender } from './types.ts';

export interface MetaLearnerStrategyOptions {
  /** Where trained meta-learners are cached; undefined = never cache (benchmark folds). */
  cacheDir?: string;
  settings?: Partial<Omit<MetaLearnerSettings, 'metric'>>;
  /** Past datasets and runs that back a candidate (retrieval); none when absent. */
  evidence?: (profile: DatasetProfile, candidate: Candidate) => EvidenceRef[];
  /** Writes the justification of the pick; a SHAP summary when absent. */
  justify?: (profile: DatasetProfile, pick: { explanationText: string; model: string }) => string;
  maxCandidates?: number;
}

/** How many SHAP contributions an explanation keeps. */
const TOP_CONTRIBUTIONS = 4;

function fmt(v: number | string | null): string {
  if (typeof v !== 'number') return String(v);
  if (v !== 0 && (Math.abs(v) < 0.01 || Math.abs(v) >= 1e5)) return v.toExponential(1);
  return Number.isInteger(v) ? String(v) : v.toPrecision(3);
}

/** Local SHAP explanation of the effect ensemble (the part that ranks candidates) for some rows. */
export function explainCandidates(
  learner: MetaLearner,
  profile: DatasetProfile,
  candidates: readonly Candidate[],
  cards: KbView['cards'],
): Explained[] {
  if (candidates.length === 0) return [];
  const f = learner.encoder.features.length;
  const X = encodeRows(
    learner.encoder,
    candidates.map((c) => ({
      profile,
      card: cards.get(c.model),
      model: c.model,
      config: c.config,
    })),
  );
  const sum = new Float64Array(candidates.length * f);
  for (const member of learner.effect) {
    const { values } = treeShap(member, X, candidates.length);
    for (let i = 0; i < sum.length; i++) sum[i] += values[i] / learner.effect.length;
  }
  const unit = metricScale(learner.settings.metric) === 100 ? 'points' : learner.settings.metric;
  return candidates.map((_, r) => {
    const contributions = learner.encoder.features
      .map((spec, j) => ({
        feature: spec.name,
        value: decodeValue(spec, X[r * f + j]),
        shap: sum[r * f + j],
      }))
      .filter((c) => c.shap !== 0)
      .sort((a, b) => Math.abs(b.shap) - Math.abs(a.shap))
      .slice(0, TOP_CONTRIBUTIONS);
    const text = contributions.length
      ? contributions
          .map(
            (c) =>
              `${c.feature} = ${fmt(c.value)} (${c.shap >= 0 ? '+' : ''}${c.shap.toFixed(2)} ${unit})`,
          )
          .join(', ')
      : 'no feature moves this prediction away from the average run';
    return { explanation: contributions, text };
  });
}

/** The metalearner strategy, which also lends its fitted meta-learner to the LLM pipeline. */
export interface MetaLearnerRecommender extends Recommender {
  learnerFor(metric: string): { learner: MetaLearner; cached: boolean; ms: number };
}

export function metalearnerRecommender(
  view: KbView,
  strategyOptions: MetaLearnerStrategyOptions = {},
): MetaLearnerRecommender {
  const learners = new Map<string, { learner: MetaLearner; cached: boolean; ms: number }>();
  const learnerFor = (metric: string) => {
    let entry = learners.get(metric);
    if (!entry) {
      const settings: MetaLearnerSettings = {
        ...DEFAULT_SETTINGS,
        ...strategyOptions.settings,
        metric,
      };
      const t0 = performance.now();
      const outcome = loadOrFit(
        view.version,
        settings,
        () => fitMetaLearner(view, settings),
        strategyOptions.cacheDir,
      );
      entry = { ...outcome, ms: performance.now() - t0 };
      learners.set(metric, entry);
    }
    return entry;
  };
  return {
    name: 'metalearner',
    learnerFor,
    async prepare(metric) {
      learnerFor(metric);
    },
    async recommend(profile, options: RecommendOptions) {
      const { learner, cached, ms } = learnerFor(options.metric);
      const t1 = performance.now();
      const candidates = candidatesForRequest(
        view,
        options.candidates,
        new Rng(options.seed),
        strategyOptions.maxCandidates,
      );
      const t2 = performance.now();
      const predictions = predictCandidates(learner, profile, candidates, view.cards);
      const sign = metricSign(options.metric);
      const scored: Scored[] = predictions.map((p, index) => ({
        index,
        score:
          sign > 0 ? p.effect : { mean: -p.effect.mean, low: -p.effect.high, high: -p.effect.low },
        ...(p.trainingTimeSec ? { timeSec: p.trainingTimeSec } : {}),
      }));
      const t3 = performance.now();
      const notices: string[] = [];
      const outside = outsideKnowledge(learner, profile);
      if (outside.length)
        notices.push(
          `The dataset lies outside what the knowledge base covers: ${outside.join('; ')}. Predictions there are extrapolations.`,
        );
      if (learner.time.length === 0)
        notices.push(
          'The knowledge base records no training times: no time predictions, Pareto front or budget pick.',
        );
      const datasets = new Set(view.records.map((r) => r.dataset)).size;
      return assembleRecommendation({
        strategy: 'metalearner',
        profile,
        options,
        candidates,
        scored,
        metricOf: (i) => predictions[i].metric,
        space: view.space,
        kb: { version: view.version, records: view.records.length, datasets },
        justification: (pick) =>
          strategyOptions.justify
            ? strategyOptions.justify(profile, pick)
            : `The meta-learner (gradient-boosted trees over ${learner.trainingRows} past configurations) predicts ${pick.model} with this configuration to do best${options.objective === 'best' ? '' : ` under the "${options.objective}" objective`}; the deciding contributions: ${pick.explanationText}.`,
        notices,
        timingsMs: {
          // Fitting or loading the meta-learner, whenever it happened for this recommender.
          metalearner: ms,
          metalearnerCached: cached ? 1 : 0,
          candidates: t2 - t1,
          predict: t3 - t2,
        },
        explain: (indices) =>
          explainCandidates(
            learner,
            profile,
            indices.map((i) => candidates[i]),
            view.cards,
          ),
        evidenceFor: strategyOptions.evidence
          ? (c) => strategyOptions.evidence!(profile, c)
          : undefined,
      });
    },
  };
}
