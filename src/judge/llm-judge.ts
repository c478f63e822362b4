// LLM-as-judge: a language model scores an answer that already passed the rule checks on the
// paper's three criteria. A judge that answers badly gives a failed judgement with its reason,
// never an exception: the recommender then simply tries again.
import { z } from 'zod';
import { JudgeScores, type LlmProposal } from '../core/index.ts';
import type { ChatMessage, LanguageModel } from '../llm/types.ts';
import type { JudgeContext, Prediction } from './context.ts';
import { contextValues, renderPrediction } from './context-text.ts';
import { parseAnswer } from './parse-answer.ts';
import { renderTemplate, type PromptTemplates } from './templates.ts';

/**
 * When an answer passes: every criterion at least `minEach` and their mean at least `minMean`
 * (each bound applies when set).
 */
export interface JudgeThreshold {
  minEach?: number;
  minMean?: number;
}
export const DEFAULT_THRESHOLD: JudgeThreshold = { minEach: 3 };

export const JUDGE_SCORES_SCHEMA = {
  name: 'JudgeScores',
  jsonSchema: z.toJSONSchema(JudgeScores, { io: 'input' }) as Record<string, unknown>,
};

export type CriterionName = 'format' | 'accuracy' | 'completeness';
const CRITERIA: CriterionName[] = ['format', 'accuracy', 'completeness'];

export function meanScore(s: JudgeScores): number {
  return (s.format + s.accuracy + s.completeness) / 3;
}

/** Why `scores` fall below the threshold (empty when they pass). */
export function thresholdShortfalls(scores: JudgeScores, threshold: JudgeThreshold): string[] {
  const out: string[] = [];
  if (threshold.minEach !== undefined)
    for (const c of CRITERIA)
      if (scores[c] < threshold.minEach)
        out.push(`${c} scored ${scores[c]}, below the minimum ${threshold.minEach}`);
  if (threshold.minMean !== undefined && meanScore(scores) < threshold.minMean)
    out.push(
      `mean score ${Number(meanScore(scores).toFixed(2))} is below the minimum ${threshold.minMean}`,
    );
  return out;
}

export interface JudgeRequest {
  context: JudgeContext;
  proposal: LlmProposal;
  /** The meta-learner's prediction for the proposal, shown to the judge beside the claims. */
  prediction?: Prediction;
  strategy: string;
  judge: LanguageModel;
  templates: PromptTemplates;
  seed?: number;
  temperature?: number;
  maxTokens?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface Judgement {
  scores?: JudgeScores;
  /** Why no scores: the judge's answer was not valid JudgeScores, or the call failed. */
  error?: string;
  /** True when the judge could not be called at all (unreachable, timeout): retrying is pointless. */
  unreachable: boolean;
  latencyMs: number;
  tokens: number;
}

export function buildJudgeMessages(
  req: Pick<JudgeRequest, 'context' | 'proposal' | 'prediction' | 'strategy' | 'templates'>,
): ChatMessage[] {
  const values = {
    ...contextValues(req.context),
    strategy: req.strategy,
    proposal: JSON.stringify(req.proposal, null, 2),
    prediction: req.prediction
      ? renderPrediction(req.context.metric, req.prediction)
      : '(none: the meta-learner cannot predict this answer)',
    schema: JSON.stringify(JUDGE_SCORES_SCHEMA.jsonSchema),
  };
  return [
    { role: 'system', content: renderTemplate(req.templates['judge-system.md'], values) },
    { role: 'user', content: renderTemplate(req.templates['judge-task.md'], values) },
  ];
}

/** Asks the judge model to score `proposal`; never throws except when `signal` aborts. */
export async function judgeWithLlm(req: JudgeRequest): Promise<Judgement> {
  const started = performance.now();
  let result;
  try {
    result = await req.judge.generate({
      messages: buildJudgeMessages(req),
      schema: JUDGE_SCORES_SCHEMA,
      temperature: req.temperature,
      seed: req.seed,
      maxTokens: req.maxTokens,
      timeoutMs: req.timeoutMs,
      signal: req.signal,
    });
  } catch (err) {
    if (req.signal?.aborted) throw err;
    return {
      error: `judge ${req.judge.id} could not be called: ${(err as Error).message}`,
      unreachable: true,
      latencyMs: performance.now() - started,
      tokens: 0,
    };
  }
  const base = {
    unreachable: false,
    latencyMs: result.latencyMs,
    tokens: (result.usage?.promptTokens ?? 0) + (result.usage?.completionTokens ?? 0),
  };
  const parsed = parseAnswer(result);
  if (!parsed.ok) return { ...base, error: `judge answer unusable: ${parsed.reason}` };
  const scores = JudgeScores.safeParse(parsed.value);
  if (!scores.success)
    return {
      ...base,
      error: `judge answer unusable: ${scores.error.issues
        .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
        .join('; ')}`,
    };
  return { ...base, scores: scores.data };
}
