// The local executor and what a trial's end makes of its record, with real processes: a trial
// that crashes, one that never prints a result, one over its time limit (and one that ignores
// SIGTERM), results from the file and from stdout, bad results, and a trial followed by a second
// executor instance (a resumed run) through its pid and exit-status files; hostile values through
// a shell command and a job variable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import {
  LocalExecutor,
  parseTemplate,
  renderTemplate,
  shQuote,
  slurmEnd,
  trialOutcome,
  WaitAborted,
  type TrialJob,
} from '../../src/run/index.ts';
import { HOSTILE, PYTHON, echoScript, tempDir } from './helpers.ts';

function job(dir: string, name: string, script: string, timeLimitSec?: number): TrialJob {
  const d = path.join(dir, name);
  return {
    name,
    command: { kind: 'argv', argv: ['/bin/sh', '-c', script] },
    env: { METALLMIX_RESULT_FILE: path.join(d, 'result.json') },
    cwd: dir,
    stdoutFile: path.join(d, 'stdout.log'),
    stderrFile: path.join(d, 'stderr.log'),
    controlDir: path.join(d, '.control'),
    ...(timeLimitSec !== undefined ? { timeLimitSec } : {}),
  };
}

const files = (j: TrialJob) => ({
  resultFile: j.env.METALLMIX_RESULT_FILE!,
  stdoutFile: j.stdoutFile,
  stderrFile: j.stderrFile,
});

async function runOne(executor: LocalExecutor, j: TrialJob) {
  const handle = await executor.start(j);
  const outcome = await executor.wait(handle, j);
  return { handle, outcome, trial: trialOutcome(outcome, files(j), 'accuracy', j.timeLimitSec) };
}

/** No live (non-zombie) process is left in the group: an orphaned zombie waits for init. */
const groupGone = (pgid: string) =>
  !readdirSync('/proc').some((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return fields[2] === pgid && fields[0] !== 'Z';
    } catch {
      return false;
    }
  });

test('finished, crashed, silent and malformed trials', async (t) => {
  const dir = tempDir(t);
  const executor = new LocalExecutor({ env: { PATH: process.env.PATH } });
  const cases = await Promise.all([
    runOne(
      executor,
      job(
        dir,
        'ok',
        'echo training >&2; echo \'METALLMIX_RESULT {"accuracy": 0.91, "training_time_sec": 12.5, "epochs": 3}\'',
      ),
    ),
    runOne(executor, job(dir, 'crash', 'echo "Traceback: CUDA out of memory" >&2; exit 3')),
    runOne(executor, job(dir, 'silent', 'echo done')),
    runOne(executor, job(dir, 'percent', 'echo \'METALLMIX_RESULT {"accuracy": 91.2}\'')),
    runOne(executor, job(dir, 'wrong-metric', 'echo \'METALLMIX_RESULT {"acc": 0.9}\'')),
    runOne(
      executor,
      // The file wins over the line; NaN (Python's json.dumps) is an absent metric.
      job(
        dir,
        'file',
        'echo \'METALLMIX_RESULT {"accuracy": 0.1}\'; echo \'{"accuracy": 0.8, "loss": NaN}\' > "$METALLMIX_RESULT_FILE"',
      ),
    ),
    runOne(executor, job(dir, 'missing', 'exec /nonexistent/train')),
  ]);
  const [ok, crash, silent, percent, wrong, file, missing] = cases.map((c) => c.trial);
  assert.equal(ok!.status, 'finished');
  assert.deepEqual(ok!.metrics, { accuracy: 0.91 });
  assert.equal(ok!.trainingTimeSec, 12.5);
  assert.equal(ok!.epochs, 3);
  assert.equal(ok!.exitCode, 0);

  assert.equal(crash!.status, 'failed');
  assert.equal(crash!.exitCode, 3);
  assert.match(crash!.reason!, /exited with code 3/);
  assert.equal(crash!.stderrTail, 'Traceback: CUDA out of memory');

  assert.equal(silent!.status, 'failed');
  assert.match(silent!.reason!, /exited 0 but printed no "METALLMIX_RESULT \{\.\.\.\}" line/);

  assert.equal(percent!.status, 'failed');
  assert.match(percent!.reason!, /accuracy = 91.2 is outside \[0, 1\].*percentage/);
  assert.equal(wrong!.status, 'failed');
  assert.match(wrong!.reason!, /has no "accuracy", the metric of this run; it has acc/);

  assert.equal(file!.status, 'finished');
  assert.deepEqual(file!.metrics, { accuracy: 0.8 });

  assert.equal(missing!.status, 'failed');
  assert.equal(missing!.exitCode, 127);
  assert.match(missing!.stderrTail!, /nonexistent/);
  for (const c of cases) assert.ok(groupGone(c.handle.id));
});

test('a trial over its time limit is stopped, even one that ignores SIGTERM', async (t) => {
  const dir = tempDir(t);
  const executor = new LocalExecutor({ env: { PATH: process.env.PATH }, killGraceMs: 500 });
  const t0 = Date.now();
  const [polite, stubborn] = await Promise.all([
    runOne(executor, job(dir, 'sleep', 'sleep 30', 1)),
    runOne(executor, job(dir, 'stubborn', 'trap "" TERM; sleep 30 & wait; sleep 30', 1)),
  ]);
  const ms = Date.now() - t0;
  t.diagnostic(`time limit 1 s: both stopped after ${ms} ms`);
  assert.ok(ms < 10_000, `stopped after ${ms} ms`);
  for (const c of [polite, stubborn]) {
    assert.equal(c.outcome.kind, 'timeout');
    assert.equal(c.trial.status, 'stopped');
    assert.match(c.trial.reason!, /stopped at its time limit of 1 s/);
    assert.ok(groupGone(c.handle.id), 'the whole process group is gone');
  }
});

test('a second executor re-attaches to a trial it did not start, by handle or by its files', async (t) => {
  const dir = tempDir(t);
  const first = new LocalExecutor({ env: { PATH: process.env.PATH } });
  const second = new LocalExecutor({ env: { PATH: process.env.PATH }, pollMs: 50 });
  const j = job(dir, 'slow', 'sleep 1; echo \'METALLMIX_RESULT {"accuracy": 0.7}\'');
  const handle = await first.start(j);
  // As after a crash between start and saving the handle: found by its pid file.
  for (let i = 0; i < 50 && !existsSync(path.join(j.controlDir, 'pid')); i++)
    await new Promise((r) => setTimeout(r, 20));
  const found = await second.find(j);
  assert.equal(found?.id, handle.id);
  assert.equal(found?.startTicks, handle.startTicks);
  const outcome = await second.wait(found!, j);
  assert.deepEqual([outcome.kind, outcome.exitCode], ['exited', 0]);
  assert.equal(trialOutcome(outcome, files(j), 'accuracy', undefined).status, 'finished');
  await first.wait(handle, j);

  // Killed (with its wrapper) while nobody watched: no exit status, so it was stopped.
  const k = job(dir, 'killed', 'sleep 30');
  const h2 = await first.start(k);
  const watcher = new LocalExecutor({ env: {}, pollMs: 50 });
  const waiting = watcher.wait(h2, k);
  process.kill(-Number(h2.id), 'SIGKILL');
  const lost = await waiting;
  assert.equal(lost.kind, 'vanished');
  const rec = trialOutcome(lost, files(k), 'accuracy', undefined);
  assert.equal(rec.status, 'stopped');
  assert.match(rec.reason!, /without an exit status/);

  // A job that never started has no pid file: nothing to find, so starting it repeats nothing.
  assert.equal(await second.find(job(dir, 'never', 'true')), undefined);
});

test('shell commands and job variables reach a local trial unchanged', async (t) => {
  const dir = tempDir(t);
  const script = echoScript(dir);
  const executor = new LocalExecutor({ env: { PATH: process.env.PATH } });
  const template = parseTemplate(
    `cd {dataset_dir} && ${PYTHON} ${shQuote(script)} {model} "{model}" '{model}' | cat`,
  );
  await Promise.all(
    HOSTILE.map(async (value, i) => {
      const command = renderTemplate(template, {
        model: value,
        config: {},
        fixed: { dataset_dir: dir },
        order: [],
      });
      assert.equal(command.kind, 'shell');
      const j = { ...job(dir, `shell-${i}`, ''), command, env: { ECHO_VAR: value } };
      const outcome = await executor.wait(await executor.start(j), j);
      assert.deepEqual([outcome.kind, outcome.exitCode], ['exited', 0]);
      const out = JSON.parse(readFileSync(j.stdoutFile, 'utf8'));
      assert.deepEqual(out, { argv: [value, value, value], cwd: dir, env: value });
    }),
  );
  assert.deepEqual(
    readdirSync(dir, { recursive: true })
      .map(String)
      .filter((f) => path.basename(f).startsWith('PWNED')),
    [],
  );
});

test('Slurm end states map to record states by the state, never the exit code', () => {
  const cases: [string, string | undefined, string][] = [
    ['COMPLETED', '0:0', 'exited'],
    ['FAILED', '3:0', 'exited'],
    ['FAILED', '0:9', 'signalled'],
    ['CANCELLED', '0:15', 'cancelled'],
    ['CANCELLED', '143:0', 'cancelled'],
    ['TIMEOUT', '0:15', 'timeout'],
    ['OUT_OF_MEMORY', '0:125', 'out-of-memory'],
    ['NODE_FAIL', '0:0', 'node-failure'],
    ['PREEMPTED', '0:0', 'node-failure'],
    ['BOOT_FAIL', '0:0', 'node-failure'],
    ['DEADLINE', '0:0', 'timeout'],
  ];
  for (const [state, code, kind] of cases) assert.equal(slurmEnd(state, code)?.kind, kind, state);
  assert.deepEqual(slurmEnd('FAILED', '3:0'), { kind: 'exited', exitCode: 3 });
  for (const running of ['PENDING', 'RUNNING', 'COMPLETING', 'CONFIGURING', 'SUSPENDED'])
    assert.equal(slurmEnd(running, undefined), undefined);
  const files = {
    resultFile: '/nonexistent/r',
    stdoutFile: '/nonexistent/o',
    stderrFile: '/nonexistent/e',
  };
  const end = { endedAt: new Date().toISOString() };
  assert.equal(trialOutcome({ kind: 'timeout', ...end }, files, 'accuracy', 60).status, 'stopped');
  assert.equal(
    trialOutcome({ kind: 'out-of-memory', ...end }, files, 'accuracy', 60).status,
    'failed',
  );
  assert.equal(
    trialOutcome({ kind: 'node-failure', ...end }, files, 'accuracy', 60).status,
    'stopped',
  );
});

test('waits leave no listener on the run signal; an abort still ends a wait', async (t) => {
  const dir = tempDir(t);
  const executor = new LocalExecutor({ env: { PATH: process.env.PATH } });
  const run = new AbortController();
  // More trials than Node's listener warning threshold (10), one after another as `run` waits.
  for (let i = 0; i < 12; i++) {
    const j = job(dir, `quick-${i}`, 'exit 0');
    const outcome = await executor.wait(await executor.start(j), j, run.signal);
    assert.deepEqual([outcome.kind, outcome.exitCode], ['exited', 0]);
  }
  assert.equal(getEventListeners(run.signal, 'abort').length, 0);
  const j = job(dir, 'long', 'sleep 30');
  const handle = await executor.start(j);
  const waiting = executor.wait(handle, j, run.signal);
  run.abort();
  await assert.rejects(waiting, WaitAborted);
  assert.equal(getEventListeners(run.signal, 'abort').length, 0);
  await executor.cancel(handle);
});
