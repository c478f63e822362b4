// The MetaLLMiX pipeline for one request: meta-learner predictions and SHAP explanations,
// retrieval of the past datasets and runs that back them, then (when an LLM is configured)
// LLM reasoning checked by rules and an LLM judge. Every stage after the meta-learner is
// optional; without an LLM the answer is the meta-learner's, justified from its evidence.
import {
  Rng,
  type Candidate,
  type DatasetProfile,
  type ModelCard,
  type Recommendation,
  type RecommendedConfig,
} from '../core/index.ts';
import { insightSentences } from '../explain/index.ts';
import type { LanguageModel } from '../llm/types.ts';
import {
  openRetriever,
  toEvidenceRef,
  type Embedder,
  type EvidenceHit,
} from '../retrieve/index.ts';
import type { KnowledgeBase } from '../store/knowledge-base.ts';
import { candidatesForRequest, extrapolatedParameters } from './candidates.ts';
import {
  candidateKey,
  formatMetricValue,
  metricScale,
  viewOfKnowledgeBase,
  type KbView,
} from './kb-view.ts';
import { NO_LLM_NOTICE, writeJustification } from './llm-free-justification.ts';
import { reasonWithLlm } from './llm-reasoning.ts';
import { explainCandidates, metalearnerRecommender } from './metalearner-strategy.ts';
import { predictCandidates, type MetaLearner } from './metalearner.ts';
import type { EvidenceItem, ReasoningContext } from './reasoning-context.ts';
import { createBaseRecommender } from './registry.ts';
import { checkRequest, type RecommendRequest } from './request.ts';

const LLM_STRATEGIES = ['llm', 'hybrid'] as const;

export interface PipelineRequest extends RecommendRequest {
  /** `auto`: hybrid when an LLM is given, else metalearner. */
  strategy: string;
  llm?: LanguageModel;
  judge?: LanguageModel;
  /** false: rule checks only, no LLM judge. */
  llmJudge?: boolean;
  maxAttempts?: number;
  promptsDir?: string;
  llmTimeoutMs?: number;
  temperature?: number;
  maxTokens?: number;
  /** Seed of the LLM's sampling (attempt n uses seed + n - 1); the request's seed when absent. */
  llmSeed?: number;
  /** File for the retrieval index (rebuilt only when the knowledge base changes); in memory when absent. */
  indexPath?: string;
  /** Retrieval embedder; the dependency-free default when absent. */
  embedder?: Embedder;
  /** Evidence hits per kind. */
  evidenceK?: number;
}

/** Cards for every model with runs; models without a card get a minimal one. */
function modelCards(view: KbView): ModelCard[] {
  const models = [
    ...new Set(view.records.filter((r) => r.status === 'finished').map((r) => r.model)),
  ].sort();
  return models.map((id) => view.cards.get(id) ?? { id, family: id, architecture: 'other' });
}

function evidenceItems(hits: EvidenceHit[]): EvidenceItem[] {
  return hits.map((h) => ({ ...toEvidenceRef(h), text: h.text }));
}

/** The datasets nearest the request, then the best runs of the candidate's model among them. */
function evidenceFor(hits: EvidenceHit[], candidate: Candidate) {
  const datasets = hits.filter((h) => h.kind === 'dataset').slice(0, 3);
  const runs = hits.filter((h) => h.kind === 'run');
  const sameModel = runs.filter((h) => h.model === candidate.model).slice(0, 2);
  return [...datasets, ...sameModel].map(toEvidenceRef);
}

function recommendedFrom(
  learner: MetaLearner,
  view: KbView,
  profile: DatasetProfile,
  candidate: Candidate,
  hits: EvidenceHit[],
  front: Set<string>,
  rank: number,
): RecommendedConfig {
  const [p] = predictCandidates(learner, profile, [candidate], view.cards);
  const [explained] = explainCandidates(learner, profile, [candidate], view.cards);
  return {
    ...candidate,
    rank,
    predictedMetric: p.metric,
    ...(p.trainingTimeSec ? { predictedTrainingTimeSec: p.trainingTimeSec } : {}),
    onParetoFront: front.has(candidateKey(candidate.model, candidate.config)),
    extrapolated: extrapolatedParameters(view.space, candidate.config),
    explanation: explained.explanation,
    explanationText: explained.text,
    evidence: evidenceFor(hits, candidate),
  };
}

/** The pipeline on a knowledge base (what `recommend` runs). */
export async function runPipeline(
  kb: KnowledgeBase,
  profile: DatasetProfile,
  request: PipelineRequest,
): Promise<Recommendation> {
  const t0 = performance.now();
  const view = viewOfKnowledgeBase(kb);
  const loadMs = performance.now() - t0;
  const answer = await runPipelineOnView(view, kb.path, profile, request);
  const timingsMs = {
    ...answer.timingsMs,
    knowledgeBase: loadMs + answer.timingsMs.knowledgeBase,
    total: performance.now() - t0,
  };
  return { ...answer, timingsMs };
}

/** The pipeline on a view of a knowledge base (the benchmark's training folds). */
export async function runPipelineOnView(
  view: KbView,
  kbLabel: string,
  profile: DatasetProfile,
  request: PipelineRequest,
): Promise<Recommendation> {
  const t0 = performance.now();
  checkRequest(view, kbLabel, request);
  const strategy =
    request.strategy === 'auto' ? (request.llm ? 'hybrid' : 'metalearner') : request.strategy;
  let candidates = request.candidates;
  if (request.models) {
    const allowed = new Set(request.models);
    const records = view.records.filter((r) => allowed.has(r.model));
    candidates = candidatesForRequest(
      { space: view.space, records },
      candidates,
      new Rng(request.seed),
      request.strategyOptions?.maxCandidates,
    ).filter((c) => allowed.has(c.model));
  }
  const options = { ...request, candidates };
  const loadMs = performance.now() - t0;

  if (strategy !== 'metalearner' && !(LLM_STRATEGIES as readonly string[]).includes(strategy)) {
    const answer = await createBaseRecommender(strategy, view).recommend(profile, options);
    return {
      ...answer,
      timingsMs: { knowledgeBase: loadMs, ...answer.timingsMs, total: performance.now() - t0 },
    };
  }

  // Evidence is retrieved after the meta-learner is fitted (its insights are indexed too).
  let hits: EvidenceHit[] = [];
  const base = metalearnerRecommender(view, {
    cacheDir: request.cacheDir,
    ...request.strategyOptions,
    evidence: (_p, c) => evidenceFor(hits, c),
  });
  const { learner } = base.learnerFor(request.metric);
  const sentences = insightSentences(learner.insights, {
    metricName: metricScale(request.metric) === 100 ? `${request.metric} points` : request.metric,
    rowNoun: 'configurations',
  });

  const tr = performance.now();
  const { retriever, notices: retrievalNotices } = await openRetriever({
    profiles: [...view.profiles.values()],
    records: view.records,
    insights: sentences,
    metric: request.metric,
    kbVersion: view.version,
    cachePath: request.indexPath,
    embedder: request.embedder,
  });
  const k = request.evidenceK ?? 5;
  hits = await retriever.retrieve(profile, { k, kinds: ['dataset', 'run', 'insight'] });
  const retrievalMs = performance.now() - tr;

  const rec = await base.recommend(profile, options);
  const notices = [...retrievalNotices, ...rec.notices];
  const context: ReasoningContext = {
    profile,
    metric: request.metric,
    objective: request.objective,
    ...(request.budgetMinutes !== undefined ? { budgetMinutes: request.budgetMinutes } : {}),
    models: modelCards(view),
    space: view.space,
    evidence: evidenceItems(hits.filter((h) => h.kind !== 'insight')),
    insights: sentences,
    shortlist: rec.topK,
    ...(request.candidates ? { allowedCandidates: request.candidates } : {}),
    predict: (c) => {
      const [p] = predictCandidates(learner, profile, [c], view.cards);
      return {
        metric: p.metric,
        ...(p.trainingTimeSec ? { trainingTimeSec: p.trainingTimeSec } : {}),
      };
    },
  };
  const timings = { knowledgeBase: loadMs, retrieval: retrievalMs, ...rec.timingsMs };

  if (strategy === 'metalearner' || !request.llm) {
    if (strategy !== 'metalearner')
      notices.push(
        `No LLM is configured, so the ${strategy} strategy fell back to the meta-learner.`,
      );
    notices.push(NO_LLM_NOTICE);
    return {
      ...rec,
      strategy: 'metalearner',
      justification: writeJustification(context, rec.pick),
      notices,
      timingsMs: { ...timings, total: performance.now() - t0 },
    };
  }

  const reasoning = await reasonWithLlm({
    context,
    strategy: strategy as 'llm' | 'hybrid',
    llm: request.llm,
    judge: request.judge,
    llmJudge: request.llmJudge,
    maxAttempts: request.maxAttempts,
    seed: request.llmSeed ?? request.seed,
    temperature: request.temperature,
    maxTokens: request.maxTokens,
    timeoutMs: request.llmTimeoutMs,
    promptsDir: request.promptsDir,
  });
  const llmTimings = {
    llm: reasoning.llmMs,
    judge: reasoning.judgeMs,
    llmTokens: reasoning.tokens,
  };
  if (!reasoning.accepted || !reasoning.final) {
    notices.push(
      reasoning.notice ??
        "No LLM answer passed the checks; the meta-learner's pick is used instead.",
    );
    return {
      ...rec,
      strategy: `${strategy} (fell back to metalearner)`,
      justification: writeJustification(context, rec.pick),
      notices,
      attempts: reasoning.attempts,
      timingsMs: { ...timings, ...llmTimings, total: performance.now() - t0 },
    };
  }
  const front = new Set(rec.paretoFront.map((c) => candidateKey(c.model, c.config)));
  const pick = recommendedFrom(learner, view, profile, reasoning.final, hits, front, 1);
  const pickKey = candidateKey(pick.model, pick.config);
  const rest = rec.topK.filter((c) => candidateKey(c.model, c.config) !== pickKey);
  const topK = [pick, ...rest].slice(0, request.topK).map((c, i) => ({ ...c, rank: i + 1 }));
  const pct = (x: number) => formatMetricValue(request.metric, x);
  const claimed = reasoning.proposal!;
  const beside = `Meta-learner's prediction for this choice: ${request.metric} ${pct(pick.predictedMetric.mean)} [${pct(pick.predictedMetric.low)}, ${pct(pick.predictedMetric.high)}]${pick.predictedTrainingTimeSec ? `, ${(pick.predictedTrainingTimeSec.mean / 60).toFixed(1)} min` : ''} (the LLM expected ${pct(claimed.expectedMetric)}, ${(claimed.expectedTrainingTimeSec / 60).toFixed(1)} min; confidence ${claimed.confidence}).`;
  const overBudget =
    request.budgetMinutes !== undefined &&
    pick.predictedTrainingTimeSec !== undefined &&
    pick.predictedTrainingTimeSec.mean > request.budgetMinutes * 60;
  if (overBudget)
    notices.push(
      `The LLM's pick is predicted to take ${(pick.predictedTrainingTimeSec!.mean / 60).toFixed(1)} minutes, over the ${request.budgetMinutes}-minute budget; the budget pick is the meta-learner's.`,
    );
  return {
    ...rec,
    strategy,
    pick: topK[0],
    topK,
    justification: `${claimed.justification}\n${beside}`,
    notices,
    attempts: reasoning.attempts,
    timingsMs: { ...timings, ...llmTimings, total: performance.now() - t0 },
  };
}
