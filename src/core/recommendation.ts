import { z } from 'zod';
import { Config } from './search-space.ts';
import { DatasetProfile } from './profile.ts';

/** A point prediction with an interval (e.g. 10th-90th percentile of an ensemble). */
export const Interval = z.object({
  mean: z.number().describe('point prediction (mean of the ensemble)'),
  low: z.number().describe('lower end of the interval'),
  high: z.number().describe('upper end of the interval'),
});
export type Interval = z.infer<typeof Interval>;

export const Candidate = z.object({
  model: z.string().min(1).describe('model id, as the knowledge base names it'),
  config: Config.describe(
    'values of the active hyperparameters; inactive conditional ones are absent',
  ),
});
export type Candidate = z.infer<typeof Candidate>;

export const Contribution = z.object({
  feature: z.string().describe('meta-feature, model fact or hyperparameter of the meta-learner'),
  value: z
    .union([z.number(), z.string(), z.boolean(), z.null()])
    .describe("the feature's value for this candidate (null: missing)"),
  shap: z
    .number()
    .describe(
      "TreeSHAP contribution to the prediction, in POINTS for scores (metric x 100: 1.2 = +1.2 accuracy points) and in the metric's own unit for losses; positive raises the predicted value",
    ),
});
export type Contribution = z.infer<typeof Contribution>;

/** What a piece of evidence reports on the request's metric (fractions on the stored 0-1 scale for scores). */
export const EvidenceOutcome = z.object({
  metric: z.string(),
  value: z
    .number()
    .optional()
    .describe("a run's metric, as a fraction on the stored 0-1 scale for scores"),
  rank: z
    .number()
    .int()
    .optional()
    .describe("a run's rank among its dataset's finished runs (1 = best)"),
  best: z
    .number()
    .optional()
    .describe("a dataset's best run, fraction on the 0-1 scale for scores"),
  median: z.number().optional().describe("a dataset's median run, same scale"),
  worst: z.number().optional().describe("a dataset's worst run, same scale"),
  runs: z.number().int().optional().describe("a dataset's finished runs reporting the metric"),
  trainingTimeSec: z
    .number()
    .optional()
    .describe("a run's training time, or a dataset's median one, in seconds"),
});
export type EvidenceOutcome = z.infer<typeof EvidenceOutcome>;

export const EvidenceRef = z.object({
  id: z.string().describe('citable id: dataset:<name>, run:<record id> or insight:<id>'),
  kind: z.enum(['dataset', 'run', 'insight']),
  dataset: z.string().optional(),
  similarity: z
    .number()
    .describe('how close the evidence is to the request (cosine similarity, at most 1)'),
  summary: z
    .string()
    .describe('the evidence text (figures on the stored scale: fractions for scores)'),
  model: z.string().optional().describe('for runs: the model trained'),
  outcome: EvidenceOutcome.optional(),
});
export type EvidenceRef = z.infer<typeof EvidenceRef>;

export const RecommendedConfig = Candidate.extend({
  rank: z.number().int().positive().describe('1 = the pick under the objective'),
  predictedMetric: Interval.describe(
    "predicted metric as a FRACTION on the knowledge base's stored 0-1 scale for scores (0.913 = 91.3 points, as the terminal report shows it), as stored for losses; low-high is the 80% interval (metalearner strategy: split-conformal from its leave-one-dataset-out validation, wider outside the knowledge base; otherwise the ensemble's spread)",
  ),
  predictedTrainingTimeSec: Interval.optional().describe(
    'predicted training time in SECONDS, with its 80% interval',
  ),
  onParetoFront: z
    .boolean()
    .describe('no other candidate is predicted both better on the metric and faster'),
  extrapolated: z
    .array(z.string())
    .default([])
    .describe('hyperparameters set outside the range observed in the knowledge base'),
  explanation: z
    .array(Contribution)
    .default([])
    .describe("the SHAP contributions that decide this candidate's prediction, largest first"),
  explanationText: z
    .string()
    .default('')
    .describe('the same contributions in words, with their unit (points for scores)'),
  evidence: z
    .array(EvidenceRef)
    .default([])
    .describe('the nearest past datasets and runs that back this candidate'),
  tied: z
    .boolean()
    .optional()
    .describe(
      "statistically tied with the best-scoring candidate: its predicted gap is under the validation's tie margin (absent: no tie rule was measured)",
    ),
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
  // Described here, not on JudgeScores: that schema is also the judge model's output schema.
  judge: JudgeScores.optional().describe(
    "the LLM judge's scores, each from 1 (poor) to 5 (excellent)",
  ),
  /** Why the LLM judge gave no scores (unusable answer, unreachable judge). */
  judgeError: z.string().optional(),
  accepted: z.boolean(),
  latencyMs: z.number().nonnegative().describe('wall time of the attempt in milliseconds'),
  tokens: z.number().int().nonnegative().optional(),
});
export type Attempt = z.infer<typeof Attempt>;

export const Timings = z
  .record(z.string(), z.number().nonnegative())
  .describe('wall time of each stage in MILLISECONDS (profile, knowledgeBase, metalearner, ...)');

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
  /** The metalearner strategy's self-validation was loaded from the cache, run and stored, or run without caching. */
  validationCache: z.enum(['hit', 'miss', 'off']).optional(),
  /** The retrieval index was loaded as persisted, or (re)built. */
  retrievalIndex: z.enum(['loaded', 'rebuilt']).optional(),
  /** The knowledge base's compact view was read from the cache (hit), read and stored (miss), or read without caching (off). */
  viewCache: z.enum(['hit', 'miss', 'off']).optional(),
});
export type Counters = z.infer<typeof Counters>;

/** Something the request asked for that no candidate satisfies (faces map it to exit code 3). */
export const Unmet = z.object({ constraint: z.enum(['budget']), message: z.string() });
export type Unmet = z.infer<typeof Unmet>;

/** What an accepted LLM answer claimed, beside the meta-learner's own prediction for it. */
export const LlmAnswer = z.object({
  expectedMetric: z
    .number()
    .describe("the LLM's claimed metric, a fraction on the stored 0-1 scale for scores"),
  expectedTrainingTimeSec: z.number().describe("the LLM's claimed training time in seconds"),
  confidence: z.enum(['low', 'medium', 'high']),
  citedEvidence: z.array(z.string()),
  /** Hybrid: the shortlist rank the answer starts from and the parameters it changed. */
  basedOn: z
    .object({ rank: z.number().int().positive(), adjusted: z.array(z.string()) })
    .nullable(),
});
export type LlmAnswer = z.infer<typeof LlmAnswer>;

/** A recommendation that continues trials already run on the dataset (few-shot continuation). */
export const ContinuationInfo = z.object({
  observedTrials: z
    .number()
    .int()
    .positive()
    .describe('distinct configurations already run on the dataset that the pick conditions on'),
  sources: z
    .array(z.string())
    .describe("where they came from: the knowledge base's records of the dataset, a results file"),
  method: z
    .enum(['gp', 'mixture'])
    .describe(
      "gp: Gaussian process on the zero-shot prediction's residuals, next = largest expected improvement; mixture: past datasets weighted by how well they match the observations",
    ),
  best: Candidate.extend({
    value: z.number().describe('the best observed metric (stored scale: fractions for scores)'),
  }),
  reason: z.string().describe('why the pick, given the observations'),
});
export type ContinuationInfo = z.infer<typeof ContinuationInfo>;

export const Recommendation = z.object({
  schemaVersion: z
    .literal(RECOMMENDATION_SCHEMA_VERSION)
    .describe(
      'Version of this JSON shape. 2: strategy is the strategy asked for; answeredBy, fellBack and fallbackReason say whose pick it is; counters (LLM calls and tokens, cache use) moved out of timingsMs; unmet lists unmet constraints (budget); llmAnswer holds the LLM claims and basis; knowledgeBase.label names the knowledge base.',
    ),
  dataset: z.string(),
  profile: DatasetProfile,
  metric: z
    .string()
    .describe(
      'the metric predicted and optimized; scores are stored as fractions in [0, 1] (the report shows points: x 100), losses as logged and minimized',
    ),
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
  budgetMinutes: z.number().positive().optional().describe('training-time budget in MINUTES'),
  budgetPick: RecommendedConfig.nullable()
    .optional()
    .describe('the best candidate predicted to train within the budget; null when none does'),
  unmet: z.array(Unmet),
  justification: z
    .string()
    .describe(
      'why the pick, citing evidence and insight ids in [brackets]; figures in points for scores',
    ),
  notices: z.array(z.string()),
  validation: z
    .object({
      evidence: z
        .string()
        .describe(
          'one line: what the leave-one-dataset-out validation on this knowledge base measured and what is used',
        ),
      weights: z
        .record(z.string(), z.number())
        .describe('blend weights of the scorers (metalearner, portfolio, neighbors), summing to 1'),
      tieMargin: z
        .number()
        .describe(
          "predicted gap (POINTS for scores, the metric's unit for losses) under which candidates are tied",
        ),
      coverage: z.number().describe('nominal coverage of the intervals (0.8)'),
    })
    .optional()
    .describe('the self-validation behind the metalearner strategy (absent for other strategies)'),
  knowledgeBase: z.object({
    label: z.string(),
    version: z
      .string()
      .describe(
        "content version (changes whenever records, profiles, cards or hyperparameters change; '+catalog.<hash>' when shipped catalog cards filled missing ones)",
      ),
    records: z.number().int().describe('experiment records in the knowledge base'),
    datasets: z.number().int(),
  }),
  attempts: z.array(Attempt).default([]),
  llmAnswer: LlmAnswer.optional(),
  continuation: ContinuationInfo.optional().describe(
    'present when the pick continues trials already run on the dataset: topK is then the next trials, none of them run yet',
  ),
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
