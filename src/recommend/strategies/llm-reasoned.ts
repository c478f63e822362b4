// The MetaLLMiX strategies with a language model: `hybrid` (the LLM chooses and justifies among
// the meta-learner's shortlist, adjusting within the evidence) and `llm` (the LLM proposes any
// model and configuration from the context, as in the paper). Both check the answer with the
// rules and the LLM judge, and fall back to the meta-learner's pick, saying why, when no model
// is configured or reachable or no answer passes.
import {
  ExitCode,
  MetallmixError,
  type Candidate,
  type DatasetProfile,
  type Recommendation,
  type RecommendedConfig,
} from '../../core/index.ts';
import { extrapolatedParameters } from '../candidates.ts';
import { evidenceForCandidate, retrievalEvidence, type Evidence } from '../evidence.ts';
import { candidateKey, formatMetricValue, type KbView } from '../kb-view.ts';
import { predictCandidates, type MetaLearner } from '../metalearner.ts';
import { NO_LLM_NOTICE } from '../reasoning/llm-free-justification.ts';
import type { LlmStrategy } from '../reasoning/llm-prompts.ts';
import { reasonWithLlm, type LlmReasoningResult } from '../reasoning/llm-reasoning.ts';
import { reasoningContext } from '../reasoning/reasoning-context.ts';
import type { Recommender, StrategyDeps } from '../types.ts';
import { explainCandidates, metalearnerRecommender } from './metalearner.ts';

const minutes = (sec: number) => (sec / 60).toFixed(1);

/** The meta-learner's answer, marked as the fallback of `strategy` for `reason`. */
function fellBack(rec: Recommendation, strategy: string, reason: string): Recommendation {
  return {
    ...rec,
    strategy,
    answeredBy: 'metalearner',
    fellBack: true,
    fallbackReason: reason,
    notices: [...rec.notices, reason],
  };
}

/** The LLM's final choice as a recommended configuration, with the meta-learner's view of it. */
function recommendedFrom(
  learner: MetaLearner,
  view: KbView,
  profile: DatasetProfile,
  candidate: Candidate,
  evidence: Evidence,
  front: Set<string>,
): RecommendedConfig {
  const [p] = predictCandidates(learner, profile, [candidate], view.cards);
  const [explained] = explainCandidates(learner, profile, [candidate], view.cards);
  return {
    ...candidate,
    rank: 1,
    predictedMetric: p.metric,
    ...(p.trainingTimeSec ? { predictedTrainingTimeSec: p.trainingTimeSec } : {}),
    onParetoFront: front.has(candidateKey(candidate.model, candidate.config)),
    extrapolated: extrapolatedParameters(view.space, candidate.config),
    explanation: explained.explanation,
    explanationText: explained.text,
    evidence: evidenceForCandidate(evidence.hits, candidate),
  };
}

function llmCounters(rec: Recommendation, reasoning: LlmReasoningResult) {
  return { ...rec.counters, llmCalls: reasoning.calls, llmTokens: reasoning.tokens };
}

export function llmReasonedRecommender(
  strategy: LlmStrategy,
  view: KbView,
  deps: StrategyDeps,
): Recommender {
  // The LLM needs the evidence even when the caller gave no retrieval: an in-memory index.
  const evidence =
    deps.evidence ??
    retrievalEvidence(view, deps.metaLearners, { indexLocation: { kind: 'memory' } });
  const base = metalearnerRecommender(view, { ...deps, evidence });
  return {
    name: strategy,
    prepare: base.prepare,
    async recommend(profile, options) {
      const answered = await base.recommend(profile, options);
      const llm = deps.llm;
      if (!llm)
        return fellBack(
          answered,
          strategy,
          `No LLM is configured, so the ${strategy} strategy fell back to the meta-learner.`,
        );
      // An LLM takes part from here on, so "no LLM was used" no longer holds.
      const rec = { ...answered, notices: answered.notices.filter((n) => n !== NO_LLM_NOTICE) };
      const tp = performance.now();
      try {
        await llm.probe?.();
      } catch (err) {
        // Only an unavailable model falls back; a wrong setting (a missing GGUF file) is the user's to fix.
        if (!(err instanceof MetallmixError) || err.exitCode !== ExitCode.unavailable) throw err;
        return fellBack(
          { ...rec, timingsMs: { ...rec.timingsMs, llm: performance.now() - tp } },
          strategy,
          `The LLM ${llm.id} is not reachable (${(err as Error).message}); the meta-learner's pick is used instead.`,
        );
      }
      const { learner } = deps.metaLearners.learnerFor(options.metric);
      const retrieved = await evidence.retrieve(profile, options.metric);
      const context = reasoningContext({
        view,
        profile,
        options,
        learner,
        evidence: retrieved,
        shortlist: rec.topK,
      });
      const settings = deps.reasoning ?? {};
      const reasoning = await reasonWithLlm({
        context,
        strategy,
        llm,
        judge: deps.judge,
        llmJudge: settings.llmJudge,
        maxAttempts: settings.maxAttempts,
        seed: settings.seed ?? options.seed,
        temperature: settings.temperature,
        maxTokens: settings.maxTokens,
        timeoutMs: settings.timeoutMs,
        promptsDir: settings.promptsDir,
      });
      const timingsMs = {
        ...rec.timingsMs,
        llm: performance.now() - tp - reasoning.judgeMs,
        judge: reasoning.judgeMs,
      };
      const withLlm = {
        ...rec,
        notices: [...rec.notices, ...reasoning.notices],
        attempts: reasoning.attempts,
        counters: llmCounters(rec, reasoning),
        timingsMs,
      };
      if (!reasoning.accepted || !reasoning.final || !reasoning.proposal)
        return fellBack(
          withLlm,
          strategy,
          reasoning.notice ??
            "No LLM answer passed the checks; the meta-learner's pick is used instead.",
        );

      const front = new Set(rec.paretoFront.map((c) => candidateKey(c.model, c.config)));
      const pick = recommendedFrom(learner, view, profile, reasoning.final, retrieved, front);
      const pickKey = candidateKey(pick.model, pick.config);
      const rest = rec.topK.filter((c) => candidateKey(c.model, c.config) !== pickKey);
      const topK = [pick, ...rest].slice(0, options.topK).map((c, i) => ({ ...c, rank: i + 1 }));
      const pct = (x: number) => formatMetricValue(options.metric, x);
      const claimed = reasoning.proposal;
      const m = pick.predictedMetric;
      const t = pick.predictedTrainingTimeSec;
      const beside = `Meta-learner's prediction for this choice: ${options.metric} ${pct(m.mean)} [${pct(m.low)}, ${pct(m.high)}]${t ? `, ${minutes(t.mean)} min` : ''} (the LLM expected ${pct(claimed.expectedMetric)}, ${minutes(claimed.expectedTrainingTimeSec)} min; confidence ${claimed.confidence}).`;
      const notices = rec.notices.slice();
      if (
        options.budgetMinutes !== undefined &&
        t !== undefined &&
        t.mean > options.budgetMinutes * 60
      )
        notices.push(
          `The LLM's pick is predicted to take ${minutes(t.mean)} minutes, over the ${options.budgetMinutes}-minute budget; the budget pick is the meta-learner's.`,
        );
      return {
        ...withLlm,
        strategy,
        answeredBy: strategy,
        pick: topK[0],
        topK,
        justification: `${claimed.justification}\n${beside}`,
        notices,
        llmAnswer: {
          expectedMetric: claimed.expectedMetric,
          expectedTrainingTimeSec: claimed.expectedTrainingTimeSec,
          confidence: claimed.confidence,
          citedEvidence: claimed.citedEvidence,
          basedOn: reasoning.basedOn ?? null,
        },
      };
    },
  };
}
