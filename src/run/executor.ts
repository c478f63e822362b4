// Where trials run: one interface, one implementation per executor (./local.ts: processes on
// this machine; ./slurm.ts: batch jobs through sbatch). The runner (./study.ts) only talks to it.
//
// The contract:
// - `start(job)` starts the job and resolves with a handle as soon as the job is running or
//   queued. The handle is plain JSON: the runner saves it, and `wait` accepts it in another
//   process (after `metallmix run` was killed and resumed).
// - `find(job)` recovers the handle of a job started under `job.name` by a process that died
//   between `start` and saving the handle; undefined means the job never started, so starting
//   it again repeats nothing.
// - `wait(handle, job)` resolves once the job has ended, with how it ended, whichever process
//   started it. A failing, crashing or timed-out job is an outcome, never a rejection. It rejects
//   only when the executor cannot tell (the scheduler is unreachable: a MetallmixError with
//   exit code `unavailable`), or when `signal` aborts the wait; the job is then left as it is.
// - The per-trial time limit (`job.timeLimitSec`) is enforced by the executor: the job is
//   stopped and its outcome is `timeout`.
// - `cancel(handle)` stops the job; a `wait` on it resolves `cancelled`. Cancelling an ended job
//   does nothing.
// - `detachOnAbort`: when the user interrupts `metallmix run`, jobs of this executor are left
//   running (true: a cluster's jobs outlive the session, `--resume` re-attaches) or cancelled
//   and recorded as stopped (false: local processes).
// - Values reach the job without a shell reading them as code: an argv command is passed as
//   words; a shell command was quoted by the template (./template.ts); variables in `job.env` are
//   passed as data.
import type { RenderedCommand } from './template.ts';

export interface TrialJob {
  /** Unique across runs and trials (the Slurm job name). */
  name: string;
  command: RenderedCommand;
  /** Variables set for the job on top of the environment of the run. */
  env: Record<string, string>;
  cwd: string;
  stdoutFile: string;
  stderrFile: string;
  /** A folder of this trial for the executor's own files (pid and exit-status files). */
  controlDir: string;
  timeLimitSec?: number;
}

export interface JobHandle {
  executor: string;
  /** Local: the process-group id; Slurm: the job id. */
  id: string;
  startedAt: string;
  /** Local: the process's start time in clock ticks, so a reused pid is never mistaken for it. */
  startTicks?: string;
  host?: string;
}

export type JobEnd =
  | { kind: 'exited'; exitCode: number }
  | { kind: 'signalled'; signal: string }
  | { kind: 'timeout' }
  | { kind: 'cancelled' }
  | { kind: 'out-of-memory' }
  | { kind: 'node-failure' }
  | { kind: 'vanished' };

export type JobOutcome = JobEnd & {
  endedAt: string;
  startedAt?: string;
  host?: string;
  /** The exit code and signal as the executor reports them, when it does. */
  exitCode?: number;
  signal?: string;
  /** What the executor said (Slurm's state and reason), shown in the record's reason. */
  detail?: string;
};

export interface Executor {
  readonly name: string;
  readonly detachOnAbort: boolean;
  start(job: TrialJob): Promise<JobHandle>;
  find(job: TrialJob): Promise<JobHandle | undefined>;
  wait(handle: JobHandle, job: TrialJob, signal?: AbortSignal): Promise<JobOutcome>;
  cancel(handle: JobHandle): Promise<void>;
}

/** Thrown by `wait` when its signal aborts it. */
export class WaitAborted extends Error {
  constructor() {
    super('wait aborted');
    this.name = 'WaitAborted';
  }
}
