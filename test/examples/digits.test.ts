// The digits example end to end on a small derived set: make_folder.py writes PNGs that
// `metallmix profile` reads, train_digits.py trains real models on them (a good and a bad learning
// rate must differ), reports through stdout and $METALLMIX_RESULT_FILE, and rejects bad input; the
// committed starter knowledge base imports with its mapping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importFiles, loadMapping, openKnowledgeBase } from '../../src/store/index.ts';
import { runCli } from '../support/cli.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const PYTHON = '/usr/bin/python3';
const hasSklearn = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import sklearn']).status === 0;
const skip = hasSklearn
  ? false
  : 'needs /usr/bin/python3 with scikit-learn (Debian python3-sklearn; scripts/install-system-deps.sh)';

const RESULT = /^METALLMIX_RESULT (\{.*\})$/;

function train(data: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const run = spawnSync(PYTHON, [path.join(EXAMPLES, 'train_digits.py'), '--data', data, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

test('digits: folder, profile, two real trials, result file, bad input', { skip }, async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metallmix-digits-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const data = path.join(dir, 'digits-012');
  const made = spawnSync(
    PYTHON,
    [
      path.join(EXAMPLES, 'digits', 'make_folder.py'),
      data,
      '--classes',
      '0,1,2',
      '--per-class',
      '40',
      '--seed',
      '1',
    ],
    { encoding: 'utf8' },
  );
  assert.equal(made.status, 0, made.stderr);

  const profiled = await runCli('profile', data, '--json', '--quiet');
  assert.equal(profiled.code, 0, profiled.err);
  const { profile, counts } = JSON.parse(profiled.out);
  assert.deepEqual(counts, { files: 120, images: 120, skipped: 0 });
  assert.deepEqual(profile.classCounts, { '0': 40, '1': 40, '2': 40 });
  assert.equal(profile.resolution.medianWidth, 8);
  assert.equal(profile.channels, 1);
  assert.deepEqual(profile.fileFormats, { png: 120 });

  const resultFile = path.join(dir, 'result.json');
  const good = train(
    data,
    ['--model', 'mlp-small', '--lr', '0.01', '--epochs', '40', '--seed', '3'],
    { METALLMIX_RESULT_FILE: resultFile },
  );
  assert.equal(good.code, 0, good.err);
  const lines = good.out.trim().split('\n');
  assert.equal(lines.length, 1, `stdout holds only the result line: ${good.out}`);
  const match = RESULT.exec(lines[0]!);
  assert.ok(match, lines[0]);
  const result = JSON.parse(match[1]!);
  assert.deepEqual(Object.keys(result), ['accuracy', 'training_time_sec']);
  assert.deepEqual(JSON.parse(readFileSync(resultFile, 'utf8')), result);
  // 30 test images of three well-separated digits.
  assert.ok(result.accuracy >= 0.9, `accuracy ${result.accuracy}`);
  assert.ok(result.training_time_sec > 0);

  // A learning rate 1000x smaller for 3 epochs leaves the network near chance.
  const bad = train(data, [
    '--model',
    'mlp-small',
    '--lr',
    '0.00001',
    '--epochs',
    '3',
    '--seed',
    '3',
  ]);
  assert.equal(bad.code, 0, bad.err);
  const badAccuracy = JSON.parse(RESULT.exec(bad.out.trim())![1]!).accuracy;
  assert.ok(badAccuracy < result.accuracy - 0.2, `bad ${badAccuracy} vs good ${result.accuracy}`);

  const again = train(data, [
    '--model',
    'mlp-small',
    '--lr',
    '0.01',
    '--epochs',
    '40',
    '--seed',
    '3',
  ]);
  assert.equal(JSON.parse(RESULT.exec(again.out.trim())![1]!).accuracy, result.accuracy);

  for (const [args, message] of [
    [['--model', 'resnet'], /argument --model: invalid choice: 'resnet'/],
    [['--model', 'logreg', '--lr', '0'], /argument --lr: must be > 0, got 0/],
    [['--model', 'logreg', '--hidden-size', '8'], /logreg has no hidden layer/],
  ] as const) {
    const r = train(data, [...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: exit code`);
    assert.equal(r.out, '');
    assert.match(r.err, message);
  }
  const missing = train(path.join(dir, 'nope'), ['--model', 'logreg']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /nope: not a folder/);
});

test('digits: the starter knowledge base imports with its mapping, profiles and model cards', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metallmix-digits-kb-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const kb = await openKnowledgeBase(path.join(dir, 'kb.sqlite'), { mode: 'write' });
  t.after(() => kb.close());
  const runs = path.join(EXAMPLES, 'digits', 'runs.csv');
  const rows = readFileSync(runs, 'utf8').trim().split('\n').length - 1;
  const report = await importFiles(
    kb,
    [runs],
    loadMapping(path.join(EXAMPLES, 'digits', 'mapping.json')),
  );
  assert.equal(report.skipped.length, 0);
  assert.equal(report.added, rows);
  assert.deepEqual(report.datasetsWithoutProfile, []);
  assert.deepEqual(report.modelsWithoutCard, []);
  assert.equal(report.profiles.added, 10);
  assert.equal(report.models.added, 4);
});
