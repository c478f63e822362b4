// Background jobs (bench): a bounded number run at once, each with its state, its progress and
// listeners (the server-sent event streams) told of every change.
import type { TaskProgress } from './tasks.ts';

export type JobStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface JobError {
  status: number;
  message: string;
  field?: string;
}

export interface JobState {
  id: string;
  kind: string;
  status: JobStatus;
  createdAt: string;
  finishedAt?: string;
  progress: TaskProgress | null;
  result?: unknown;
  error?: JobError;
}

/** Too many jobs run already: the face answers 429. */
export class TooManyJobsError extends Error {
  constructor(readonly running: number) {
    super(`${running} job(s) are running, the most this server runs at once; try again later`);
    this.name = 'TooManyJobsError';
  }
}

type Listener = (state: JobState) => void;

interface Job {
  state: JobState;
  listeners: Set<Listener>;
  cancel(): Promise<void>;
}

export interface JobStart {
  result: Promise<unknown>;
  cancel(): Promise<void>;
}

/** Finished jobs kept for GET /v1/jobs/{id}; the oldest are forgotten first. */
const KEEP_FINISHED = 50;

export class Jobs {
  private readonly jobs = new Map<string, Job>();
  private counter = 0;

  constructor(
    private readonly maxRunning: number,
    /** Maps a failure to what the job reports (the HTTP status and message a request would get). */
    private readonly describe: (err: unknown) => JobError,
  ) {}

  get running(): number {
    return [...this.jobs.values()].filter((j) => j.state.status === 'running').length;
  }

  /** Starts a job; `start` receives the progress callback and returns the work. */
  submit(kind: string, start: (onProgress: (p: TaskProgress) => void) => JobStart): JobState {
    if (this.running >= this.maxRunning) throw new TooManyJobsError(this.running);
    const state: JobState = {
      id: `job-${++this.counter}`,
      kind,
      status: 'running',
      createdAt: new Date().toISOString(),
      progress: null,
    };
    const job: Job = { state, listeners: new Set(), cancel: async () => {} };
    this.jobs.set(state.id, job);
    const work = start((progress) => {
      if (state.status !== 'running') return;
      state.progress = progress;
      this.notify(job);
    });
    job.cancel = work.cancel;
    work.result.then(
      (result) => this.finish(job, 'succeeded', { result }),
      (err) => {
        if (state.status === 'running') this.finish(job, 'failed', { error: this.describe(err) });
      },
    );
    this.forgetOld();
    return { ...state };
  }

  get(id: string): JobState | undefined {
    const job = this.jobs.get(id);
    return job && { ...job.state };
  }

  list(): JobState[] {
    return [...this.jobs.values()].map(({ state: { result: _result, ...rest } }) => rest);
  }

  /** Calls `listener` on every change of the job until it ends; returns the unsubscribe. */
  subscribe(id: string, listener: Listener): () => void {
    const job = this.jobs.get(id);
    if (!job) return () => {};
    job.listeners.add(listener);
    return () => job.listeners.delete(listener);
  }

  async cancel(id: string): Promise<JobState | undefined> {
    const job = this.jobs.get(id);
    if (!job) return undefined;
    if (job.state.status === 'running') {
      this.finish(job, 'cancelled', {});
      await job.cancel();
    }
    return { ...job.state };
  }

  async close(): Promise<void> {
    await Promise.all([...this.jobs.keys()].map((id) => this.cancel(id)));
  }

  private finish(job: Job, status: JobStatus, extra: Pick<JobState, 'result' | 'error'>): void {
    Object.assign(job.state, { status, finishedAt: new Date().toISOString() }, extra);
    this.notify(job);
    job.listeners.clear();
  }

  private notify(job: Job): void {
    for (const listener of job.listeners) listener({ ...job.state });
  }

  private forgetOld(): void {
    const finished = [...this.jobs.values()].filter((j) => j.state.status !== 'running');
    for (const j of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED)))
      this.jobs.delete(j.state.id);
  }
}
