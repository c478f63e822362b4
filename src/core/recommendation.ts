import { z } from 'zod';
import { Config } from './search-space.ts';
import { DatasetProfile } from './profile.ts';

/** A point prediction with an interval (e.g. 10th-90th percentile of an ensemble). */
export const Interval = z.object({ mean: z.number(), low: z.number(), high: z.number() });
export type Interval = z.infer<typeof Interval>;

export const Candidate = z.object({ model: z.string().min(1), config: Config });
export type Candidate = z.infer<typeof Candidate>;

export const Contribution = z.object({
  feature: z.string(),
  value: z.union([z.number(), z.string(), z.boolean(), z.null()]),
  shap: z.number(),
});
export type Contribution = z.infer<typeof Contribution>;

export const EvidenceRef = z.object({
  id: z.string(),
  kind: z.enum(['dataset', 'run', 'insight']),
  dataset: z.string().optional(),
  similarity: z.number(),
  summary: z.string(),
});
export type EvidenceRef = z.infer<typeof EvidenceRef>;

export const RecommendedConfig = Candidate.extend({
  rank: z.number().int().positive(),
  /** Predicted target metric on the 0-1 scale of the knowledge base. */
  predictedMetric: Interval,
  predictedTrainingTimeSec: Interval.optional(),
  onParetoFront: z.boolean(),
  /** Parameters set outside the range observed in the knowledge base (said, never silent). */
  extrapolated: z.array(z.string()).default([]),
  /** The contributions that decide this candidate's predicted metric, largest first. */
  explanation: z.array(Contribution).default([]),
  explanationText: z.string().default(''),
  evidence: z.array(EvidenceRef).default([]),
});
export type RecommendedConfig = z.infer<typeof RecommendedConfig>;

export const Objective = z.enum(['best', 'balanced', 'fastest']);
export type Objective = z.infer<typeof Objective>;

export const JudgeScores = z.object({
  format: z.number().min(1).max(5),
  accuracy: z.number().min(1).max(5),
  completeness: z.number().min(1).max(5),
  feedback: z.string(),
});
export type JudgeScores = z.infer<typeof JudgeScores>;

export const Attempt = z.object({
  attempt: z.number().int().positive(),
  raw: z.string(),
  ruleViolations: z.array(z.string()),
  judge: JudgeScores.optional(),
  /** Why the LLM judge gave no scores (unusable answer, unreachable judge). */
  judgeError: z.string().optional(),
  accepted: z.boolean(),
  latencyMs: z.number().nonnegative(),
  tokens: z.number().int().nonnegative().optional(),
});
export type Attempt = z.infer<typeof Attempt>;

export const Timings = z.record(z.string(), z.number().nonnegative());

/**
 * The version of the Recommendation JSON. 2 (this one): `strategy` is the strategy asked for,
 * `answeredBy` and `fellBack`/`fallbackReason` say whose pick it is; counters (LLM tokens, cache
 * hits) moved out of `timingsMs` into `counters`; `unmet` lists what the request asked that no
 * candidate meets; `llmAnswer` carries the LLM's claims and the shortlist entry it built on;
 * `knowledgeBase.label` names the knowledge base. 1 (before): a status string in `strategy`.
 */
export const RECOMMENDATION_SCHEMA_VERSION = 2;

export const Counters = z.object({
  /** Language-model calls made (recommender and judge). */
  llmCalls: z.number().int().nonnegative(),
  /** Tokens of every call, prompt and completion. */
  llmTokens: z.number().int().nonnegative(),
  /** The meta-learner was loaded from the cache (hit), fitted and stored (miss), or fitted without caching (off). */
  metalearnerCache: z.enum(['hit', 'miss', 'off']).optional(),
  /** The retrieval index was loaded as persisted, or (re)built. */
  retrievalIndex: z.enum(['loaded', 'rebuilt']).optional(),
});
export type Counters = z.infer<typeof Counters>;

/** Something the request asked for that no candidate satisfies (faces map it to exit code 3). */
export const Unmet = z.object({ constraint: z.enum(['budget']), message: z.string() });
export type Unmet = z.infer<typeof Unmet>;

/** What an accepted LLM answer claimed, beside the meta-learner's own prediction for it. */
export const LlmAnswer = z.object({
  expectedMetric: z.number(),
  expectedTrainingTimeSec: z.number(),
  confidence: z.enum(['low', 'medium', 'high']),
  citedEvidence: z.array(z.string()),
  /** Hybrid: the shortlist rank the answer starts from and the parameters it changed. */
  basedOn: z
    .object({ rank: z.number().int().positive(), adjusted: z.array(z.string()) })
    .nullable(),
});
export type LlmAnswer = z.infer<typeof LlmAnswer>;

export const Recommendation = z.object({
  schemaVersion: z
    .literal(RECOMMENDATION_SCHEMA_VERSION)
    .describe(
      'Version of this JSON shape. 2: strategy is the strategy asked for; answeredBy, fellBack and fallbackReason say whose pick it is; counters (LLM calls and tokens, cache use) moved out of timingsMs; unmet lists unmet constraints (budget); llmAnswer holds the LLM claims and basis; knowledgeBase.label names the knowledge base.',
    ),
  dataset: z.string(),
  profile: DatasetProfile,
  metric: z.string(),
  objective: Objective,
  /** The strategy asked for (`auto` resolved). */
  strategy: z.string(),
  /** The strategy whose pick this is: differs from `strategy` when it fell back. */
  answeredBy: z.string(),
  fellBack: z.boolean(),
  fallbackReason: z.string().optional(),
  seed: z.number().int(),
  pick: RecommendedConfig,
  topK: z.array(RecommendedConfig),
  paretoFront: z.array(RecommendedConfig),
  budgetMinutes: z.number().positive().optional(),
  /** The best candidate whose predicted training time fits the budget; null when none does. */
  budgetPick: RecommendedConfig.nullable().optional(),
  unmet: z.array(Unmet),
  justification: z.string(),
  notices: z.array(z.string()),
  knowledgeBase: z.object({
    label: z.string(),
    version: z.string(),
    records: z.number().int(),
    datasets: z.number().int(),
  }),
  attempts: z.array(Attempt).default([]),
  llmAnswer: LlmAnswer.optional(),
  counters: Counters,
  timingsMs: Timings,
});
export type Recommendation = z.infer<typeof Recommendation>;

/** What an LLM must return: schema given to the model as response_format or grammar. */
export const LlmProposal = z.object({
  model: z.string(),
  hyperparameters: Config,
  expectedMetric: z.number(),
  expectedTrainingTimeSec: z.number(),
  justification: z.string(),
  citedEvidence: z.array(z.string()),
  confidence: z.enum(['low', 'medium', 'high']),
});
export type LlmProposal = z.infer<typeof LlmProposal>;
