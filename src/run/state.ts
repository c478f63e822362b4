// The study state file (RUN_DIR/study.json): everything a run decided and observed, written
// atomically (a new file renamed over the old one) after every step, so that a run killed at
// any point resumes exactly: a trial is `planned` (its configuration chosen), `starting` (the
// executor may have started it), `started` (its handle saved), `ended` (its outcome saved) or
// `recorded` (its record is in the knowledge base). A lock file keeps two processes off one run.
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { ensureDirectory } from '../core/files.ts';
import path from 'node:path';
import { z } from 'zod';
import {
  Config,
  DatasetProfile,
  Interval,
  MetallmixError,
  Metrics,
  Objective,
  RunStatus,
  parseWith,
} from '../core/index.ts';

export const STATE_FORMAT = 1;

export const TimeLimit = z.union([
  z.object({ kind: z.literal('auto') }),
  z.object({ kind: z.literal('none') }),
  z.object({ kind: z.literal('fixed'), seconds: z.number().positive() }),
]);
export type TimeLimit = z.infer<typeof TimeLimit>;

export const ExecutorSettings = z.union([
  z.object({ kind: z.literal('local') }),
  z.object({
    kind: z.literal('slurm'),
    partition: z.string().optional(),
    gres: z.string().optional(),
    sbatchArgs: z.array(z.string()).default([]),
  }),
]);
export type ExecutorSettings = z.infer<typeof ExecutorSettings>;

export const StudySettings = z.object({
  /** The run's name, and an id unique to this run (job names, record run ids). */
  name: z.string().min(1),
  id: z.string().min(1),
  createdAt: z.string(),
  runDir: z.string(),
  /** Where trials start. */
  cwd: z.string(),
  dataset: z.object({
    name: z.string().min(1),
    profile: DatasetProfile,
    imageFolder: z.string().optional(),
    manifest: z.string().optional(),
  }),
  command: z.string().min(1),
  env: z.record(z.string(), z.string()).default({}),
  executor: ExecutorSettings,
  time: TimeLimit,
  trials: z.number().int().positive(),
  parallel: z.number().int().positive(),
  recommend: z.object({
    metric: z.string().min(1),
    objective: Objective,
    strategy: z.string(),
    seed: z.number().int(),
    models: z.array(z.string()).optional(),
    /** The knowledge base named (undefined: the user's own, layered over the built-in one). */
    kb: z.string().optional(),
    builtin: z.boolean(),
  }),
});
export type StudySettings = z.infer<typeof StudySettings>;

export const JobHandleSchema = z.object({
  executor: z.string(),
  id: z.string(),
  startedAt: z.string(),
  startTicks: z.string().optional(),
  host: z.string().optional(),
});

export const TrialOutcome = z.object({
  status: RunStatus,
  reason: z.string().optional(),
  metrics: Metrics.default({}),
  trainingTimeSec: z.number().nonnegative().optional(),
  epochs: z.number().nonnegative().optional(),
  exitCode: z.number().int().optional(),
  signal: z.string().optional(),
  startedAt: z.string().optional(),
  endedAt: z.string(),
  host: z.string().optional(),
  stderrTail: z.string().optional(),
});
export type TrialOutcome = z.infer<typeof TrialOutcome>;

export const TrialState = z.object({
  trial: z.number().int().positive(),
  /** The job name: unique across runs. */
  name: z.string(),
  phase: z.enum(['planned', 'starting', 'started', 'ended', 'recorded']),
  model: z.string(),
  config: Config,
  recommendationId: z.string(),
  rank: z.number().int().positive(),
  /** The recommendation continued this many recorded trials (absent: the zero-shot one). */
  continues: z.number().int().positive().optional(),
  predictedMetric: Interval.optional(),
  predictedTrainingTimeSec: Interval.optional(),
  timeLimitSec: z.number().positive().optional(),
  /** The command as run, one line of sh. */
  command: z.string(),
  handle: JobHandleSchema.optional(),
  outcome: TrialOutcome.optional(),
  recordId: z.string().optional(),
});
export type TrialState = z.infer<typeof TrialState>;

export const StudyState = z.object({
  format: z.literal(STATE_FORMAT),
  settings: StudySettings,
  trials: z.array(TrialState),
});
export type StudyState = z.infer<typeof StudyState>;

export const stateFile = (runDir: string) => path.join(runDir, 'study.json');
const lockFile = (runDir: string) => path.join(runDir, 'run.lock');

export function readState(runDir: string): StudyState {
  const file = stateFile(runDir);
  if (!existsSync(file))
    throw new MetallmixError(
      `no run to resume here: ${file} does not exist (start one with metallmix run ... --run-dir DIR)`,
      { location: { file } },
    );
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new MetallmixError(`the study state is not valid JSON: ${(err as Error).message}`, {
      location: { file },
      cause: err,
    });
  }
  return parseWith(StudyState, value, { file, what: 'study state' });
}

/** Replaces the state file whole: a reader (or a resumed run) sees the old or the new state. */
export function writeState(state: StudyState): void {
  const file = stateFile(state.settings.runDir);
  ensureDirectory(path.dirname(file), 'the run folder');
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, `${JSON.stringify(state, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the run's lock, or fails naming the process that holds it. A lock left by a process that
 * is gone (killed) is taken over.
 */
export function lockRun(runDir: string): () => void {
  ensureDirectory(runDir, 'the run folder');
  const file = lockFile(runDir);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && pidAlive(holder))
        throw new MetallmixError(
          `the run is in progress in process ${holder}; wait for it, or stop it first`,
          { location: { file: runDir } },
        );
      rmSync(file, { force: true });
    }
  }
  throw new MetallmixError('could not take the lock of the run', { location: { file: runDir } });
}
