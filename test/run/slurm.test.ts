// The Slurm executor and `metallmix run --executor slurm` against the real single-node Slurm
// 22.05 cluster of scripts/slurm-test-cluster.sh (root only; skipped with a message otherwise).
// Cases run concurrently: a job that fails (exit 3), one cancelled while it runs, hostile values
// through the job script, a job found by name and re-attached by a second executor, and the
// digits run end to end: first against an unreachable controller (a clear error, nothing
// recorded, the trial still planned), then resumed against the live one, where a job cancelled
// by hand becomes a stopped trial and the next one finishes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { SlurmExecutor, trialOutcome, WaitAborted, type TrialJob } from '../../src/run/index.ts';
import { openKnowledgeBase } from '../../src/store/index.ts';
import { runCliWith } from '../support/cli.ts';
import { HOSTILE, PYTHON, echoScript } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = path.join(ROOT, 'scripts', 'slurm-test-cluster.sh');
const EXAMPLES = path.join(ROOT, 'examples');

const onPath = (cmd: string): boolean =>
  (process.env.PATH ?? '')
    .split(':')
    .concat('/usr/sbin', '/usr/bin')
    .some((dir) => existsSync(path.join(dir, cmd)));

function skipReason(): string | false {
  if (process.getuid?.() !== 0) return 'the Slurm test cluster runs its daemons as root';
  const missing = ['slurmctld', 'slurmd', 'munged', 'sbatch'].filter((c) => !onPath(c));
  if (missing.length)
    return `${missing.join(', ')} not installed (run: bash scripts/slurm-test-cluster.sh install)`;
  if (spawnSync(PYTHON, ['-c', 'import sklearn']).status !== 0)
    return 'needs /usr/bin/python3 with scikit-learn (Debian python3-sklearn)';
  return false;
}

function job(
  dir: string,
  name: string,
  argv: string[],
  env: Record<string, string> = {},
): TrialJob {
  const d = path.join(dir, name);
  mkdirSync(d, { recursive: true });
  return {
    name: `mlx-test-${name}-${process.pid}`,
    command: { kind: 'argv', argv },
    env: { METALLMIX_RESULT_FILE: path.join(d, 'result.json'), ...env },
    cwd: d,
    stdoutFile: path.join(d, 'stdout.log'),
    stderrFile: path.join(d, 'stderr.log'),
    controlDir: path.join(d, '.control'),
  };
}

const files = (j: TrialJob) => ({
  resultFile: j.env.METALLMIX_RESULT_FILE!,
  stdoutFile: j.stdoutFile,
  stderrFile: j.stderrFile,
});

test(
  'Slurm: failed, cancelled, hostile and re-attached jobs; metallmix run end to end',
  { skip: skipReason(), timeout: 400_000, concurrency: true },
  async (t) => {
    const t0 = Date.now();
    // One hook: the cluster stops before its folder goes.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'metallmix-slurm-run-'));
    const cluster = path.join(dir, 'cluster');
    mkdirSync(cluster);
    let started = false;
    t.after(() => {
      if (started) execFileSync('bash', [SCRIPT, 'stop', cluster], { stdio: 'inherit' });
      rmSync(dir, { recursive: true, force: true });
    });
    const exports = execFileSync('bash', [SCRIPT, 'start', cluster], { encoding: 'utf8' });
    started = true;
    const conf = /^export SLURM_CONF=(.+)$/m.exec(exports)![1]!;
    const env: Record<string, string | undefined> = {
      ...process.env,
      SLURM_CONF: conf,
      PATH: `${process.env.PATH}:/usr/sbin:/usr/bin`,
    };
    delete env.METALLMIX_KB;
    t.diagnostic(`cluster started in ${Date.now() - t0} ms`);
    const executor = new SlurmExecutor({ env, pollMs: 250 });

    await Promise.all([
      t.test('a job that exits 3 is a failed trial that keeps its stderr', async () => {
        const j = job(dir, 'fail', [
          '/bin/sh',
          '-c',
          'echo "RuntimeError: CUDA error" >&2; exit 3',
        ]);
        const handle = await executor.start(j);
        const outcome = await executor.wait(handle, j);
        assert.deepEqual([outcome.kind, outcome.exitCode], ['exited', 3]);
        assert.match(
          outcome.detail!,
          new RegExp(`Slurm job ${handle.id} FAILED ExitCode=3:0 Reason=NonZeroExitCode`),
        );
        const trial = trialOutcome(outcome, files(j), 'accuracy', undefined);
        assert.equal(trial.status, 'failed');
        assert.equal(trial.stderrTail, 'RuntimeError: CUDA error');
        assert.ok(trial.host && trial.startedAt);
      }),

      t.test('polls leave no listener on the run signal; an abort ends a wait', async () => {
        // About 12 polls of 250 ms (Node warns of a leak past 10 listeners on one signal).
        const run = new AbortController();
        const j = job(dir, 'polled', ['/bin/sh', '-c', 'sleep 3']);
        const outcome = await executor.wait(await executor.start(j), j, run.signal);
        assert.equal(outcome.kind, 'exited');
        assert.equal(getEventListeners(run.signal, 'abort').length, 0);
        const long = job(dir, 'aborted-wait', ['/bin/sh', '-c', 'sleep 300']);
        const handle = await executor.start(long);
        const waiting = executor.wait(handle, long, run.signal);
        await sleep(600);
        run.abort();
        await assert.rejects(waiting, WaitAborted);
        await executor.cancel(handle);
      }),

      t.test('a running job that is cancelled is a stopped trial', async () => {
        const marker = path.join(dir, 'cancel-started');
        const j = job(dir, 'cancel', ['/bin/sh', '-c', `touch '${marker}'; sleep 300`]);
        const handle = await executor.start(j);
        while (!existsSync(marker)) await sleep(100);
        const waiting = executor.wait(handle, j);
        await executor.cancel(handle);
        const outcome = await waiting;
        assert.equal(outcome.kind, 'cancelled');
        const trial = trialOutcome(outcome, files(j), 'accuracy', undefined);
        assert.equal(trial.status, 'stopped');
        assert.match(trial.reason!, /^cancelled \(Slurm job \d+ CANCELLED/);
        // Cancelling an ended job does nothing.
        await executor.cancel(handle);
      }),

      t.test(
        'hostile values reach the job as the same strings (argv, variables, paths)',
        async () => {
          const script = echoScript(dir);
          const root = path.join(dir, `odd %j dir; $(touch PWNED) 'q'`);
          mkdirSync(root, { recursive: true });
          const j = job(root, 'hostile', [PYTHON, script, ...HOSTILE], {
            ECHO_VAR: HOSTILE.join('|'),
          });
          const outcome = await executor.wait(await executor.start(j), j);
          assert.deepEqual(
            [outcome.kind, outcome.exitCode],
            ['exited', 0],
            readFileSync(j.stderrFile, 'utf8'),
          );
          const out = JSON.parse(readFileSync(j.stdoutFile, 'utf8'));
          assert.deepEqual(out.argv, HOSTILE);
          assert.equal(out.env, HOSTILE.join('|'));
          assert.equal(out.cwd, j.cwd);
          assert.equal(existsSync(path.join(j.cwd, 'PWNED')), false);
        },
      ),

      t.test('a second executor finds a job by its name and re-attaches to it', async () => {
        const j = job(dir, 'attach', [
          '/bin/sh',
          '-c',
          'sleep 2; echo \'METALLMIX_RESULT {"accuracy": 0.75}\'',
        ]);
        const handle = await executor.start(j);
        const other = new SlurmExecutor({ env, pollMs: 250 });
        const found = await other.find(j);
        assert.equal(found?.id, handle.id);
        const outcome = await other.wait(found!, j);
        const trial = trialOutcome(outcome, files(j), 'accuracy', undefined);
        assert.deepEqual([trial.status, trial.metrics], ['finished', { accuracy: 0.75 }]);
        assert.equal(await other.find(job(dir, 'never-submitted', ['true'])), undefined);
      }),

      t.test(
        'metallmix run --executor slurm: unreachable, then resumed; a cancelled job is a stopped trial',
        async (tt) => {
          const data = path.join(dir, 'data');
          const runEnv: Record<string, string | undefined> = {
            ...env,
            METALLMIX_DATA: data,
            METALLMIX_CACHE: path.join(dir, 'cache'),
          };
          const cli = (e: typeof runEnv, ...args: string[]) => runCliWith({ env: e }, ...args);
          const folder = path.join(dir, 'digits 60');
          const made = spawnSync(
            PYTHON,
            [path.join(EXAMPLES, 'digits', 'make_folder.py'), folder, '--per-class', '60'],
            { encoding: 'utf8' },
          );
          assert.equal(made.status, 0, made.stderr);
          assert.equal(
            (
              await cli(
                runEnv,
                'import',
                path.join(EXAMPLES, 'digits', 'runs.csv'),
                '--mapping',
                path.join(EXAMPLES, 'digits', 'mapping.json'),
                '--quiet',
              )
            ).code,
            0,
          );
          // A controller that does not answer (the cluster's config with a port nothing listens on).
          const dead = path.join(dir, 'dead.conf');
          writeFileSync(
            dead,
            readFileSync(conf, 'utf8').replace(/^SlurmctldPort=.*$/m, 'SlurmctldPort=9'),
          );
          const runDir = path.join(dir, 'run');
          const command = `${PYTHON} ${path.join(EXAMPLES, 'train_digits.py')} --data {dataset_dir} --model {model} {args}`;
          const t1 = Date.now();
          const down = await cli(
            { ...runEnv, SLURM_CONF: dead },
            'run',
            '--dataset',
            folder,
            '--no-builtin',
            '--executor',
            'slurm',
            '--partition',
            'short',
            '--trials',
            '2',
            '--run-dir',
            runDir,
            '--command',
            command,
            '--quiet',
          );
          tt.diagnostic(`unreachable controller: exit ${down.code} after ${Date.now() - t1} ms`);
          assert.equal(down.code, 4, down.err);
          assert.match(
            down.err,
            /cannot submit the job with sbatch: .*Unable to contact slurm controller/,
          );
          const state = () => JSON.parse(readFileSync(path.join(runDir, 'study.json'), 'utf8'));
          assert.deepEqual(
            state().trials.map((x: { phase: string }) => x.phase),
            ['planned'],
          );
          const records = async () => {
            const kb = await openKnowledgeBase(path.join(data, 'kb.sqlite'), { mode: 'read' });
            try {
              return (await kb.records()).filter((r) => r.provenance.trial?.executor === 'slurm');
            } finally {
              await kb.close();
            }
          };
          assert.equal((await records()).length, 0);

          // Resumed against the live controller; trial 1's job is cancelled by hand as soon as it exists.
          const resumed = cli(runEnv, 'run', '--resume', runDir, '--json');
          let cancelled: string | undefined;
          while (!cancelled) {
            const id = state().trials[0]?.handle?.id;
            if (id) {
              execFileSync('scancel', [id], { env });
              cancelled = id;
            } else await sleep(50);
          }
          const r = await resumed;
          assert.equal(r.code, 0, r.err);
          const report = JSON.parse(r.out);
          assert.deepEqual(
            report.trials.map((x: { status: string }) => x.status),
            ['stopped', 'finished'],
          );
          assert.match(report.trials[0].reason, /^cancelled \(Slurm job \d+ CANCELLED/);
          assert.equal(report.trials[0].jobId, cancelled);
          const recs = await records();
          assert.equal(recs.length, 2);
          const finished = recs.find((x) => x.status === 'finished')!;
          assert.match(finished.provenance.trial!.jobId!, /^\d+$/);
          assert.equal(finished.provenance.trial!.host, os.hostname().split('.')[0]);
          assert.ok(finished.metrics.accuracy! > 0.5);
          // The job ran with the partition asked for.
          const line = execFileSync(
            'scontrol',
            ['show', 'job', '-o', finished.provenance.trial!.jobId!],
            { env, encoding: 'utf8' },
          );
          assert.match(line, /Partition=short /);
          assert.match(line, /TimeLimit=00:05:00/);
        },
      ),
    ]);
    t.diagnostic(`all Slurm cases ${Date.now() - t0} ms`);
  },
);
