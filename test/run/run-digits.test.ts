// `metallmix run` end to end on the digits example, for real: the starter knowledge base goes
// into the user's own (no --kb), real sklearn trials train on a folder whose name has spaces and
// quotes, the run is killed with SIGKILL while its second trial trains, and `--resume` finishes
// it: every trial is recorded once, none is run twice, the killed run's trial is re-attached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { openKnowledgeBase } from '../../src/store/index.ts';
import { DIGITS_COMMAND, digitsUser, skipDigits } from './digits.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const skip = skipDigits;
const COMMAND = DIGITS_COMMAND;

test(
  'run on the digits: killed with SIGKILL during trial 2, resumed; no trial repeated, none lost',
  { skip, timeout: 600_000 },
  async (t) => {
    const t0 = Date.now();
    const { dir, env, cli, folder, runDir } = await digitsUser(t, `my digits "80 per class" it's`);
    const userKb = path.join(dir, 'data', 'kb.sqlite');

    // Read together with the built-in knowledge base, the search space has MedMNIST's
    // hyperparameters, which this command does not pass: refused before anything runs.
    const refused = await cli(
      'run',
      '--dataset',
      folder,
      '--trials',
      '3',
      '--run-dir',
      runDir,
      '--command',
      COMMAND.replace(' {args}', ' --lr {lr}'),
    );
    assert.equal(refused.code, 2, refused.err);
    assert.match(refused.err, /does not pass \{optimizer\}.*\{strategy\}.*--no-builtin/);
    assert.equal(existsSync(path.join(runDir, 'study.json')), false);

    // The run in a process of its own, killed while trial 2 trains.
    const child = spawn(
      process.execPath,
      [
        path.join(ROOT, 'bin', 'metallmix.js'),
        'run',
        '--dataset',
        folder,
        '--no-builtin',
        '--trials',
        '3',
        '--run-dir',
        runDir,
        '--command',
        COMMAND,
      ],
      { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    const stateFile = path.join(runDir, 'study.json');
    const state = () => JSON.parse(readFileSync(stateFile, 'utf8'));
    for (;;) {
      const s = existsSync(stateFile) ? state() : undefined;
      if (s?.trials[1]?.phase === 'started') break;
      assert.ok(child.exitCode === null, `the run ended before trial 2 started: ${stderr}`);
      await sleep(50);
    }
    child.kill('SIGKILL');
    await exited;
    const killedAt = state();
    t.diagnostic(`killed after ${Date.now() - t0} ms`);
    assert.deepEqual(
      killedAt.trials.map((x: { phase: string }) => x.phase),
      ['recorded', 'started'],
    );
    const trial2Pid = killedAt.trials[1].handle.id;
    const trialRecords = async () => {
      const kb = await openKnowledgeBase(userKb, { mode: 'read' });
      try {
        return (await kb.records()).filter((r) => r.provenance.source.startsWith('metallmix run '));
      } finally {
        await kb.close();
      }
    };
    // Trial 1 was recorded the moment it ended.
    assert.deepEqual(
      (await trialRecords()).map((r) => r.provenance.trial?.trial),
      [1],
    );

    const resumed = await cli('run', '--resume', runDir, '--parallel', '2', '--json');
    assert.equal(resumed.code, 0, resumed.err);
    t.diagnostic(`resumed run done after ${Date.now() - t0} ms`);
    const report = JSON.parse(resumed.out);
    assert.equal(report.resumed, true);
    assert.deepEqual(
      report.trials.map((x: { trial: number; status: string }) => [x.trial, x.status]),
      [
        [1, 'finished'],
        [2, 'finished'],
        [3, 'finished'],
      ],
    );
    assert.equal(report.trials[1].jobId, trial2Pid, 'trial 2 was re-attached, not started again');
    const configs = report.trials.map((x: { model: string; config: object }) =>
      JSON.stringify([x.model, x.config]),
    );
    assert.equal(new Set(configs).size, 3, 'three different configurations');
    // The training of trial 2 ran once: one result line in its log.
    const log2 = readFileSync(path.join(runDir, 'trial-002', 'stdout.log'), 'utf8');
    assert.equal(log2.match(/^METALLMIX_RESULT /gm)?.length, 1);

    const records = await trialRecords();
    assert.deepEqual(
      records.map((r) => r.provenance.trial?.trial).sort(),
      [1, 2, 3],
      'each trial recorded exactly once',
    );
    const name = path.basename(folder);
    for (const r of records) {
      const p = r.provenance.trial!;
      assert.equal(r.dataset, name);
      assert.equal(r.status, 'finished');
      assert.ok(
        r.metrics.accuracy! > 0.5 && r.metrics.accuracy! <= 1,
        `accuracy ${r.metrics.accuracy}`,
      );
      assert.ok(r.cost.trainingTimeSec! > 0);
      assert.equal(p.executor, 'local');
      assert.equal(p.exitCode, 0);
      assert.match(p.recommendationId!, /^rec-[0-9a-f]{12}$/);
      assert.ok(p.rank! >= 1);
      assert.ok(p.host && p.jobId && p.startedAt && p.endedAt);
      assert.ok(Date.parse(p.endedAt) >= Date.parse(p.startedAt));
      assert.ok(p.command!.includes(`--data '${folder.replace(/'/g, `'\\''`)}'`), p.command);
      assert.deepEqual(report.trials[p.trial! - 1].config, r.config);
    }
    // The dataset's profile is stored with its records: no profiles file to write.
    const kb = await openKnowledgeBase(userKb, { mode: 'read' });
    const snapshot = await kb.snapshot();
    await kb.close();
    const profile = snapshot.profiles.find((p) => p.name === name);
    assert.equal(profile?.numInstances, 800);
    assert.equal(profile?.numClasses, 10);
    // The suggestion after the budget: a configuration not yet tried.
    assert.ok(report.next, 'a next suggestion');
    assert.ok(!configs.includes(JSON.stringify([report.next.model, report.next.config])));
    assert.match(report.next.recommendationId, /^rec-/);

    // A run resumes as it was started: repeating a setting is fine, changing one is not.
    const changed = await cli('run', '--resume', runDir, '--command', 'python other.py {args}');
    assert.equal(changed.code, 2);
    assert.match(changed.err, /--resume continues a run as it was started; command cannot change/);
    // Resuming a finished run runs nothing and writes nothing.
    const again = await cli(
      'run',
      '--resume',
      runDir,
      '--no-builtin',
      '--command',
      COMMAND,
      '--json',
    );
    assert.equal(again.code, 0, again.err);
    assert.equal(JSON.parse(again.out).trials.length, 3);
    assert.equal((await trialRecords()).length, 3);
    t.diagnostic(`whole test ${Date.now() - t0} ms`);
  },
);
