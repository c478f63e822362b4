import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../support/cli.ts';
import { SMALL_CSV, smallSource, tempDir, write } from './helpers.ts';

function withEnv(
  t: { after(fn: () => void): void },
  vars: Record<string, string | undefined>,
): void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars))
    v === undefined ? delete process.env[k] : (process.env[k] = v);
  t.after(() => {
    for (const [k, v] of Object.entries(saved))
      v === undefined ? delete process.env[k] : (process.env[k] = v);
  });
}

test('metallmix import, kb stats and kb records work in-process with --json', async (t) => {
  const dir = tempDir(t);
  const src = smallSource(dir);
  const kb = path.join(dir, 'kb.sqlite');
  const imported = await runCli('import', src.csv, '--mapping', src.mapping, '--kb', kb, '--json');
  assert.equal(imported.code, 0, imported.err);
  const report = JSON.parse(imported.out);
  assert.equal(report.added, 3);
  assert.equal(report.knowledgeBase, kb);

  const again = await runCli('import', src.csv, '--mapping', src.mapping, '--kb', kb);
  assert.equal(again.code, 0);
  assert.match(again.out, /runs\.csv\s+csv\s+3\s+0\s+3\s+0\s+0/);

  const stats = await runCli('kb', 'stats', '--kb', kb, '--json');
  assert.equal(stats.code, 0);
  const s = JSON.parse(stats.out);
  assert.deepEqual([s.path, s.records, s.datasets, s.models], [kb, 3, 2, 2]);
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
  const missingKb = await runCli('kb', 'stats', '--kb', path.join(dir, 'nope.sqlite'));
  assert.equal(missingKb.code, 2);
  assert.match(missingKb.err, /nope\.sqlite: no knowledge base/);
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
});

test('without --kb: import writes to the default path and says so; reads use the built-in', async (t) => {
  const dir = tempDir(t);
  withEnv(t, {
    METALLMIX_KB: undefined,
    XDG_DATA_HOME: path.join(dir, 'data'),
    XDG_CACHE_HOME: path.join(dir, 'cache'),
  });
  const src = smallSource(dir);
  const imported = await runCli('import', src.csv, '--mapping', src.mapping, '--quiet');
  assert.equal(imported.code, 0, imported.err);
  const defaultPath = path.join(dir, 'data', 'metallmix', 'kb.sqlite');
  assert.ok(existsSync(defaultPath));
  assert.ok(imported.err.includes(`importing into ${defaultPath}`));
  const builtin = await runCli('kb', 'stats', '--json');
  const stats = JSON.parse(builtin.out);
  assert.deepEqual([stats.path, stats.records], ['builtin:medmnist', 320]);
  withEnv(t, { METALLMIX_KB: defaultPath });
  const viaEnv = JSON.parse((await runCli('kb', 'stats', '--json')).out);
  assert.deepEqual([viaEnv.path, viaEnv.records], [defaultPath, 3]);
});

test('every command has --help with an example', async () => {
  for (const args of [['import'], ['kb'], ['kb', 'stats'], ['kb', 'records']]) {
    const help = await runCli(...args, '--help');
    assert.equal(help.code, 0);
    if (args.length === 1 && args[0] === 'kb') assert.match(help.out, /stats/);
    else assert.match(help.out, /Examples:\n {2}\$ metallmix /);
  }
});
