// `metallmix record`: runs made by hand, validated like an import (file, line, column, reason;
// nothing written on error), typed by the knowledge base's declarations, idempotent, with the
// dataset's profile stored when its folder is given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openKnowledgeBase } from '../../src/store/index.ts';
import { runCliWith } from '../support/cli.ts';
import { png } from '../profile/images.ts';
import { tempDir } from './helpers.ts';
import { mkdirSync, writeFileSync } from 'node:fs';

const DIGITS = fileURLToPath(new URL('../../examples/digits/', import.meta.url));

test('record one run by flags and a file of runs, validated like an import', async (t) => {
  const dir = tempDir(t);
  const env: Record<string, string | undefined> = {
    ...process.env,
    METALLMIX_DATA: path.join(dir, 'data'),
    METALLMIX_CACHE: path.join(dir, 'cache'),
  };
  delete env.METALLMIX_KB;
  const cli = (...args: string[]) => runCliWith({ env }, ...args);
  const kbFile = path.join(dir, 'data', 'kb.sqlite');
  const version = async () => {
    const kb = await openKnowledgeBase(kbFile, { mode: 'read' });
    try {
      return await kb.version();
    } finally {
      await kb.close();
    }
  };
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
  const before = await version();

  // Invalid values fail with where and why, and write nothing.
  const bad: [string[], RegExp][] = [
    [
      ['--metric', 'accuracy=95.1'],
      /command line:1 column "metrics\.accuracy": metric accuracy = 95\.1 is outside \[0, 1\]; give a fraction/,
    ],
    [
      ['--param', 'batch_size=100', '--metric', 'accuracy=0.9'],
      /column "config\.batch_size": batch_size: "100" is not one of \[16,32,64,128\]/,
    ],
    [
      ['--param', 'lr=fast', '--metric', 'accuracy=0.9'],
      /column "config\.lr": expected a number, got "fast"/,
    ],
    [['--param', 'lr=-1', '--metric', 'accuracy=0.9'], /lr: -1 on a log scale must be > 0/],
    [
      ['--metric', 'accuracy=0.9', '--training-time', 'soon'],
      /column "training_time_sec": expected a number/,
    ],
    [[], /give at least one metric/],
    [['--metric', 'accuracy'], /--metric "accuracy": expected NAME=VALUE/],
  ];
  for (const [args, pattern] of bad) {
    const r = await cli('record', '--dataset-name', 'digits-0to4', '--model', 'mlp-wide', ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, pattern);
    assert.match(r.err, /nothing was recorded|NAME=VALUE|at least one metric/);
  }
  assert.equal(await version(), before, 'nothing was written');

  // A good run: typed by the declarations (batch_size 64 is the number 64, as imported runs say).
  const args = [
    'record',
    '--dataset-name',
    'digits-0to4',
    '--model',
    'mlp-wide',
    '--param',
    'optimizer=adam',
    '--param',
    'lr=0.003',
    '--param',
    'epochs=40',
    '--param',
    'batch_size=64',
    '--param',
    'weight_decay=0.0001',
    '--metric',
    'accuracy=0.97',
    '--training-time',
    '2.5',
    '--json',
  ];
  const ok = await cli(...args);
  assert.equal(ok.code, 0, ok.err);
  const result = JSON.parse(ok.out);
  assert.deepEqual([result.added, result.duplicates, result.datasetsWithoutProfile], [1, 0, []]);
  const again = JSON.parse((await cli(...args)).out);
  assert.deepEqual([again.added, again.duplicates], [0, 1], 'recording it again adds nothing');
  const kb = await openKnowledgeBase(kbFile, { mode: 'read' });
  const [stored] = (await kb.records()).filter((r) => r.id === result.records[0]);
  await kb.close();
  assert.deepEqual(stored!.config, {
    optimizer: 'adam',
    lr: 0.003,
    epochs: 40,
    batch_size: 64,
    weight_decay: 0.0001,
  });
  assert.deepEqual(stored!.metrics, { accuracy: 0.97 });
  assert.equal(stored!.cost.trainingTimeSec, 2.5);
  assert.equal(stored!.status, 'finished');
  assert.deepEqual(stored!.provenance, {
    source: 'metallmix record',
    line: 1,
    trial: { executor: 'record' },
  });

  // A file of runs: one bad row fails the whole file, naming its line; then the fixed file goes in
  // with a new dataset whose folder is profiled and stored.
  const images = path.join(dir, 'my scans');
  for (const [label, n] of [
    ['a', 3],
    ['b', 2],
  ] as const) {
    mkdirSync(path.join(images, label), { recursive: true });
    for (let i = 0; i < n; i++) writeFileSync(path.join(images, label, `${i}.png`), png(32, 24));
  }
  const afterFlags = await version();
  const lines = [
    {
      dataset: 'my scans',
      model: 'resnet50',
      config: { lr: 0.001, warmup: 'cosine' },
      metrics: { accuracy: 0.8 },
      training_time_sec: 600,
    },
    {
      dataset: 'my scans',
      model: 'resnet50',
      config: { lr: 0.01, warmup: 'none' },
      metrics: { accuracy: 0.7 },
      status: 'finished',
    },
    {
      dataset: 'my scans',
      model: 'resnet50',
      config: { lr: 0.1 },
      metrics: { accuracy: 0.2 },
      status: 'crashed',
    },
  ];
  const file = path.join(dir, 'runs.jsonl');
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n'));
  const r = await cli('record', file);
  assert.equal(r.code, 2);
  assert.match(
    r.err,
    new RegExp(
      `${file}:3 column "status": status "crashed" is not a status: give finished, failed or stopped; nothing was recorded`,
    ),
  );
  assert.equal(await version(), afterFlags, 'nothing of the file was written');
  lines[2]!.status = 'failed';
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n'));
  const filed = await cli('record', file, '--dataset', images, '--json');
  assert.equal(filed.code, 0, filed.err);
  const out = JSON.parse(filed.out);
  assert.deepEqual(
    [out.added, out.profiles.added, out.datasetsWithoutProfile, out.modelsWithoutCard],
    [3, 1, [], ['resnet50']],
  );
  const stats = JSON.parse((await cli('kb', 'stats', '--no-builtin', '--json')).out);
  assert.equal(stats.records, 200 + 1 + 3);
  assert.equal(stats.byStatus.failed, 1);
});
