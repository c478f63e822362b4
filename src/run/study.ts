// The trial loop of `metallmix run`. It never chooses a configuration: each trial is the best
// configuration not yet tried of a fresh recommendation (the `Proposer`), asked once the
// knowledge base holds every trial recorded so far. Each trial is recorded as soon as it ends,
// and the state file (./state.ts) is written after every step, so a killed run resumes exactly:
// a finished trial is never run again, a started one is re-attached, a planned one is started.
import path from 'node:path';
import {
  configKey,
  isLowerBetter,
  type Candidate,
  type Config,
  type ExperimentRecord,
  type Interval,
} from '../core/index.ts';
import { WaitAborted, type Executor, type JobOutcome, type TrialJob } from './executor.ts';
import { lastLines, readTrialResult, tailOf, RESULT_FILE_VARIABLE } from './result.ts';
import { type StudyState, type TrialOutcome, type TrialState, writeState } from './state.ts';
import {
  commandText,
  renderTemplate,
  type CommandTemplate,
  type TemplateValues,
} from './template.ts';

/** A configuration to run, as a recommendation proposed it. */
export interface Proposal {
  model: string;
  config: Config;
  recommendationId: string;
  /** Its rank in that recommendation (1 = the pick). */
  rank: number;
  predictedMetric?: Interval;
  predictedTrainingTimeSec?: Interval;
  /** The recommendation continued this many trials of the dataset (absent: zero-shot). */
  continues?: number;
}

/**
 * Where configurations come from: a fresh recommendation over the knowledge base, which holds
 * this dataset's trials recorded so far. `tried` are the configurations already run or running;
 * the answer is the best-ranked one not among them, undefined when the recommendation has none.
 */
export interface Proposer {
  propose(tried: readonly Candidate[]): Promise<Proposal | undefined>;
}

/** Writes one trial's record to the knowledge base (atomically, idempotently); returns its id. */
export interface Recorder {
  write(record: ExperimentRecord): Promise<string>;
}

export interface Counts {
  done: number;
  running: number;
  left: number;
}

export interface Best {
  trial: number;
  value: number;
}

export type RunEvent =
  | { type: 'recommending'; trial: number }
  | { type: 'started'; trial: TrialState; counts: Counts }
  | { type: 'reattached'; trial: TrialState; counts: Counts }
  | { type: 'ended'; trial: TrialState; counts: Counts; best?: Best }
  | { type: 'notice'; message: string };

export interface StudyDeps {
  executor: Executor;
  proposer: Proposer;
  recorder: Recorder;
  template: CommandTemplate;
  /** Hyperparameter names in declared order ({args}). */
  parameterOrder: readonly string[];
  onEvent?: (event: RunEvent) => void;
  /** Aborts the run: no new trial starts; running ones are cancelled or left (executor). */
  signal?: AbortSignal;
}

export interface StudyResult {
  trials: TrialState[];
  best?: Best;
  /** The configuration the next trial would run (the suggestion after the budget). */
  next?: Proposal;
  /** The recommendation had no configuration left that was not tried. */
  exhausted: boolean;
  /** The run was interrupted; trials left running are in the state, `--resume` re-attaches. */
  interrupted: boolean;
}

/** Lines of stderr a failed trial's record keeps. */
const STDERR_TAIL_LINES = 20;
/** The auto time limit: this many times the upper predicted training time, and at least the floor. */
export const AUTO_LIMIT_FACTOR = 3;
export const AUTO_LIMIT_FLOOR_SEC = 300;

export function trialDir(state: StudyState, trial: number): string {
  return path.join(state.settings.runDir, `trial-${String(trial).padStart(3, '0')}`);
}

export function trialFiles(state: StudyState, trial: number) {
  const dir = trialDir(state, trial);
  return {
    dir,
    stdoutFile: path.join(dir, 'stdout.log'),
    stderrFile: path.join(dir, 'stderr.log'),
    resultFile: path.join(dir, 'result.json'),
    controlDir: path.join(dir, '.control'),
  };
}

export function timeLimitFor(state: StudyState, p: Pick<Proposal, 'predictedTrainingTimeSec'>) {
  const t = state.settings.time;
  if (t.kind === 'none') return undefined;
  if (t.kind === 'fixed') return t.seconds;
  const high = p.predictedTrainingTimeSec?.high;
  return Math.max(AUTO_LIMIT_FLOOR_SEC, Math.ceil(AUTO_LIMIT_FACTOR * (high ?? 0)));
}

function templateValues(state: StudyState, t: Pick<TrialState, 'trial' | 'model' | 'config'>) {
  const s = state.settings;
  const files = trialFiles(state, t.trial);
  return {
    model: t.model,
    config: t.config,
    fixed: {
      dataset: s.dataset.name,
      ...(s.dataset.imageFolder ? { dataset_dir: s.dataset.imageFolder } : {}),
      ...(s.dataset.manifest ? { manifest: s.dataset.manifest } : {}),
      trial: String(t.trial),
      result_file: files.resultFile,
      run_dir: s.runDir,
      run_name: s.name,
      seed: String(s.recommend.seed),
      metric: s.recommend.metric,
    },
  } satisfies Omit<TemplateValues, 'order'>;
}

/** The command of a trial as it runs, one line of sh. */
export function trialCommand(
  state: StudyState,
  t: Pick<TrialState, 'trial' | 'model' | 'config'>,
  template: CommandTemplate,
  order: readonly string[],
): string {
  return commandText(renderTemplate(template, { ...templateValues(state, t), order }));
}

function jobOf(state: StudyState, t: TrialState, deps: StudyDeps): TrialJob {
  const files = trialFiles(state, t.trial);
  const values = { ...templateValues(state, t), order: deps.parameterOrder };
  const env: Record<string, string> = {};
  // Job variables may use placeholders too (a per-trial output folder, ...), rendered as text.
  for (const [k, v] of Object.entries(state.settings.env)) env[k] = renderEnvValue(v, values);
  env[RESULT_FILE_VARIABLE] = files.resultFile;
  return {
    name: t.name,
    command: renderTemplate(deps.template, values),
    env,
    cwd: state.settings.cwd,
    stdoutFile: files.stdoutFile,
    stderrFile: files.stderrFile,
    controlDir: files.controlDir,
    ...(t.timeLimitSec !== undefined ? { timeLimitSec: t.timeLimitSec } : {}),
  };
}

/** `{name}` placeholders in a variable's value, substituted as plain text (no shell reads it). */
function renderEnvValue(value: string, values: TemplateValues): string {
  return value.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (m, name: string | undefined) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    const key = name!.trim();
    if (key in values.config) return String(values.config[key]);
    if (key === 'model') return values.model;
    return (values.fixed as Record<string, string | undefined>)[key] ?? m;
  });
}

function describeEnd(o: JobOutcome, limitSec: number | undefined): string {
  switch (o.kind) {
    case 'exited':
      return `exited with code ${o.exitCode}`;
    case 'signalled':
      return `killed by ${o.signal}`;
    case 'timeout':
      return `stopped at its time limit${limitSec !== undefined ? ` of ${limitSec} s` : ''}`;
    case 'cancelled':
      return 'cancelled';
    case 'out-of-memory':
      return 'ran out of memory';
    case 'node-failure':
      return 'stopped by a node failure or preemption';
    case 'vanished':
      return 'ended without an exit status';
  }
}

/** What a trial's end means for its record. */
export function trialOutcome(
  o: JobOutcome,
  files: { resultFile: string; stdoutFile: string; stderrFile: string },
  metric: string,
  limitSec: number | undefined,
  interrupted = false,
): TrialOutcome {
  const base = {
    endedAt: o.endedAt,
    ...(o.startedAt ? { startedAt: o.startedAt } : {}),
    ...(o.host ? { host: o.host } : {}),
    ...(o.exitCode !== undefined ? { exitCode: o.exitCode } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  };
  const detail = o.detail ? ` (${o.detail})` : '';
  const stderrTail = lastLines(tailOf(files.stderrFile, 64 << 10), STDERR_TAIL_LINES);
  if (o.kind === 'exited' && o.exitCode === 0) {
    const reading = readTrialResult(files, metric);
    if ('result' in reading) {
      const wall =
        o.startedAt !== undefined
          ? (Date.parse(o.endedAt) - Date.parse(o.startedAt)) / 1000
          : undefined;
      const time = reading.result.cost.trainingTimeSec ?? wall;
      return {
        ...base,
        status: 'finished',
        metrics: reading.result.metrics,
        ...(time !== undefined && time >= 0 ? { trainingTimeSec: time } : {}),
        ...(reading.result.cost.epochs !== undefined ? { epochs: reading.result.cost.epochs } : {}),
      };
    }
    return {
      ...base,
      status: 'failed',
      reason: reading.problem,
      metrics: {},
      ...(stderrTail ? { stderrTail } : {}),
    };
  }
  const failed = o.kind === 'exited' || o.kind === 'out-of-memory';
  const reason =
    o.kind === 'cancelled' && interrupted
      ? `cancelled: metallmix run was interrupted${detail}`
      : `${describeEnd(o, limitSec)}${detail}`;
  return {
    ...base,
    status: failed ? 'failed' : 'stopped',
    reason,
    metrics: {},
    ...(stderrTail ? { stderrTail } : {}),
  };
}

/** The knowledge-base record of an ended trial. */
export function recordOf(state: StudyState, t: TrialState): ExperimentRecord {
  const s = state.settings;
  const o = t.outcome!;
  const files = trialFiles(state, t.trial);
  const executor = s.executor.kind;
  return {
    dataset: s.dataset.name,
    model: t.model,
    config: t.config,
    metrics: o.metrics,
    cost: {
      ...(o.trainingTimeSec !== undefined ? { trainingTimeSec: o.trainingTimeSec } : {}),
      ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
    },
    ...(passesSeed(state) ? { seed: s.recommend.seed } : {}),
    status: o.status,
    provenance: {
      source: `metallmix run ${s.name}`,
      runId: `${s.id}#${t.trial}`,
      trial: {
        command: t.command,
        ...(o.host ? { host: o.host } : {}),
        ...(o.startedAt ? { startedAt: o.startedAt } : {}),
        endedAt: o.endedAt,
        ...(o.exitCode !== undefined ? { exitCode: o.exitCode } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        ...(o.reason ? { reason: o.reason } : {}),
        ...(o.stderrTail ? { stderrTail: o.stderrTail } : {}),
        recommendationId: t.recommendationId,
        rank: t.rank,
        executor,
        ...(t.handle ? { jobId: t.handle.id } : {}),
        study: s.name,
        trial: t.trial,
        stdoutLog: files.stdoutFile,
        stderrLog: files.stderrFile,
      },
    },
  };
}

/** The run's seed is the trials' seed only when the command passes it. */
function passesSeed(state: StudyState): boolean {
  return /\{seed(:-[^}]*)?\}/.test(state.settings.command);
}

function bestOf(state: StudyState): Best | undefined {
  const metric = state.settings.recommend.metric;
  const lower = isLowerBetter(metric);
  let best: Best | undefined;
  for (const t of state.trials) {
    const v = t.outcome?.status === 'finished' ? t.outcome.metrics[metric] : undefined;
    if (v === undefined) continue;
    if (!best || (lower ? v < best.value : v > best.value)) best = { trial: t.trial, value: v };
  }
  return best;
}

export async function runStudy(state: StudyState, deps: StudyDeps): Promise<StudyResult> {
  const s = state.settings;
  const emit = (e: RunEvent) => deps.onEvent?.(e);
  const save = () => writeState(state);
  const internal = new AbortController();
  const abort = () => internal.abort();
  deps.signal?.addEventListener('abort', abort, { once: true });
  if (deps.signal?.aborted) internal.abort();
  const active = new Map<number, Promise<void>>();
  const counts = (): Counts => {
    const done = state.trials.filter((t) => t.phase === 'recorded').length;
    const running = state.trials.filter(
      (t) => t.phase !== 'recorded' && active.has(t.trial),
    ).length;
    return { done, running, left: Math.max(0, s.trials - done - running) };
  };

  const record = async (t: TrialState) => {
    t.recordId = await deps.recorder.write(recordOf(state, t));
    t.phase = 'recorded';
    save();
  };

  const follow = async (t: TrialState): Promise<void> => {
    const job = jobOf(state, t, deps);
    let attached = false;
    if (t.phase === 'starting') {
      // A process died between starting the job and saving its handle: find it by name.
      const found = await deps.executor.find(job);
      if (found) {
        t.handle = found;
        t.phase = 'started';
        attached = true;
        save();
      } else t.phase = 'planned';
    } else if (t.phase === 'started') attached = true;
    if (t.phase === 'planned') {
      t.phase = 'starting';
      save();
      try {
        t.handle = await deps.executor.start(job);
      } catch (err) {
        t.phase = 'planned';
        save();
        throw err;
      }
      t.phase = 'started';
      save();
      emit({ type: 'started', trial: t, counts: counts() });
    } else if (attached) emit({ type: 'reattached', trial: t, counts: counts() });
    let outcome: JobOutcome;
    let interrupted = false;
    try {
      outcome = await deps.executor.wait(t.handle!, job, internal.signal);
    } catch (err) {
      if (!(err instanceof WaitAborted)) throw err;
      if (deps.executor.detachOnAbort) return;
      interrupted = true;
      await deps.executor.cancel(t.handle!);
      outcome = await deps.executor.wait(t.handle!, job);
    }
    t.outcome = trialOutcome(
      outcome,
      trialFiles(state, t.trial),
      s.recommend.metric,
      t.timeLimitSec,
      interrupted,
    );
    t.phase = 'ended';
    save();
    await record(t);
    emit({ type: 'ended', trial: t, counts: counts(), best: bestOf(state) });
  };

  let failure: unknown;
  const track = (t: TrialState) => {
    const p = follow(t)
      .catch((err) => {
        failure ??= err;
        internal.abort();
      })
      .finally(() => active.delete(t.trial));
    active.set(t.trial, p);
  };

  const tried = (): Candidate[] => state.trials.map((t) => ({ model: t.model, config: t.config }));
  let exhausted = false;
  try {
    save();
    // What an earlier process left: outcomes not yet recorded, then trials not yet ended.
    for (const t of state.trials) if (t.phase === 'ended') await record(t);
    for (const t of state.trials) if (t.phase !== 'recorded') track(t);
    for (;;) {
      while (
        !internal.signal.aborted &&
        !exhausted &&
        active.size < s.parallel &&
        state.trials.length < s.trials
      ) {
        const trial = state.trials.length + 1;
        emit({ type: 'recommending', trial });
        const proposal = await deps.proposer.propose(tried());
        if (internal.signal.aborted) break;
        if (!proposal) {
          exhausted = true;
          emit({
            type: 'notice',
            message: `the recommendation has no configuration left that was not tried; stopping after ${state.trials.length} trial(s)`,
          });
          break;
        }
        const seen = new Set(tried().map((c) => `${c.model}|${configKey(c.config)}`));
        if (seen.has(`${proposal.model}|${configKey(proposal.config)}`))
          throw new Error('the proposer returned a configuration already tried');
        const planned: TrialState = {
          trial,
          name: `mlx-${s.id}-t${trial}`,
          phase: 'planned',
          model: proposal.model,
          config: proposal.config,
          recommendationId: proposal.recommendationId,
          rank: proposal.rank,
          ...(proposal.continues ? { continues: proposal.continues } : {}),
          ...(proposal.predictedMetric ? { predictedMetric: proposal.predictedMetric } : {}),
          ...(proposal.predictedTrainingTimeSec
            ? { predictedTrainingTimeSec: proposal.predictedTrainingTimeSec }
            : {}),
          command: '',
        };
        const limit = timeLimitFor(state, proposal);
        if (limit !== undefined) planned.timeLimitSec = limit;
        planned.command = trialCommand(state, planned, deps.template, deps.parameterOrder);
        state.trials.push(planned);
        save();
        track(planned);
      }
      if (active.size === 0) break;
      await Promise.race(active.values());
    }
    if (failure) throw failure;
    const interrupted = internal.signal.aborted;
    const next =
      interrupted || exhausted || state.trials.length < s.trials
        ? undefined
        : await deps.proposer.propose(tried());
    return {
      trials: state.trials,
      best: bestOf(state),
      ...(next ? { next } : {}),
      exhausted,
      interrupted,
    };
  } finally {
    deps.signal?.removeEventListener('abort', abort);
    await Promise.allSettled(active.values());
  }
}
