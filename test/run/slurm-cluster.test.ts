// Starts the single-node Slurm 22.05 cluster of scripts/slurm-test-cluster.sh in a temp dir and
// reads job outcomes the way the runner of `metallmix run` does: `sbatch --parsable` to submit,
// `squeue -t all -j ID -o %T` to poll, `scontrol show job -o ID` for the exit code and reason, and
// `sacct --completion` (the jobcomp/filetxt log; this cluster has no accounting database) once
// the job has ended. The time-out case runs alongside the others: Slurm's smallest limit is one
// minute and slurmctld checks limits every 30 s, so it ends 60 to 95 s after it starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/slurm-test-cluster.sh', import.meta.url));
const ENDED = new Set([
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TIMEOUT',
  'OUT_OF_MEMORY',
  'NODE_FAIL',
  'PREEMPTED',
  'BOOT_FAIL',
  'DEADLINE',
]);

const onPath = (cmd: string): boolean =>
  (process.env.PATH ?? '')
    .split(':')
    .concat('/usr/sbin', '/usr/bin')
    .some((dir) => existsSync(path.join(dir, cmd)));

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'the Slurm test cluster runs its daemons as root';
  const missing = ['slurmctld', 'slurmd', 'munged', 'sbatch'].filter((c) => !onPath(c));
  if (missing.length > 0) {
    return `${missing.join(', ')} not installed (run: bash scripts/slurm-test-cluster.sh install)`;
  }
  return false;
}

/** Key=value fields of `scontrol show job -o` (values never contain spaces for the keys we read). */
function fields(line: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of line.matchAll(/(?:^|\s)([A-Za-z:]+)=(\S*)/g)) out.set(m[1]!, m[2]!);
  return out;
}

function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

test(
  'single-node Slurm cluster: completed, failed (exit 3), cancelled and timed-out jobs',
  { skip: skipReason(), timeout: 240_000 },
  async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'metallmix-slurm-'));
    let started = false;
    t.after(() => {
      if (started) execFileSync('bash', [SCRIPT, 'stop', dir], { stdio: 'inherit' });
      rmSync(dir, { recursive: true, force: true });
    });

    const t0 = Date.now();
    const exports = execFileSync('bash', [SCRIPT, 'start', dir], { encoding: 'utf8' });
    started = true;
    t.diagnostic(`cluster start: ${Date.now() - t0} ms`);
    const conf = /^export SLURM_CONF=(.+)$/m.exec(exports)?.[1];
    assert.equal(conf, path.join(dir, 'slurm.conf'));
    const env = { ...process.env, SLURM_CONF: conf };
    const run = (cmd: string, ...args: string[]): string =>
      execFileSync(cmd, args, { env, encoding: 'utf8', cwd: dir }).trim();

    assert.deepEqual(run('sinfo', '-h', '-o', '%P %a %T').split('\n').sort(), [
      'debug* up idle',
      'short up idle',
    ]);

    const submit = (...args: string[]): string => {
      const id = run('sbatch', '--parsable', '--output', path.join(dir, 'job-%j.out'), ...args);
      assert.match(id, /^\d+$/);
      return id;
    };
    const state = (id: string): string => run('squeue', '-h', '-t', 'all', '-j', id, '-o', '%T');
    const waitFor = async (id: string, done: (s: string) => boolean, limitMs: number) => {
      const start = Date.now();
      for (;;) {
        const s = state(id);
        if (done(s)) return { state: s, ms: Date.now() - start };
        assert.ok(Date.now() - start < limitMs, `job ${id} still ${s} after ${limitMs} ms`);
        await sleep(250);
      }
    };
    const ended = (id: string, limitMs = 30_000) => waitFor(id, (s) => ENDED.has(s), limitMs);
    const job = (id: string) => fields(run('scontrol', 'show', 'job', '-o', id));
    // jobcomp/filetxt is written when slurmctld ends the job, a moment after squeue shows the end.
    const completion = async (id: string): Promise<string> => {
      for (let i = 0; i < 40; i++) {
        const line = run(
          'sacct',
          '--completion',
          '-j',
          id,
          '-n',
          '-P',
          '-o',
          'JobID,State,ExitCode',
        );
        if (line !== '') return line;
        await sleep(250);
      }
      return '';
    };

    const timeoutJob = submit('--time=1', '--job-name=timeout', '--wrap', 'sleep 300');
    const timeoutSubmitted = Date.now();

    await t.test('a job that writes a file ends COMPLETED with exit code 0:0', async () => {
      const out = path.join(dir, 'written.txt');
      const id = submit('--job-name=write', '--wrap', `echo "job $SLURM_JOB_ID" > ${out}`);
      const { state: s, ms } = await ended(id);
      t.diagnostic(`completed job: ${ms} ms from submit to COMPLETED`);
      assert.equal(s, 'COMPLETED');
      assert.equal(readFileSync(out, 'utf8'), `job ${id}\n`);
      const f = job(id);
      assert.deepEqual([f.get('JobState'), f.get('ExitCode')], ['COMPLETED', '0:0']);
      assert.equal(await completion(id), `${id}|COMPLETED|0:0`);
    });

    await t.test('a job that exits 3 ends FAILED with exit code 3:0', async () => {
      const id = submit('--job-name=fail', '--wrap', 'echo failing >&2; exit 3');
      const { state: s, ms } = await ended(id);
      t.diagnostic(`failed job: ${ms} ms from submit to FAILED`);
      assert.equal(s, 'FAILED');
      const f = job(id);
      assert.deepEqual(
        [f.get('JobState'), f.get('ExitCode'), f.get('Reason')],
        ['FAILED', '3:0', 'NonZeroExitCode'],
      );
      assert.equal(await completion(id), `${id}|FAILED|3:0`);
      assert.equal(readFileSync(path.join(dir, `job-${id}.out`), 'utf8'), 'failing\n');
    });

    // The exit code of a job ended by a signal is whatever its shell made of it: 0:15 when sh was
    // killed by SIGTERM, 143:0 when sh saw its child die of it first (both occur). The state is
    // the reliable part; the completion log is written at the cancel and keeps 0:0.
    const SIGTERMED = /^(0:15|143:0)$/;

    await t.test('a running job that is scancelled ends CANCELLED', async () => {
      const started = path.join(dir, 'cancel-started');
      const id = submit('--job-name=cancel', '--wrap', `touch ${started}; sleep 300`);
      await waitFor(id, () => existsSync(started), 30_000);
      const start = Date.now();
      run('scancel', id);
      const { state: s } = await ended(id);
      t.diagnostic(`cancelled job: ${Date.now() - start} ms from scancel to CANCELLED`);
      assert.equal(s, 'CANCELLED');
      const f = job(id);
      assert.equal(f.get('JobState'), 'CANCELLED');
      assert.match(f.get('ExitCode')!, SIGTERMED);
      assert.equal(await completion(id), `${id}|CANCELLED|0:0`);
    });

    await t.test('a job over its one-minute limit ends TIMEOUT', async () => {
      const { state: s } = await ended(timeoutJob, 150_000);
      const f = job(timeoutJob);
      t.diagnostic(
        `time-out job: TIMEOUT ${Date.now() - timeoutSubmitted} ms after submit, RunTime=${f.get('RunTime')}`,
      );
      assert.equal(s, 'TIMEOUT');
      assert.deepEqual(
        [f.get('JobState'), f.get('Reason'), f.get('TimeLimit')],
        ['TIMEOUT', 'TimeLimit', '00:01:00'],
      );
      assert.match(f.get('ExitCode')!, SIGTERMED);
      assert.equal(await completion(timeoutJob), `${timeoutJob}|TIMEOUT|0:0`);
    });

    await t.test('stop leaves no daemon or job process behind and can be repeated', () => {
      const pids = readdirSync(path.join(dir, 'run')).map((f) =>
        Number(readFileSync(path.join(dir, 'run', f), 'utf8')),
      );
      assert.equal(pids.length, 3);
      const t1 = Date.now();
      execFileSync('bash', [SCRIPT, 'stop', dir]);
      t.diagnostic(`cluster stop: ${Date.now() - t1} ms`);
      started = false;
      assert.deepEqual(
        pids.filter((pid) => alive(pid)),
        [],
      );
      const strays = readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p) && alive(Number(p)))
        .filter((p) => {
          try {
            return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir);
          } catch {
            return false;
          }
        });
      assert.deepEqual(strays, []);
      execFileSync('bash', [SCRIPT, 'stop', dir]);
    });
  },
);
