// `metallmix run` settings before anything runs: a run config file (command, job variables,
// trials) under the flags, --dry-run showing the first trial's command from a real
// recommendation, placeholders without a value for this dataset, and a resume of no run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCliWith } from '../support/cli.ts';
import { tempDir } from './helpers.ts';

const DIGITS = fileURLToPath(new URL('../../examples/digits/', import.meta.url));

test('a run config, --dry-run, unavailable placeholders, nothing to resume', async (t) => {
  const dir = tempDir(t);
  const env: Record<string, string | undefined> = {
    ...process.env,
    METALLMIX_DATA: path.join(dir, 'data'),
    METALLMIX_CACHE: path.join(dir, 'cache'),
  };
  delete env.METALLMIX_KB;
  const cli = (...args: string[]) => runCliWith({ env }, ...args);
  assert.equal(
    (
      await cli(
        'import',
        path.join(DIGITS, 'runs.csv'),
        '--mapping',
        path.join(DIGITS, 'mapping.json'),
        '--quiet',
      )
    ).code,
    0,
  );
  const profile = path.join(dir, 'profile.json');
  writeFileSync(
    profile,
    JSON.stringify({
      name: 'my digits',
      task: 'multiclass',
      modality: 'other',
      numInstances: 1000,
      numClasses: 10,
      channels: 1,
    }),
  );
  const runDir = path.join(dir, 'run');
  // A profile has no folder: {dataset_dir} has no value.
  const noDir = await cli(
    'run',
    '--profile',
    profile,
    '--no-builtin',
    '--run-dir',
    runDir,
    '--command',
    'train --data {dataset_dir} --model {model} {args}',
  );
  assert.equal(noDir.code, 2);
  assert.match(
    noDir.err,
    /\{dataset_dir\} has no value in this run: the run was given a manifest or a profile/,
  );

  const config = path.join(dir, 'run.yaml');
  writeFileSync(
    config,
    [
      'command: \'train --name {dataset} --model {model} {args} --out "$OUT"\'',
      'trials: 7',
      'env:',
      '  OUT: /scratch/{run_name}/{trial}',
      '  CUDA_VISIBLE_DEVICES: 0',
      '',
    ].join('\n'),
  );
  const dry = await cli(
    'run',
    '--profile',
    profile,
    '--no-builtin',
    '--run-dir',
    runDir,
    '--config',
    config,
    '--dry-run',
    '--json',
  );
  assert.equal(dry.code, 0, dry.err);
  const report = JSON.parse(dry.out);
  assert.equal(report.dataset, 'my digits');
  const { model, config: c, command } = report.dryRun;
  // A shell template ("$OUT"): the values quoted for sh, the dataset name with its space.
  const expected = `train --name 'my digits' --model '${model}' ${Object.entries(c)
    .flatMap(([k, v]) => [`'--${k}'`, `'${v}'`])
    .join(' ')} --out "$OUT"`;
  assert.equal(command, expected);
  assert.equal(existsSync(runDir), false, 'a dry run creates nothing');

  const badConfig = path.join(dir, 'bad.yaml');
  writeFileSync(badConfig, 'comand: train\n');
  const bad = await cli('run', '--profile', profile, '--config', badConfig, '--dry-run');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /bad\.yaml.*invalid run config: .*comand/);

  const resume = await cli('run', '--resume', runDir);
  assert.equal(resume.code, 2);
  assert.match(resume.err, /no run to resume here: .*study\.json does not exist/);
});
