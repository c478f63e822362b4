// An Optuna storage on PostgreSQL: real Optuna 3.1 writes the same seeded studies
// (fixtures/make_optuna_storage.py) to a SQLite file and, through psycopg2, to a database of a
// real PostgreSQL server (test/support/postgres-server.ts); `metallmix import postgresql://...`
// reads every study of it in one import and gives the same records as the SQLite storage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { importFiles, loadMapping, recordId } from '../../src/store/index.ts';
import { readSources } from '../../src/store/sources.ts';
import { startPostgres } from '../support/postgres-server.ts';
import { runCliWith } from '../support/cli.ts';
import {
  tempDir,
  writableKb,
  write,
  OPTUNA_FIXTURE_MAPPING,
  OPTUNA_FIXTURE_SCRIPT,
} from './helpers.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = OPTUNA_FIXTURE_SCRIPT;

const MAPPING = OPTUNA_FIXTURE_MAPPING;

/** Runs the script; a reason to skip when Optuna or psycopg2 cannot run here. */
function writeStorage(target: string): unknown {
  try {
    return JSON.parse(
      execFileSync(PYTHON, [SCRIPT, target], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
  } catch (err) {
    return `cannot run Optuna with psycopg2 through ${PYTHON}: ${(err as { stderr?: string }).stderr?.trim().split('\n').pop() ?? (err as Error).message}`;
  }
}

test('an Optuna storage on PostgreSQL: every study in one import, the same records as from SQLite', async (t) => {
  const server = await startPostgres();
  if (typeof server === 'string') return t.skip(server);
  t.after(() => server.stop());
  const dir = tempDir(t);
  await server.createDatabase('optuna_db');
  const url = server.url({ database: 'optuna_db' });
  const studies = writeStorage(url.replace(/^postgresql:/, 'postgresql+psycopg2:'));
  if (typeof studies === 'string') return t.skip(studies);
  const sqliteFile = path.join(dir, 'optuna.db');
  assert.deepEqual(writeStorage(sqliteFile), studies, 'the seeded studies are the same trials');

  // The same tables, read through the one decoder: columns, curves and study attributes.
  const fromPg = await readSources(url, 'optuna');
  const fromFile = await readSources(sqliteFile, 'optuna');
  const masked = server.url({ database: 'optuna_db' }).replace(`:${server.password}@`, ':***@');
  assert.deepEqual(
    fromPg.map((tb) => [tb.file, tb.label, tb.rows.length]),
    fromFile.map((tb) => [
      `${masked}#${tb.rows[0].get('study')}`,
      `optuna:${masked}#${tb.rows[0].get('study')}`,
      tb.rows.length,
    ]),
  );
  for (const [i, table] of fromPg.entries())
    for (const [j, row] of table.rows.entries()) {
      const other = fromFile[i].rows[j];
      for (const column of ['run_id', 'state', 'value', 'params.model', 'params.lr', 'direction'])
        assert.equal(row.get(column), other.get(column), `${row.get('run_id')} ${column}`);
      assert.equal(row.get('study_user_attrs.dataset'), other.get('study_user_attrs.dataset'));
      assert.deepEqual(row.history?.('value'), other.history?.('value'));
      assert.equal(typeof row.get('duration_sec'), 'number', 'timestamps read as Optuna writes');
    }

  // One import of the whole storage; the records are those of the SQLite storage.
  const mapping = loadMapping(write(dir, 'm.json', MAPPING));
  const kb = await writableKb(t, path.join(dir, 'kb.sqlite'));
  const report = await importFiles(kb, [url], mapping);
  const trials = Object.values(studies as Record<string, unknown[]>).flat().length;
  assert.deepEqual([report.rows, report.added, report.files[0].file], [trials, trials, masked]);
  const records = (await kb.snapshot()).records;
  assert.ok(
    records.every((r) => r.curve?.length === 1),
    'intermediate values are the curve',
  );
  const again = await importFiles(kb, [sqliteFile], mapping);
  assert.deepEqual([again.added, again.duplicates], [0, trials], 'SQLite gives the same records');
  assert.deepEqual(
    new Set(records.map(recordId)),
    new Set((await kb.snapshot()).records.map(recordId)),
  );

  // Through the CLI: the format from the URL, Optuna's driver URL, the password from PGPASSWORD,
  // --study for one study; the password is never printed.
  const env = {
    ...process.env,
    METALLMIX_CACHE: path.join(dir, 'cache'),
    PGPASSWORD: server.password,
  };
  const bare = server
    .url({ database: 'optuna_db', password: false })
    .replace(/^postgresql:/, 'postgresql+psycopg2:');
  const mappingNoFormat = write(dir, 'plain.json', { ...MAPPING, format: undefined });
  const one = await runCliWith(
    { env },
    'import',
    bare,
    '--mapping',
    mappingNoFormat,
    '--study',
    'run-7',
    '--kb',
    path.join(dir, 'cli.sqlite'),
    '--json',
    '--quiet',
  );
  assert.equal(one.code, 0, one.err);
  assert.equal(JSON.parse(one.out).added, (studies as Record<string, unknown[]>)['run-7'].length);
  const notOptuna = await runCliWith(
    { env },
    'import',
    server.url({ database: 'postgres', password: false }),
    '--mapping',
    mappingNoFormat,
    '--kb',
    path.join(dir, 'cli.sqlite'),
  );
  assert.equal(notOptuna.code, 2, notOptuna.err);
  assert.match(notOptuna.err, /not an Optuna storage: missing table\(s\) studies, trials/);
  const wrong = await runCliWith(
    { env: { ...env, PGPASSWORD: 'not-it' } },
    'import',
    url.replace(server.password, 'wrong-secret'),
    '--mapping',
    mappingNoFormat,
    '--kb',
    path.join(dir, 'cli.sqlite'),
  );
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.err, /cannot connect to the Optuna storage: .*password/);
  assert.ok(!`${wrong.out}${wrong.err}`.includes('wrong-secret'), 'no password shown');
});
