// The MetaLLMiX core without an LLM: rank candidates by the meta-learner's predictions, choose
// under the objective (best / balanced / fastest) and budget, explain each pick with TreeSHAP,
// and (when retrieval is available) back it with the nearest past datasets and runs.
import { isLowerBetter, Rng, type Candidate, type DatasetProfile } from '../../core/index.ts';
import { treeShap } from '../../explain/index.ts';
import { decodeValue, encodeRows } from '../../learn/encode.ts';
import { assembleRecommendation, type Explained } from '../assemble.ts';
import { candidatesForRequest } from '../candidates.ts';
import { evidenceForCandidate } from '../evidence.ts';
import { metricScale, type KbView } from '../kb-view.ts';
import {
  outsideKnowledge,
  outsideRanges,
  predictCandidates,
  type MetaLearner,
} from '../metalearner.ts';
import { answer } from '../quality/model.ts';
import type { Weights } from '../quality/scorers.ts';
import { fromPoints } from '../quality/table.ts';
import { NO_LLM_NOTICE, writeJustification } from '../reasoning/llm-free-justification.ts';
import { reasoningContext } from '../reasoning/reasoning-context.ts';
import type { Scored } from '../select.ts';
import type { RecommendOptions, Recommender, StrategyDeps } from '../types.ts';

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
              // A missing value is a parameter the candidate's source does not set.
              `${c.value === null ? `${c.feature} not set` : `${c.feature} = ${fmt(c.value)}`} (${c.shap >= 0 ? '+' : ''}${c.shap.toFixed(2)} ${unit})`,
          )
          .join(', ')
      : 'no feature moves this prediction away from the average run';
    return { explanation: contributions, text };
  });
}

/** The meta-features training time grows with. */
const TIME_DRIVERS = ['n_instances', 'image_side'];

const SCORER_WORDS: Record<keyof Weights, string> = {
  metalearner: 'meta-learner',
  portfolio: 'best-on-average',
  neighbors: 'nearest datasets',
};
function blendWords(w: Weights): string {
  return (Object.keys(w) as (keyof Weights)[])
    .filter((k) => w[k] > 0)
    .map((k) => `${SCORER_WORDS[k]} ${w[k].toFixed(2)}`)
    .join(', ');
}

/** The metalearner strategy: the floor every LLM answer must beat, and the fallback. */
export function metalearnerRecommender(view: KbView, deps: StrategyDeps): Recommender {
  return {
    name: 'metalearner',
    async prepare(metric) {
      deps.metaLearners.validationFor(metric);
    },
    async recommend(profile, options: RecommendOptions) {
      const { learner, cached, ms } = deps.metaLearners.learnerFor(options.metric);
      const validation = deps.metaLearners.validationFor(options.metric);
      const evidence = deps.evidence
        ? await deps.evidence.retrieve(profile, options.metric)
        : undefined;
      const t1 = performance.now();
      const candidates = candidatesForRequest(view, options.candidates, new Rng(options.seed));
      const t2 = performance.now();
      const predictions = predictCandidates(learner, profile, candidates, view.cards);
      // Scores and intervals from the self-validated blend (oriented points); training times
      // from the meta-learner's time model.
      const a = answer(validation.model, validation.scorers, profile, candidates, {
        objective: 'best',
      });
      const position = new Map(a.order.map((i, r) => [i, r]));
      const scored: Scored[] = predictions.map((p, index) => ({
        index,
        score: a.intervals[index],
        tiebreak: -position.get(index)!,
        ...(p.trainingTimeSec ? { timeSec: p.trainingTimeSec } : {}),
      }));
      // On the stored scale, inside what the metric can reach (a score in [0, 1], a loss >= 0):
      // a conformal half-width is the same for every candidate and can pass the bound.
      const [floor, ceiling] = [0, isLowerBetter(options.metric) ? Infinity : 1];
      const stored = (points: number) =>
        Math.min(ceiling, Math.max(floor, fromPoints(options.metric, points)));
      const metricOf = (i: number) => {
        const iv = a.intervals[i];
        const [x, y] = [stored(iv.low), stored(iv.high)];
        return { mean: stored(iv.mean), low: Math.min(x, y), high: Math.max(x, y) };
      };
      const t3 = performance.now();
      const model = validation.model;
      const w = model.blend.weights;
      const notices: string[] = [...(evidence?.notices ?? [])];
      const outside = outsideKnowledge(learner, profile);
      if (outside.length)
        notices.push(
          `The dataset lies outside what the knowledge base covers: ${outside.join('; ')}. Predictions there are extrapolations.`,
        );
      // Training times scale with the number of images and their side: predicted from datasets
      // of other sizes, they are extrapolations even where the metric is not.
      const timeOutside = outsideRanges(
        (learner.timedRanges ?? []).filter((r) => TIME_DRIVERS.includes(r.feature)),
        profile,
      );
      if (learner.time.length && timeOutside.length)
        notices.push(
          `Training-time predictions are extrapolations: the times were measured on other dataset sizes (${timeOutside.join('; ')}).`,
        );
      if (learner.time.length === 0)
        notices.push(
          'The knowledge base records no training times: no time predictions, Pareto front or budget pick.',
        );
      notices.push(model.evidence.charAt(0).toUpperCase() + model.evidence.slice(1) + '.');
      if (evidence) notices.push(NO_LLM_NOTICE);
      const rec = assembleRecommendation({
        strategy: 'metalearner',
        profile,
        options,
        candidates,
        scored,
        metricOf,
        tieMargin: model.calibration.tie,
        validation: {
          evidence: model.evidence,
          weights: { ...w },
          tieMargin: model.calibration.tie,
          coverage: model.calibration.coverage,
        },
        space: view.space,
        kb: view,
        justification: (pick) =>
          `${w.metalearner === 1 ? `The meta-learner (gradient-boosted trees over ${learner.trainingRows} past configurations)` : `The self-validated blend (${blendWords(w)})`} predicts ${pick.model} with this configuration to do best${options.objective === 'best' ? '' : ` under the "${options.objective}" objective`}${pick.tied ? ', tied with the top score' : ''}; the meta-learner's deciding contributions: ${pick.explanationText}.`,
        notices,
        timingsMs: {
          // Fitting or loading the meta-learner, whenever it happened for these dependencies.
          metalearner: ms,
          // Running (or loading) the self-validation and setting up its scorers.
          validation: validation.ms,
          ...(evidence ? { retrieval: evidence.ms } : {}),
          candidates: t2 - t1,
          predict: t3 - t2,
        },
        counters: {
          metalearnerCache: cached ? 'hit' : deps.metaLearners.caching ? 'miss' : 'off',
          validationCache: validation.cached ? 'hit' : deps.metaLearners.caching ? 'miss' : 'off',
          ...(evidence ? { retrievalIndex: evidence.indexRebuilt ? 'rebuilt' : 'loaded' } : {}),
        },
        explain: (indices) =>
          explainCandidates(
            learner,
            profile,
            indices.map((i) => candidates[i]),
            view.cards,
          ),
        evidenceFor: evidence ? (c) => evidenceForCandidate(evidence.hits, c) : undefined,
      });
      if (!evidence) return rec;
      // With evidence, the justification cites it in the same [id] form the LLM strategies use.
      const context = reasoningContext({
        view,
        profile,
        options,
        learner,
        evidence,
        shortlist: rec.topK,
      });
      return { ...rec, justification: writeJustification(context, rec.pick) };
    },
  };
}
