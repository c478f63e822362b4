// Rule checks run before any LLM judge: they are exact, cheap, and their messages tell the
// recommender precisely what to fix (the field, the value, the allowed range or ids).
import { configKey, configViolations, LlmProposal, pushAll } from '../core/index.ts';
import { citableIds, type JudgeContext, type Prediction } from './context.ts';
import { formatInterval, formatNumber } from './context-text.ts';
import { parseAnswer } from './parse-answer.ts';

/**
 * How far a claimed number may sit outside the meta-learner's interval: `metric` is an absolute
 * slack on the metric's scale (0-1 for accuracy-like metrics); `timeRelative` widens the time
 * interval to [low / (1 + t), high * (1 + t)], since training time spreads multiplicatively.
 */
export interface ClaimTolerance {
  metric: number;
  timeRelative: number;
}
export const DEFAULT_TOLERANCE: ClaimTolerance = { metric: 0.05, timeRelative: 0.5 };

export interface RuleCheckOptions {
  tolerance?: Partial<ClaimTolerance>;
  /** When set (hybrid strategy), the answer's model must be one of these. */
  candidateModels?: readonly string[];
}

export interface RuleCheckResult {
  /** The answer when it parses and fits the LlmProposal schema. */
  proposal?: LlmProposal;
  /** Empty when every rule holds. */
  violations: string[];
  /** The meta-learner's prediction for the proposal, when model and configuration are valid. */
  prediction?: Prediction;
}

/** Parses a model's raw answer and checks it (see checkProposal). */
export function checkAnswer(
  ctx: JudgeContext,
  answer: { text: string; json?: unknown },
  options: RuleCheckOptions = {},
): RuleCheckResult {
  const parsed = parseAnswer(answer);
  if (!parsed.ok) return { violations: [parsed.reason] };
  return checkProposal(ctx, parsed.value, options);
}

/**
 * Checks a proposal: the LlmProposal schema, model in the catalog (and among the candidates when
 * given), hyperparameters inside the search space, cited ids present in the context, a
 * justification citing at least one evidence or insight id, and claimed metric and training time
 * consistent with the meta-learner's interval for that exact candidate.
 */
export function checkProposal(
  ctx: JudgeContext,
  value: unknown,
  options: RuleCheckOptions = {},
): RuleCheckResult {
  const parsed = LlmProposal.safeParse(value);
  if (!parsed.success)
    return {
      violations: parsed.error.issues.map(
        (i) => `schema: ${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`,
      ),
    };
  const proposal = parsed.data;
  const violations: string[] = [];

  const catalog = ctx.models.map((m) => m.id);
  let modelOk = catalog.includes(proposal.model);
  if (!modelOk)
    violations.push(
      `model: "${proposal.model}" is not in the model catalog (${catalog.join(', ')})`,
    );
  else if (options.candidateModels && !options.candidateModels.includes(proposal.model)) {
    modelOk = false;
    violations.push(
      `model: "${proposal.model}" is not among the meta-learner's candidates (${[...new Set(options.candidateModels)].join(', ')})`,
    );
  }

  const spaceProblems = configViolations(ctx.space, proposal.hyperparameters);
  for (const p of spaceProblems) violations.push(`hyperparameters.${p}`);
  if (ctx.allowedCandidates) {
    const key = configKey(proposal.hyperparameters);
    if (
      !ctx.allowedCandidates.some((c) => c.model === proposal.model && configKey(c.config) === key)
    )
      violations.push(
        `hyperparameters: this model and configuration is not one of the ${ctx.allowedCandidates.length} allowed candidates; answer with one of them exactly`,
      );
  }

  pushAll(violations, citationViolations(ctx, proposal));

  let prediction: Prediction | undefined;
  if (modelOk && spaceProblems.length === 0) {
    try {
      prediction = ctx.predict({ model: proposal.model, config: proposal.hyperparameters });
    } catch (err) {
      violations.push(`the meta-learner cannot predict this candidate: ${(err as Error).message}`);
    }
    if (prediction)
      pushAll(
        violations,
        claimViolations(ctx.metric, proposal, prediction, {
          ...DEFAULT_TOLERANCE,
          ...options.tolerance,
        }),
      );
  }
  return { proposal, violations, prediction };
}

function citationViolations(ctx: JudgeContext, proposal: LlmProposal): string[] {
  const known = citableIds(ctx);
  const violations: string[] = [];
  const unknownCited = proposal.citedEvidence.filter((id) => !known.has(id));
  if (unknownCited.length)
    violations.push(
      `citedEvidence: ${unknownCited.map((id) => JSON.stringify(id)).join(', ')} not in the context (cite only ids shown in square brackets)`,
    );
  const mentioned = idsInText(proposal.justification, known);
  if (mentioned.unknown.length)
    violations.push(
      `justification: cites ${mentioned.unknown.map((id) => JSON.stringify(id)).join(', ')}, not in the context`,
    );
  const groundingIds = new Set([
    ...ctx.evidence.map((e) => e.id),
    ...ctx.insights.map((i) => i.id),
    ...ctx.shortlist.flatMap((c) => c.evidence.map((e) => e.id)),
  ]);
  if (proposal.justification.trim() === '') violations.push('justification: empty');
  else if (![...proposal.citedEvidence, ...mentioned.known].some((id) => groundingIds.has(id)))
    violations.push('justification: cites no evidence or insight id from the context');
  return violations;
}

/**
 * Ids of the context mentioned in `text`, and id-like words that look like the context's ids
 * (same `prefix:`) but are not in it: those are invented citations.
 */
export function idsInText(
  text: string,
  known: Set<string>,
): { known: string[]; unknown: string[] } {
  const found = [...known].filter((id) => text.includes(id));
  const prefixes = [
    ...new Set([...known].filter((id) => id.includes(':')).map((id) => id.split(':')[0])),
  ];
  if (prefixes.length === 0) return { known: found, unknown: [] };
  const escaped = prefixes.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const pattern = new RegExp(`(?<![\\w-])(?:${escaped.join('|')}):[^\\s,;\\[\\]()"']+`, 'g');
  const unknown = new Set<string>();
  for (const m of text.matchAll(pattern)) {
    const id = m[0].replace(/[.:]+$/, '');
    if (!known.has(id)) unknown.add(id);
  }
  return { known: found, unknown: [...unknown] };
}

function claimViolations(
  metric: string,
  proposal: LlmProposal,
  prediction: Prediction,
  tolerance: ClaimTolerance,
): string[] {
  const violations: string[] = [];
  const m = prediction.metric;
  const claim = proposal.expectedMetric;
  if (claim < m.low - tolerance.metric || claim > m.high + tolerance.metric)
    violations.push(
      `expectedMetric: ${formatNumber(claim)} is outside the meta-learner's interval for ${proposal.model} with these hyperparameters: ${metric} ${formatInterval(m)}, tolerance ±${formatNumber(tolerance.metric)}${claim > 1 && m.high <= 1 ? ` (${metric} is a fraction between 0 and 1, not a percentage)` : ''}`,
    );
  const t = prediction.trainingTimeSec;
  const time = proposal.expectedTrainingTimeSec;
  if (t) {
    const low = t.low / (1 + tolerance.timeRelative);
    const high = t.high * (1 + tolerance.timeRelative);
    if (!(time >= low && time <= high))
      violations.push(
        `expectedTrainingTimeSec: ${formatNumber(time)} is outside the meta-learner's interval for ${proposal.model} with these hyperparameters: ${formatInterval(t)} s, accepted ${formatNumber(low)} to ${formatNumber(high)} s`,
      );
  } else if (!(time > 0)) {
    violations.push(`expectedTrainingTimeSec: ${formatNumber(time)} must be positive`);
  }
  return violations;
}
