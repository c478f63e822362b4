// The local executor: each trial is a process group on this machine, its stdout and stderr
// written straight to log files (not through pipes, so a trial outlives a `metallmix run` that
// was killed, and loses no output).
//
// The trial runs under a small /bin/sh wrapper that writes its own pid to a file, runs the
// command and writes the exit status to another file. The command's words reach it as the
// wrapper's positional parameters ("$@"), which sh passes on without reading them, so argv
// commands still get no shell interpretation of any value; shell commands are `eval`ed in a
// subshell, as quoted by the template. The two files let a resumed run re-attach to a trial
// started by a process that was killed: it waits for the process group to end and reads the
// exit status, or finds that the trial ended without one (killed).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { ensureDirectory } from '../core/files.ts';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MetallmixError, type Env } from '../core/index.ts';
import {
  WaitAborted,
  type Executor,
  type JobHandle,
  type JobOutcome,
  type TrialJob,
} from './executor.ts';

const WRITE_PID = `echo $$ > "$1.tmp" && mv "$1.tmp" "$1"`;
const WRITE_EXIT = `echo "$c" > "$f.tmp" && mv "$f.tmp" "$f"; exit "$c"`;
const ARGV_WRAPPER = `${WRITE_PID}; f=$2; shift 2; "$@"; c=$?; ${WRITE_EXIT}`;
const SHELL_WRAPPER = `${WRITE_PID}; f=$2; (eval "$3"); c=$?; ${WRITE_EXIT}`;

export interface LocalExecutorOptions {
  /** The environment trials start from (the face's, never read from process.env here). */
  env: Env;
  /** Between SIGTERM and SIGKILL when a trial is stopped. */
  killGraceMs?: number;
  /** How often a re-attached trial is checked. */
  pollMs?: number;
}

/** The longest delay setTimeout keeps (2^31 - 1 ms); a longer one fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const pidFile = (job: TrialJob) => path.join(job.controlDir, 'pid');
const exitFile = (job: TrialJob) => path.join(job.controlDir, 'exit');

/** Field 22 of /proc/PID/stat (start time in clock ticks) and whether the process is a zombie. */
function procStat(pid: number): { startTicks: string; zombie: boolean } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { startTicks: fields[19]!, zombie: fields[0] === 'Z' || fields[0] === 'X' };
  } catch {
    return undefined;
  }
}

const hasProc = existsSync('/proc/self/stat');

/** Whether the process that leads the trial's group is still the one started, and alive. */
function leaderAlive(handle: JobHandle): boolean {
  const pid = Number(handle.id);
  if (hasProc) {
    const stat = procStat(pid);
    return (
      stat !== undefined &&
      !stat.zombie &&
      (handle.startTicks === undefined || stat.startTicks === handle.startTicks)
    );
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(handle: JobHandle, signal: NodeJS.Signals): void {
  try {
    process.kill(-Number(handle.id), signal);
  } catch {
    // The group is gone already.
  }
}

function readExitStatus(job: TrialJob): number | undefined {
  try {
    const text = readFileSync(exitFile(job), 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/** sh reports a command killed by signal N as status 128 + N. */
function fromStatus(
  code: number,
): { kind: 'signalled'; signal: string; exitCode: number } | { kind: 'exited'; exitCode: number } {
  if (code > 128 && code < 128 + 65) {
    const signal = Object.entries(os.constants.signals).find(([, n]) => n === code - 128)?.[0];
    if (signal) return { kind: 'signalled', signal, exitCode: code };
  }
  return { kind: 'exited', exitCode: code };
}

interface Own {
  ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export class LocalExecutor implements Executor {
  readonly name = 'local';
  readonly detachOnAbort = false;
  private readonly own = new Map<string, Own>();
  private readonly stopping = new Map<
    string,
    { why: 'timeout' | 'cancelled'; done: Promise<void> }
  >();
  private readonly killGraceMs: number;
  private readonly pollMs: number;

  constructor(private readonly options: LocalExecutorOptions) {
    this.killGraceMs = options.killGraceMs ?? 10_000;
    this.pollMs = options.pollMs ?? 250;
  }

  async start(job: TrialJob): Promise<JobHandle> {
    ensureDirectory(job.controlDir, 'the trial folder');
    ensureDirectory(path.dirname(job.stdoutFile), 'the folder of the trial log');
    ensureDirectory(path.dirname(job.stderrFile), 'the folder of the trial log');
    const out = openSync(job.stdoutFile, 'a');
    const err = openSync(job.stderrFile, 'a');
    const args =
      job.command.kind === 'argv'
        ? ['-c', ARGV_WRAPPER, 'metallmix-trial', pidFile(job), exitFile(job), ...job.command.argv]
        : ['-c', SHELL_WRAPPER, 'metallmix-trial', pidFile(job), exitFile(job), job.command.script];
    let child;
    try {
      child = spawn('/bin/sh', args, {
        cwd: job.cwd,
        env: { ...this.options.env, ...job.env },
        detached: true,
        stdio: ['ignore', out, err],
      });
    } finally {
      closeSync(out);
      closeSync(err);
    }
    const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code, signal) => resolve({ code, signal }));
      },
    );
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e) =>
        reject(
          new MetallmixError(`cannot start the trial: ${e.message}`, {
            location: { field: 'command' },
            cause: e,
          }),
        ),
      );
    });
    const pid = child.pid!;
    const handle: JobHandle = {
      executor: this.name,
      id: String(pid),
      startedAt: new Date().toISOString(),
      host: os.hostname(),
      ...(hasProc && procStat(pid) ? { startTicks: procStat(pid)!.startTicks } : {}),
    };
    this.own.set(handle.id, { ended: ended.catch(() => ({ code: null, signal: null })) });
    return handle;
  }

  async find(job: TrialJob): Promise<JobHandle | undefined> {
    let text: string;
    try {
      text = readFileSync(pidFile(job), 'utf8').trim();
    } catch {
      return undefined;
    }
    if (!/^\d+$/.test(text)) return undefined;
    const stat = hasProc ? procStat(Number(text)) : undefined;
    return {
      executor: this.name,
      id: text,
      startedAt: statSync(pidFile(job)).mtime.toISOString(),
      host: os.hostname(),
      ...(stat ? { startTicks: stat.startTicks } : {}),
    };
  }

  async wait(handle: JobHandle, job: TrialJob, signal?: AbortSignal): Promise<JobOutcome> {
    const started = Date.parse(handle.startedAt);
    const limitMs = job.timeLimitSec === undefined ? undefined : job.timeLimitSec * 1000;
    const own = this.own.get(handle.id);
    let timer: NodeJS.Timeout | undefined;
    // A delay over setTimeout's 32-bit limit (24.8 days) would fire at once: wait in steps.
    const arm = () => {
      const left = Math.max(0, started + limitMs! - Date.now());
      timer =
        left > MAX_TIMER_MS
          ? setTimeout(arm, MAX_TIMER_MS)
          : setTimeout(() => void this.stop(handle, 'timeout'), left);
    };
    if (limitMs !== undefined) arm();
    try {
      let status: { code?: number; signal?: string };
      if (own) {
        // The run's one signal outlives every trial: the listener goes when this wait ends.
        let onAbort = () => {};
        const aborted = new Promise<never>((_, reject) => {
          onAbort = () => reject(new WaitAborted());
          if (signal?.aborted) onAbort();
          signal?.addEventListener('abort', onAbort, { once: true });
        });
        const ended = await Promise.race([own.ended, aborted]).finally(() =>
          signal?.removeEventListener('abort', onAbort),
        );
        this.own.delete(handle.id);
        status =
          ended.code !== null
            ? { code: ended.code }
            : { code: readExitStatus(job), signal: ended.signal ?? undefined };
      } else {
        // Started by another process: follow it through its files and /proc.
        for (;;) {
          if (signal?.aborted) throw new WaitAborted();
          const code = readExitStatus(job);
          if (code !== undefined) {
            status = { code };
            break;
          }
          if (!leaderAlive(handle)) {
            // The wrapper writes the status before it exits: read once more to close the race.
            const last = readExitStatus(job);
            status = last !== undefined ? { code: last } : {};
            break;
          }
          await sleep(this.pollMs);
        }
      }
      if (timer) clearTimeout(timer);
      // A trial's processes end with it: a stop in progress finishes, and what the trial left
      // running in its process group (workers, a server it started) is stopped too.
      await (this.stopping.get(handle.id)?.done ?? endGroup(handle, this.killGraceMs));
      return this.outcome(handle, status);
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  private outcome(handle: JobHandle, status: { code?: number; signal?: string }): JobOutcome {
    const base = {
      endedAt: new Date().toISOString(),
      startedAt: handle.startedAt,
      host: handle.host,
    };
    const stopped = this.stopping.get(handle.id)?.why;
    this.stopping.delete(handle.id);
    const reported = {
      ...(status.code !== undefined ? { exitCode: status.code } : {}),
      ...(status.signal ? { signal: status.signal } : {}),
    };
    if (stopped) return { kind: stopped, ...base, ...reported };
    if (status.code !== undefined) return { ...base, ...fromStatus(status.code) };
    if (status.signal) return { kind: 'signalled', signal: status.signal, ...base, ...reported };
    return {
      kind: 'vanished',
      ...base,
      detail:
        'the trial ended while no metallmix process watched it, without an exit status (killed)',
    };
  }

  private stop(handle: JobHandle, why: 'timeout' | 'cancelled'): Promise<void> {
    const current = this.stopping.get(handle.id);
    if (current) return current.done;
    if (!groupAlive(handle)) return Promise.resolve();
    const done = endGroup(handle, this.killGraceMs);
    this.stopping.set(handle.id, { why, done });
    return done;
  }

  async cancel(handle: JobHandle): Promise<void> {
    await this.stop(handle, 'cancelled');
  }
}

/** SIGTERM to the trial's process group, SIGKILL after the grace period; resolves when it is gone. */
async function endGroup(handle: JobHandle, graceMs: number): Promise<void> {
  if (!groupAlive(handle)) return;
  signalGroup(handle, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(50);
    if (!groupAlive(handle)) return;
  }
  signalGroup(handle, 'SIGKILL');
  for (let i = 0; i < 100 && groupAlive(handle); i++) await sleep(50);
}

/** Whether any process of the trial's group is left (the leader may be gone before its children). */
function groupAlive(handle: JobHandle): boolean {
  try {
    process.kill(-Number(handle.id), 0);
  } catch {
    return false;
  }
  // kill(0) also succeeds on zombies; a group of zombies only is gone.
  return leaderAlive(handle) || !hasProc || groupHasLiveMember(Number(handle.id));
}

function groupHasLiveMember(pgid: number): boolean {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
    } catch {
      // The process ended while we looked.
    }
  }
  return false;
}
