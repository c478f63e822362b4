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

export const Recommendation = z.object({
  dataset: z.string(),
  profile: DatasetProfile,
  metric: z.string(),
  objective: Objective,
  strategy: z.string(),
  seed: z.number().int(),
  pick: RecommendedConfig,
  topK: z.array(RecommendedConfig),
  paretoFront: z.array(RecommendedConfig),
  budgetMinutes: z.number().positive().optional(),
  /** The best candidate whose predicted training time fits the budget; null when none does. */
  budgetPick: RecommendedConfig.nullable().optional(),
  justification: z.string(),
  notices: z.array(z.string()),
  knowledgeBase: z.object({
    version: z.string(),
    records: z.number().int(),
    datasets: z.number().int(),
  }),
  attempts: z.array(Attempt).default([]),
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
