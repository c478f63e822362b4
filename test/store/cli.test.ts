import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runCli, runCliWith } from '../support/cli.ts';
import { SMALL_CSV, smallSource, tempDir, write } from './helpers.ts';

test('metallmix import, kb stats and kb records work in-process with --json', async (t) => {
  const dir = tempDir(t);
  const src = smallSource(dir);
  const kb = path.join(dir, 'kb.sqlite');
  const imported = await runCli('import', src.csv, '--mapping', src.mapping, '--kb', kb, '--json');
  assert.equal(imported.code, 0, imported.err);
  const report = JSON.parse(imported.out);
  assert.equal(report.added, 3);
  assert.equal(report.knowledgeBase, kb);
  assert.equal(report.defaultedKnowledgeBase, false);

  const again = await runCli('import', src.csv, '--mapping', src.mapping, '--kb', kb);
  assert.equal(again.code, 0);
  assert.match(again.out, /runs\.csv\s+csv\s+3\s+0\s+3\s+0\s+0/);

  const stats = await runCli('kb', 'stats', '--kb', kb, '--json');
  assert.equal(stats.code, 0);
  const s = JSON.parse(stats.out);
  assert.deepEqual([s.label, s.backend, s.records, s.datasets, s.models], [kb, 'sqlite', 3, 2, 2]);
  assert.equal(s.version, report.version);

  const records = await runCli('kb', 'records', '--kb', kb, '--dataset', 'derma', '--json');
  assert.deepEqual(
    JSON.parse(records.out).map((r: { provenance: { runId: string } }) => r.provenance.runId),
    ['r1', 'r2'],
  );
  const text = await runCli('kb', 'records', '--kb', kb, '--model', 'vit', '--status', 'finished');
  assert.match(text.out, /blood\s+vit\s+finished\s+0\.9000/);
  const badStatus = await runCli('kb', 'records', '--kb', kb, '--status', 'done');
  assert.equal(badStatus.code, 2);
});

test('invalid rows: exit code 2 with file:line column reason; --skip-invalid lists them', async (t) => {
  const dir = tempDir(t);
  const src = smallSource(dir);
  const kb = path.join(dir, 'kb.sqlite');
  const bad = write(dir, 'bad.csv', `${SMALL_CSV}r4,blood,vit,abc,full,0,90,10,2\n`);
  const failed = await runCli('import', bad, '--mapping', src.mapping, '--kb', kb);
  assert.equal(failed.code, 2);
  const message = `metallmix: ${bad}:5 column "lr": expected a number`;
  assert.ok(
    failed.err.split('\n').some((l) => l.startsWith(message)),
    failed.err,
  );
  assert.doesNotMatch(failed.err, /at .*\.ts/, 'no stack trace');
  const skipped = await runCli(
    'import',
    bad,
    '--mapping',
    src.mapping,
    '--kb',
    kb,
    '--skip-invalid',
  );
  assert.equal(skipped.code, 0);
  assert.match(
    skipped.out,
    /skipped 1 invalid row\(s\):\n {2}.*bad\.csv:5 column "lr": expected a number/,
  );
  const missing = path.join(dir, 'nope.sqlite');
  const missingKb = await runCli('kb', 'stats', '--kb', missing);
  assert.equal(missingKb.code, 2);
  assert.match(missingKb.err, /nope\.sqlite: no knowledge base/);
  assert.ok(!existsSync(missing), 'reading a missing knowledge base does not create it');
  const badMapping = await runCli(
    'import',
    src.csv,
    '--mapping',
    write(dir, 'm.json', { dataset: 'ds' }),
    '--kb',
    kb,
  );
  assert.equal(badMapping.code, 2);
  assert.match(badMapping.err, /m\.json.*invalid mapping file/);
  const url = await runCli('kb', 'stats', '--kb', 'mysql://u:pw@host/db');
  assert.equal(url.code, 2);
  assert.match(url.err, /no knowledge-base backend for "mysql:\/\/" locators/);
  const builtin = await runCli('import', src.csv, '--mapping', src.mapping, '--kb', 'builtin');
  assert.equal(builtin.code, 2);
  assert.match(builtin.err, /the built-in knowledge base is read-only/);
});

test('without --kb: import writes to the default path and says so; reads layer it over the built-in', async (t) => {
  const dir = tempDir(t);
  const env = {
    ...process.env,
    METALLMIX_KB: undefined,
    METALLMIX_DATA: undefined,
    METALLMIX_CACHE: undefined,
    XDG_DATA_HOME: path.join(dir, 'data'),
    XDG_CACHE_HOME: path.join(dir, 'cache'),
  };
  const src = smallSource(dir);
  const imported = await runCliWith(
    { env },
    'import',
    src.csv,
    '--mapping',
    src.mapping,
    '--quiet',
  );
  assert.equal(imported.code, 0, imported.err);
  const defaultPath = path.join(dir, 'data', 'metallmix', 'kb.sqlite');
  assert.ok(existsSync(defaultPath));
  assert.ok(
    imported.err.includes(`no --kb or METALLMIX_KB given; imported into ${defaultPath}`),
    imported.err,
  );
  const layered = await runCliWith({ env }, 'kb', 'stats', '--json');
  const stats = JSON.parse(layered.out);
  assert.deepEqual(
    [stats.label, stats.backend, stats.records],
    [`${defaultPath} + builtin:medmnist`, 'layered', 323],
  );
  const own3 = JSON.parse((await runCliWith({ env }, 'kb', 'stats', '--no-builtin', '--json')).out);
  assert.deepEqual([own3.label, own3.records], [defaultPath, 3]);
  assert.ok(
    existsSync(path.join(dir, 'cache', 'metallmix')),
    'the image is cached in the env cache',
  );
  const viaEnv = JSON.parse(
    (await runCliWith({ env: { ...env, METALLMIX_KB: defaultPath } }, 'kb', 'stats', '--json')).out,
  );
  assert.deepEqual([viaEnv.label, viaEnv.records], [defaultPath, 3]);

  // METALLMIX_DATA takes precedence over XDG_DATA_HOME for the user's own knowledge base.
  const own = path.join(dir, 'own');
  const intoOwn = await runCliWith(
    { env: { ...env, METALLMIX_DATA: own } },
    'import',
    src.csv,
    '--mapping',
    src.mapping,
    '--json',
  );
  assert.equal(intoOwn.code, 0, intoOwn.err);
  const ownReport = JSON.parse(intoOwn.out);
  assert.deepEqual(
    [ownReport.knowledgeBase, ownReport.defaultedKnowledgeBase, ownReport.added],
    [path.join(own, 'kb.sqlite'), true, 3],
  );
});

test('every command has --help with an example', async () => {
  for (const args of [['import'], ['kb'], ['kb', 'stats'], ['kb', 'records']]) {
    const help = await runCli(...args, '--help');
    assert.equal(help.code, 0);
    if (args.length === 1 && args[0] === 'kb') assert.match(help.out, /stats/);
    else assert.match(help.out, /Examples:\n {2}\$ metallmix /);
  }
});
