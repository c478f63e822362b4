// The `llm` and `hybrid` strategies' reasoning loop: ask the recommender model, check its answer
// with the rules, then with the LLM judge; on failure send the reasons back and ask again, up to
// maxAttempts. Every attempt is kept, so a user sees what the model said and why it was refused.
import { MetallmixError, type Attempt, type Config, type LlmProposal } from '../../core/index.ts';
import {
  checkAnswer,
  DEFAULT_THRESHOLD,
  judgeWithLlm,
  loadPromptTemplates,
  meanScore,
  thresholdShortfalls,
  type ClaimTolerance,
  type JudgeThreshold,
  type Prediction,
  type PromptTemplates,
} from '../../judge/index.ts';
import type { LanguageModel } from '../../llm/types.ts';
import { buildRecommenderMessages, proposalSchemaFor, type LlmStrategy } from './llm-prompts.ts';
import { fitPrompt, promptBudget } from './prompt-budget.ts';
import type { ReasoningContext } from './reasoning-context.ts';

export interface LlmReasoningOptions {
  context: ReasoningContext;
  strategy: LlmStrategy;
  /** The recommender model. */
  llm: LanguageModel;
  /** The judge model; the recommender model when absent. */
  judge?: LanguageModel;
  /** false: rule checks only, no LLM judge. */
  llmJudge?: boolean;
  maxAttempts?: number;
  threshold?: JudgeThreshold;
  tolerance?: Partial<ClaimTolerance>;
  /** Attempt n uses seed + n - 1, so a retry is not a replay. */
  seed?: number;
  temperature?: number;
  /** The judge's temperature; 0 by default so that the same answer gets the same scores. */
  judgeTemperature?: number;
  maxTokens?: number;
  /** Per model call. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Directory whose template files replace the package's defaults. */
  promptsDir?: string;
  /** Already loaded templates (takes precedence over promptsDir). */
  templates?: PromptTemplates;
}

export interface LlmReasoningResult {
  strategy: LlmStrategy;
  /** True when an attempt passed the rule checks and the judge. */
  accepted: boolean;
  /** The accepted proposal; otherwise the best-scored schema-valid one, for inspection only. */
  proposal?: LlmProposal;
  /** The configuration to recommend: set only when accepted. */
  final?: { model: string; config: Config };
  /** Hybrid: the shortlist candidate the proposal starts from and the parameters it changed. */
  basedOn?: { rank: number; adjusted: string[] };
  /** The meta-learner's prediction for `proposal`, reported beside the LLM's claims. */
  metaLearnerPrediction?: Prediction;
  /** Every attempt in order, with its raw answer, rule violations and judge scores. */
  attempts: Attempt[];
  /** The attempt `proposal` comes from. */
  bestAttempt?: number;
  /** True when nothing was accepted: the caller must use the meta-learner's pick. */
  fallbackToMetaLearner: boolean;
  /** One line for the user when falling back, saying why. */
  notice?: string;
  /** What the user should know besides (the prompt was trimmed to fit the context). */
  notices: string[];
  llmMs: number;
  judgeMs: number;
  tokens: number;
  /** Model calls made, recommender and judge. */
  calls: number;
}

interface Scored {
  attempt: Attempt;
  proposal?: LlmProposal;
  prediction?: Prediction;
}

/** Runs the reasoning loop; throws only on bad input or when `signal` aborts. */
export async function reasonWithLlm(options: LlmReasoningOptions): Promise<LlmReasoningResult> {
  const { context, strategy, llm } = options;
  const maxAttempts = options.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    throw new MetallmixError(`maxAttempts must be a positive integer, got ${maxAttempts}`, {
      location: { field: 'maxAttempts' },
    });
  if (strategy === 'hybrid' && context.shortlist.length === 0)
    throw new MetallmixError('the hybrid strategy needs the meta-learner shortlist; it is empty', {
      location: { field: 'shortlist' },
    });
  const templates = options.templates ?? loadPromptTemplates({ promptsDir: options.promptsDir });
  const judge = options.judge ?? llm;
  const useJudge = options.llmJudge ?? true;
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const seed = options.seed ?? 0;
  const candidateModels = strategy === 'hybrid' ? context.shortlist.map((c) => c.model) : undefined;
  // The default answer cap of the providers (LLM_DEFAULTS.maxTokens) when none is given.
  const budget = await promptBudget(llm, options.maxTokens ?? 1024);
  const notices = new Set<string>();
  /** The context the last prompt was built from: what the model saw, and so what it may cite. */
  let seen = context;

  const scored: Scored[] = [];
  let llmMs = 0;
  let judgeMs = 0;
  let tokens = 0;
  let calls = 0;
  let stopReason: string | undefined;

  for (let n = 1; n <= maxAttempts; n++) {
    const previous = scored.at(-1)?.attempt;
    const fitted = await fitPrompt(
      context,
      (ctx) =>
        buildRecommenderMessages({
          context: ctx,
          strategy,
          templates,
          attempt: n,
          maxAttempts,
          previous,
        }),
      budget,
    );
    if (fitted.notice) notices.add(fitted.notice);
    if (fitted.overflow) {
      stopReason = fitted.overflow;
      scored.push({
        attempt: {
          attempt: n,
          raw: '',
          ruleViolations: [stopReason],
          accepted: false,
          latencyMs: 0,
        },
      });
      break;
    }
    seen = fitted.context;
    const messages = fitted.messages;
    const started = performance.now();
    let answer;
    calls++;
    try {
      answer = await llm.generate({
        messages,
        schema: proposalSchemaFor(seen, strategy),
        temperature: options.temperature,
        seed: seed + n - 1,
        maxTokens: options.maxTokens,
        timeoutMs: options.timeoutMs,
        signal: options.signal,
      });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      // The provider already retried transient failures; asking again here would only wait longer.
      const latencyMs = performance.now() - started;
      llmMs += latencyMs;
      stopReason = `LLM ${llm.id} could not be called: ${(err as Error).message}`;
      scored.push({
        attempt: { attempt: n, raw: '', ruleViolations: [stopReason], accepted: false, latencyMs },
      });
      break;
    }
    llmMs += answer.latencyMs;
    let attemptTokens = (answer.usage?.promptTokens ?? 0) + (answer.usage?.completionTokens ?? 0);
    const rules = checkAnswer(seen, answer, { tolerance: options.tolerance, candidateModels });
    const attempt: Attempt = {
      attempt: n,
      raw: answer.text,
      ruleViolations: rules.violations,
      accepted: false,
      latencyMs: answer.latencyMs,
    };
    if (rules.proposal && rules.violations.length === 0) {
      if (useJudge) {
        calls++;
        const judgement = await judgeWithLlm({
          context: seen,
          proposal: rules.proposal,
          prediction: rules.prediction,
          strategy,
          judge,
          templates,
          seed: seed + n - 1,
          temperature: options.judgeTemperature ?? 0,
          maxTokens: options.maxTokens,
          timeoutMs: options.timeoutMs,
          signal: options.signal,
        });
        judgeMs += judgement.latencyMs;
        attempt.latencyMs += judgement.latencyMs;
        attemptTokens += judgement.tokens;
        if (judgement.scores) {
          attempt.judge = judgement.scores;
          attempt.accepted = thresholdShortfalls(judgement.scores, threshold).length === 0;
        } else {
          attempt.judgeError = judgement.error;
          if (judgement.unreachable) stopReason = judgement.error;
        }
      } else {
        attempt.accepted = true;
      }
    }
    attempt.tokens = attemptTokens;
    tokens += attemptTokens;
    scored.push({ attempt, proposal: rules.proposal, prediction: rules.prediction });
    if (attempt.accepted || stopReason) break;
  }

  const best = pickBest(scored);
  const result: LlmReasoningResult = {
    strategy,
    accepted: best?.attempt.accepted ?? false,
    attempts: scored.map((s) => s.attempt),
    fallbackToMetaLearner: !(best?.attempt.accepted ?? false),
    notices: [...notices],
    llmMs,
    judgeMs,
    tokens,
    calls,
  };
  if (best?.proposal) {
    result.proposal = best.proposal;
    result.bestAttempt = best.attempt.attempt;
    result.metaLearnerPrediction = best.prediction;
    if (strategy === 'hybrid') result.basedOn = nearestCandidate(seen, best.proposal);
  }
  if (result.accepted && best?.proposal)
    result.final = { model: best.proposal.model, config: best.proposal.hyperparameters };
  else result.notice = fallbackNotice(scored, threshold, stopReason);
  return result;
}

/** Accepted first, then schema-valid, fewest rule violations, highest judge mean, latest. */
function pickBest(scored: Scored[]): Scored | undefined {
  const key = (s: Scored): number[] => [
    s.attempt.accepted ? 1 : 0,
    s.proposal ? 1 : 0,
    -s.attempt.ruleViolations.length,
    s.attempt.judge ? meanScore(s.attempt.judge) : 0,
    s.attempt.attempt,
  ];
  let best: Scored | undefined;
  for (const s of scored) {
    if (!best) {
      best = s;
      continue;
    }
    const a = key(s);
    const b = key(best);
    const i = a.findIndex((v, j) => v !== b[j]);
    if (i >= 0 && a[i] > b[i]) best = s;
  }
  return best;
}

function fallbackNotice(
  scored: Scored[],
  threshold: JudgeThreshold,
  stopReason: string | undefined,
): string {
  const last = scored.at(-1)?.attempt;
  let why = stopReason;
  if (!why && last) {
    if (last.ruleViolations.length) why = last.ruleViolations[0];
    else if (last.judge) why = thresholdShortfalls(last.judge, threshold).join('; ');
    else why = last.judgeError;
  }
  return `LLM answer not accepted after ${scored.length} attempt(s)${why ? ` (last: ${why})` : ''}; the meta-learner's pick is used instead.`;
}

/** The shortlist candidate of the same model that differs from the proposal in the fewest parameters. */
function nearestCandidate(
  context: ReasoningContext,
  proposal: LlmProposal,
): { rank: number; adjusted: string[] } | undefined {
  let best: { rank: number; adjusted: string[] } | undefined;
  for (const c of context.shortlist) {
    if (c.model !== proposal.model) continue;
    const names = new Set([...Object.keys(c.config), ...Object.keys(proposal.hyperparameters)]);
    const adjusted = [...names].filter((k) => c.config[k] !== proposal.hyperparameters[k]).sort();
    if (!best || adjusted.length < best.adjusted.length) best = { rank: c.rank, adjusted };
  }
  return best;
}
