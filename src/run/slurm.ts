// The Slurm executor: each trial is a batch job submitted with sbatch and followed with squeue,
// scontrol and the job-completion log (sacct --completion), the commands every Slurm site has.
// Nothing reaches a shell except the job script itself, which sbatch gets as one argument
// (--wrap): variables are exported in it quoted for sh, and the command is either argv words
// quoted for sh or the template's shell script, quoted by the template.
//
// Job states and what a trial makes of them (squeue -t all -o %T; scontrol show job -o):
//   PENDING, CONFIGURING, RUNNING, COMPLETING, SUSPENDED, REQUEUED, RESIZING   still going
//   COMPLETED                                  exited (its ExitCode, 0)
//   FAILED                                     exited with ExitCode's code (or its signal)
//   OUT_OF_MEMORY                              out-of-memory (a failed trial)
//   TIMEOUT, DEADLINE                          timeout (stopped)
//   CANCELLED                                  cancelled (stopped)
//   NODE_FAIL, BOOT_FAIL, PREEMPTED            node-failure (stopped: not the configuration's fault)
// The exit code of a signalled job is whatever its shell made of the signal (0:15 or 143:0):
// the state decides, never the code. A job the scheduler no longer knows anywhere is `vanished`.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { ensureDirectory } from '../core/files.ts';
import { ExitCode, MetallmixError, type Env } from '../core/index.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  WaitAborted,
  type Executor,
  type JobEnd,
  type JobHandle,
  type JobOutcome,
  type TrialJob,
} from './executor.ts';
import { commandText, shQuote } from './template.ts';

export interface SlurmSettings {
  partition?: string;
  gres?: string;
  /** Extra sbatch arguments, passed as they are (each one word). */
  sbatchArgs?: string[];
}

export interface SlurmExecutorOptions extends SlurmSettings {
  /** The environment the Slurm commands run in (SLURM_CONF, PATH). */
  env: Env;
  pollMs?: number;
  /** Consecutive failed polls (each already retried inside squeue) before the run gives up. */
  unreachableTries?: number;
}

const RUNNING_STATES = new Set([
  'PENDING',
  'CONFIGURING',
  'RUNNING',
  'COMPLETING',
  'SUSPENDED',
  'REQUEUED',
  'REQUEUE_FED',
  'REQUEUE_HOLD',
  'RESIZING',
  'SIGNALING',
  'STAGE_OUT',
  'STOPPED',
  'RESV_DEL_HOLD',
]);

interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `code:signal` of Slurm's ExitCode field. */
function parseExitCode(text: string | undefined): { code?: number; signal?: number } {
  const m = /^(\d+):(\d+)$/.exec(text ?? '');
  return m ? { code: Number(m[1]), signal: Number(m[2]) } : {};
}

/** How a trial ended, from the job's end state and exit code. */
export function slurmEnd(state: string, exitCode: string | undefined): JobEnd | undefined {
  const base = state.split(/[\s+]/)[0]!;
  if (RUNNING_STATES.has(base)) return undefined;
  const { code, signal } = parseExitCode(exitCode);
  switch (base) {
    case 'COMPLETED':
      return { kind: 'exited', exitCode: code ?? 0 };
    case 'FAILED':
      if (signal) return { kind: 'signalled', signal: `signal ${signal}` };
      return { kind: 'exited', exitCode: code === undefined || code === 0 ? 1 : code };
    case 'OUT_OF_MEMORY':
      return { kind: 'out-of-memory' };
    case 'TIMEOUT':
    case 'DEADLINE':
      return { kind: 'timeout' };
    case 'CANCELLED':
      return { kind: 'cancelled' };
    case 'NODE_FAIL':
    case 'BOOT_FAIL':
    case 'PREEMPTED':
      return { kind: 'node-failure' };
    default:
      return { kind: 'vanished' };
  }
}

/** sbatch expands %j, %x, ... in --output/--error; %% is a literal percent sign. */
const literalFilename = (file: string) => file.replace(/%/g, '%%');

/** Key=value fields of `scontrol show job -o` (our keys' values hold no spaces). */
function fields(line: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of line.matchAll(/(?:^|\s)([A-Za-z:]+)=(\S*)/g)) out.set(m[1]!, m[2]!);
  return out;
}

/** Slurm prints local times without a zone; an unknown time is `Unknown` or `None`. */
function isoTime(text: string | undefined): string | undefined {
  if (!text || !/^\d{4}-\d\d-\d\dT/.test(text)) return undefined;
  const t = new Date(text);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

export class SlurmExecutor implements Executor {
  readonly name = 'slurm';
  readonly detachOnAbort = true;
  private readonly pollMs: number;
  private readonly unreachableTries: number;

  constructor(private readonly options: SlurmExecutorOptions) {
    this.pollMs = options.pollMs ?? 2000;
    this.unreachableTries = options.unreachableTries ?? 3;
  }

  private run(cmd: string, args: string[]): Promise<CommandResult> {
    return new Promise((resolve) => {
      execFile(
        cmd,
        args,
        { env: { ...this.options.env }, encoding: 'utf8', maxBuffer: 16 << 20 },
        (err, stdout, stderr) => {
          const code =
            err === null ? 0 : typeof err.code === 'number' ? err.code : err.code ? 127 : 1;
          resolve({ code, stdout: String(stdout), stderr: String(stderr || (err?.message ?? '')) });
        },
      );
    });
  }

  private unreachable(what: string, r: CommandResult): MetallmixError {
    const detail = r.stderr.trim().split('\n').slice(-2).join('; ') || `exit code ${r.code}`;
    return new MetallmixError(
      `${what}: ${detail}${r.code === 127 ? ' (is Slurm installed and on PATH?)' : ''}`,
      { exitCode: ExitCode.unavailable },
    );
  }

  /** The job script: the job's variables, quoted for sh, then the command. */
  jobScript(job: TrialJob): string {
    const exports = Object.entries(job.env).map(([k, v]) => `export ${k}=${shQuote(v)}`);
    return [...exports, commandText(job.command)].join('\n');
  }

  sbatchArguments(job: TrialJob): string[] {
    const o = this.options;
    return [
      '--parsable',
      `--job-name=${job.name}`,
      `--output=${literalFilename(job.stdoutFile)}`,
      `--error=${literalFilename(job.stderrFile)}`,
      `--chdir=${job.cwd}`,
      '--export=ALL',
      ...(o.partition ? [`--partition=${o.partition}`] : []),
      ...(o.gres ? [`--gres=${o.gres}`] : []),
      ...(job.timeLimitSec !== undefined
        ? [`--time=${Math.max(1, Math.ceil(job.timeLimitSec / 60))}`]
        : []),
      ...(o.sbatchArgs ?? []),
      '--wrap',
      this.jobScript(job),
    ];
  }

  async start(job: TrialJob): Promise<JobHandle> {
    // slurmd opens the log files in folders that must exist (a shared filesystem on a cluster).
    for (const file of [job.stdoutFile, job.stderrFile])
      ensureDirectory(path.dirname(file), 'the folder of the trial log');
    const r = await this.run('sbatch', this.sbatchArguments(job));
    const id = r.stdout.trim().split(';')[0]!;
    if (r.code !== 0 || !/^\d+(_\d+)?$/.test(id)) {
      // A refused job (bad partition, gres, time) is the user's to fix; anything else is Slurm.
      const refused = /Batch job submission failed: (?!Unable to contact)/.test(r.stderr);
      if (refused)
        throw new MetallmixError(`sbatch refused the job: ${r.stderr.trim()}`, {
          location: { field: 'sbatch' },
        });
      throw this.unreachable('cannot submit the job with sbatch', r);
    }
    return { executor: this.name, id, startedAt: new Date().toISOString() };
  }

  async find(job: TrialJob): Promise<JobHandle | undefined> {
    const q = await this.run('squeue', ['-h', '-t', 'all', `--name=${job.name}`, '-o', '%i']);
    if (q.code !== 0) throw this.unreachable('cannot ask squeue for the job', q);
    let id: string | undefined = q.stdout.trim().split('\n')[0]?.trim();
    if (!id) {
      // The completion log does not filter by name itself: every ended job, matched here.
      const c = await this.run('sacct', ['--completion', '-n', '-P', '-o', 'JobID,JobName']);
      id =
        c.code === 0
          ? c.stdout
              .trim()
              .split('\n')
              .map((l) => l.split('|'))
              .find(([, name]) => name === job.name)?.[0]
          : undefined;
    }
    return id ? { executor: this.name, id, startedAt: new Date().toISOString() } : undefined;
  }

  /** The job's state as squeue sees it; undefined when squeue no longer knows the job. */
  private async queueState(id: string): Promise<string | undefined> {
    for (let tries = 1; ; tries++) {
      const r = await this.run('squeue', ['-h', '-t', 'all', '-j', id, '-o', '%T']);
      if (r.code === 0) return r.stdout.trim() || undefined;
      if (/Invalid job id/i.test(r.stderr)) return undefined;
      if (tries >= this.unreachableTries)
        throw this.unreachable(
          `cannot follow Slurm job ${id} (squeue failed ${tries} times); the trial keeps its state and \`metallmix run --resume\` re-attaches to it`,
          r,
        );
      await sleep(this.pollMs);
    }
  }

  private async endDetails(id: string): Promise<
    | {
        state: string;
        exitCode?: string;
        reason?: string;
        start?: string;
        end?: string;
        host?: string;
      }
    | undefined
  > {
    const s = await this.run('scontrol', ['show', 'job', '-o', id]);
    if (s.code === 0 && s.stdout.trim()) {
      const f = fields(s.stdout.trim().split('\n')[0]!);
      return {
        state: f.get('JobState') ?? 'UNKNOWN',
        exitCode: f.get('ExitCode'),
        reason: f.get('Reason'),
        start: f.get('StartTime'),
        end: f.get('EndTime'),
        host: f.get('BatchHost'),
      };
    }
    // Gone from the controller's memory: the completion log still has it.
    const c = await this.run('sacct', [
      '--completion',
      '-j',
      id,
      '-n',
      '-P',
      '-o',
      'JobID,State,ExitCode,Start,End,NodeList',
    ]);
    const line = c.code === 0 ? c.stdout.trim().split('\n')[0] : undefined;
    if (!line) return undefined;
    const [, state, exitCode, start, end, host] = line.split('|');
    return { state: state ?? 'UNKNOWN', exitCode, start, end, host };
  }

  async wait(handle: JobHandle, _job: TrialJob, signal?: AbortSignal): Promise<JobOutcome> {
    for (;;) {
      if (signal?.aborted) throw new WaitAborted();
      const state = await this.queueState(handle.id);
      if (state === undefined || slurmEnd(state, undefined) !== undefined) {
        const d = await this.endDetails(handle.id);
        if (!d)
          return {
            kind: 'vanished',
            endedAt: new Date().toISOString(),
            startedAt: handle.startedAt,
            detail: `Slurm no longer knows job ${handle.id} (not in squeue, scontrol or sacct --completion)`,
          };
        const end = slurmEnd(d.state, d.exitCode);
        // squeue may show the end a moment before scontrol does.
        if (end) {
          const { code, signal: sig } = parseExitCode(d.exitCode);
          return {
            ...end,
            endedAt: isoTime(d.end) ?? new Date().toISOString(),
            startedAt: isoTime(d.start) ?? handle.startedAt,
            ...(d.host && d.host !== '(null)' ? { host: d.host } : {}),
            ...(code !== undefined ? { exitCode: code } : {}),
            ...(sig ? { signal: `signal ${sig}` } : {}),
            detail: `Slurm job ${handle.id} ${d.state}${d.exitCode ? ` ExitCode=${d.exitCode}` : ''}${d.reason && d.reason !== 'None' ? ` Reason=${d.reason}` : ''}`,
          };
        }
      }
      // An abort ends the pause early (the loop's head then throws). The timer removes its
      // listener when it fires: one added per poll and never removed piled up on the run's one
      // signal (Node warned after ten polls).
      await sleep(this.pollMs, undefined, signal ? { signal } : {}).catch(() => undefined);
    }
  }

  async cancel(handle: JobHandle): Promise<void> {
    const r = await this.run('scancel', [handle.id]);
    if (r.code !== 0 && !/Invalid job id|already completing or completed/i.test(r.stderr))
      throw this.unreachable(`cannot cancel Slurm job ${handle.id}`, r);
  }
}
