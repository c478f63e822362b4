import { z } from 'zod';
import { Config } from './search-space.ts';

/**
 * Metrics of a run. Accuracy-like metrics (accuracy, balancedAccuracy, auc, f1 and any other
 * score) are fractions in [0, 1]; importers convert percentages. Loss is as logged.
 */
export const Metrics = z
  .record(z.string(), z.number())
  .describe(
    'metric values by name: scores (accuracy, auc, f1, ...) as FRACTIONS in [0, 1] (importers convert percentages); losses as logged',
  );
export type Metrics = z.infer<typeof Metrics>;

/** Metrics where smaller is better; every other metric is maximized. */
export function isLowerBetter(metric: string): boolean {
  return /loss|error|time/i.test(metric);
}

export const RunStatus = z.enum(['finished', 'failed', 'stopped']);
export type RunStatus = z.infer<typeof RunStatus>;

export const Cost = z.object({
  trainingTimeSec: z.number().nonnegative().optional().describe('training wall time in SECONDS'),
  epochs: z.number().nonnegative().optional().describe('epochs trained'),
  hardware: z.string().optional().describe('e.g. the GPU type'),
});
export type Cost = z.infer<typeof Cost>;

/**
 * How a run that metallmix started (`metallmix run`) or that a user logged (`metallmix record`)
 * came about: what ran where and when, how it ended, and which recommendation proposed it.
 */
export const TrialProvenance = z.object({
  /** The command as run: the argv words quoted for sh, or the shell script. */
  command: z.string().optional(),
  host: z.string().optional(),
  /** ISO 8601 times. */
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  exitCode: z.number().int().optional(),
  signal: z.string().optional(),
  /** Why the run failed or was stopped (non-zero exit, time limit, cancelled, no result). */
  reason: z.string().optional(),
  /** The last lines of a failed run's stderr. */
  stderrTail: z.string().optional(),
  recommendationId: z.string().optional(),
  rank: z.number().int().positive().optional(),
  /** `local`, `slurm`, or `record` for a run logged by hand. */
  executor: z.string().optional(),
  jobId: z.string().optional(),
  study: z.string().optional(),
  trial: z.number().int().positive().optional(),
  stdoutLog: z.string().optional(),
  stderrLog: z.string().optional(),
});
export type TrialProvenance = z.infer<typeof TrialProvenance>;

export const Provenance = z.object({
  /** File path or system (e.g. `optuna:sqlite:///x.db#study`) the record came from. */
  source: z.string().min(1),
  runId: z.string().optional(),
  line: z.number().int().positive().optional(),
  trial: TrialProvenance.optional(),
});
export type Provenance = z.infer<typeof Provenance>;

/** One point of a learning curve, for multi-fidelity baselines (successive halving, Hyperband). */
export const CurvePoint = z.object({ epoch: z.number().nonnegative(), metrics: Metrics });

export const ExperimentRecord = z.object({
  dataset: z.string().min(1),
  model: z.string().min(1),
  config: Config,
  metrics: Metrics,
  cost: Cost.default({}),
  seed: z.number().int().optional(),
  status: RunStatus,
  provenance: Provenance,
  curve: z.array(CurvePoint).optional(),
  /** How many runs an aggregated record stands for (e.g. mean over seeds); 1 by default. */
  count: z.number().int().positive().optional(),
  /** Standard deviations over the aggregated runs, by metric name (plus `trainingTimeSec`). */
  std: z
    .record(z.string(), z.number().nonnegative())
    .optional()
    .describe(
      'standard deviations over the aggregated runs, on the scale of each metric (seconds for trainingTimeSec)',
    ),
});
export type ExperimentRecord = z.infer<typeof ExperimentRecord>;
