// Builds the Recommendation every strategy returns from its scored candidates, so that picks,
// top-k, Pareto front and budget pick mean the same thing whichever strategy scored them.
import {
  ExitCode,
  MetallmixError,
  RECOMMENDATION_SCHEMA_VERSION,
  type Counters,
  type Unmet,
} from '../core/index.ts';
import type {
  Candidate,
  Contribution,
  DatasetProfile,
  EvidenceRef,
  Interval,
  Recommendation,
  RecommendedConfig,
  SearchSpace,
} from '../core/index.ts';
import { extrapolatedParameters } from './candidates.ts';
import type { KbView } from './kb-view.ts';
import { orderByObjective, paretoFront, pickUnderBudget, type Scored } from './select.ts';
import type { RecommendOptions } from './types.ts';
import { maxOf } from '../core/arrays.ts';

export interface Explained {
  explanation: Contribution[];
  text: string;
}

export interface AssembleInput {
  strategy: string;
  profile: DatasetProfile;
  options: RecommendOptions;
  candidates: readonly Candidate[];
  scored: readonly Scored[];
  /** Predicted metric (stored scale) of candidate i. */
  metricOf(i: number): Interval;
  space: SearchSpace;
  kb: Pick<KbView, 'label' | 'version' | 'summary'>;
  justification: (pick: RecommendedConfig) => string;
  notices: string[];
  timingsMs: Record<string, number>;
  counters?: Partial<Counters>;
  explain?: (indices: number[]) => Explained[];
  evidenceFor?: (candidate: Candidate) => EvidenceRef[];
  /**
   * Score gap under which candidates are statistically tied with the best-scoring one (same
   * units as the scores): `balanced` chooses among exactly those, and they are marked `tied`.
   */
  tieMargin?: number;
  /** The self-validation behind the scores, when there is one. */
  validation?: Recommendation['validation'];
}

/** How an answer names the knowledge base it was made from (exports check the version). */
export function knowledgeBaseOf(
  kb: Pick<KbView, 'label' | 'version' | 'summary'>,
): Recommendation['knowledgeBase'] {
  return {
    label: kb.label,
    version: kb.version,
    records: kb.summary.records,
    datasets: kb.summary.datasets,
  };
}

export function assembleRecommendation(input: AssembleInput): Recommendation {
  const { options, candidates } = input;
  if (candidates.length === 0)
    throw new MetallmixError('no candidates to recommend from', {
      exitCode: ExitCode.unsatisfiable,
    });
  const ordered = orderByObjective(input.scored, options.objective, input.tieMargin);
  const bestMean = maxOf(input.scored.map((s) => s.score.mean));
  const tiedWithBest = (s: Scored) =>
    input.tieMargin === undefined ? undefined : s.score.mean >= bestMean - input.tieMargin;
  const frontList = paretoFront(input.scored);
  const front = new Set(frontList.map((s) => s.index));
  const explainTop = Math.min(options.explainTop ?? 5, options.topK);
  const started = performance.now();
  const explanations = input.explain
    ? input.explain(ordered.slice(0, explainTop).map((s) => s.index))
    : [];
  const explainMs = performance.now() - started;

  const toConfig = (s: Scored, rank: number, explained?: Explained): RecommendedConfig => {
    const c = candidates[s.index];
    return {
      model: c.model,
      config: c.config,
      rank,
      predictedMetric: input.metricOf(s.index),
      ...(s.timeSec ? { predictedTrainingTimeSec: s.timeSec } : {}),
      onParetoFront: front.has(s.index),
      extrapolated: extrapolatedParameters(input.space, c.config),
      explanation: explained?.explanation ?? [],
      explanationText: explained?.text ?? '',
      evidence: rank <= explainTop && input.evidenceFor ? input.evidenceFor(c) : [],
      ...(input.tieMargin === undefined ? {} : { tied: tiedWithBest(s) }),
    };
  };
  const topK = ordered.slice(0, options.topK).map((s, i) => toConfig(s, i + 1, explanations[i]));
  const rankOf = new Map(ordered.map((s, i) => [s.index, i]));
  const recommended = (s: Scored) =>
    topK[rankOf.get(s.index)!] ?? toConfig(s, rankOf.get(s.index)! + 1);
  const notices = input.notices.slice();
  if (options.objective !== 'best' && input.scored.some((s) => s.timeSec === undefined))
    notices.push(
      `No training-time predictions for every candidate, so the "${options.objective}" objective orders by the metric alone, as "best".`,
    );
  const unmet: Unmet[] = [];
  let budgetPick: RecommendedConfig | null | undefined;
  if (options.budgetMinutes !== undefined) {
    const under = pickUnderBudget(ordered, options.budgetMinutes * 60);
    budgetPick = under ? recommended(under) : null;
    if (!under) {
      // The front is ordered fastest first.
      const fastest = frontList[0];
      notices.push(
        fastest
          ? `No candidate is predicted to train within ${options.budgetMinutes} minutes; the fastest is predicted at ${(fastest.timeSec!.mean / 60).toFixed(1)} minutes.`
          : `No training-time predictions are available, so the ${options.budgetMinutes}-minute budget cannot be checked.`,
      );
      unmet.push({
        constraint: 'budget',
        message: `no candidate is predicted to train within ${options.budgetMinutes} minutes`,
      });
    }
  }
  const pick = topK[0];
  return {
    schemaVersion: RECOMMENDATION_SCHEMA_VERSION,
    dataset: input.profile.name,
    profile: input.profile,
    metric: options.metric,
    objective: options.objective,
    strategy: input.strategy,
    answeredBy: input.strategy,
    fellBack: false,
    seed: options.seed,
    pick,
    topK,
    paretoFront: frontList.map(recommended),
    ...(options.budgetMinutes !== undefined
      ? { budgetMinutes: options.budgetMinutes, budgetPick }
      : {}),
    unmet,
    justification: input.justification(pick),
    notices,
    ...(input.validation ? { validation: input.validation } : {}),
    knowledgeBase: knowledgeBaseOf(input.kb),
    attempts: [],
    counters: { llmCalls: 0, llmTokens: 0, ...input.counters },
    timingsMs: { ...input.timingsMs, explain: explainMs },
  };
}
