// The content version is kept in the knowledge base by every import, so reading it never reads
// the records; a file written before it was kept (schema 2) is read with the same version and
// gets the state on its first write.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { contentVersion, recordId } from '../../src/store/index.ts';
import { openSqliteKnowledgeBase } from '../../src/store/sqlite/knowledge-base.ts';
import { migrate, schemaVersion } from '../../src/store/sqlite/migrations.ts';
import { run } from './records.ts';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metallmix-perf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('version() reads the kept state, not the records', async (t) => {
  const file = path.join(tempDir(t), 'kb.sqlite');
  const kb = openSqliteKnowledgeBase(file);
  t.after(() => kb.close());
  const records = Array.from({ length: 50 }, (_, i) => run(i));
  await kb.importBatch({ records });
  const version = await kb.version();
  assert.equal(
    version,
    contentVersion({
      recordIds: records.map(recordId),
      profiles: [],
      models: [],
      hyperparameters: [],
    }),
  );
  // Records no one can parse: the snapshot fails, the version is still read.
  const raw = new Database(file);
  raw.prepare(`UPDATE records SET body = 'not json'`).run();
  raw.close();
  await assert.rejects(kb.snapshot(), SyntaxError);
  assert.equal(await kb.version(), version);
});

test('a schema-2 file is read with its content version, and migrated to keep it on the first write', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'old.sqlite');
  // Written the way metallmix wrote it before migration 3.
  const db = new Database(file);
  migrate(db, file, 2);
  const records = Array.from({ length: 20 }, (_, i) => run(i));
  const insert = db.prepare(
    'INSERT INTO records (id, dataset, model, status, source, body) VALUES (?, ?, ?, ?, ?, ?)',
  );
  for (const r of records)
    insert.run(recordId(r), r.dataset, r.model, r.status, r.provenance.source, JSON.stringify(r));
  db.prepare('INSERT INTO hyperparameters (name, body) VALUES (?, ?)').run(
    'lr',
    '{"log":true,"name":"lr","type":"float"}',
  );
  db.close();
  const expected = contentVersion({
    recordIds: records.map(recordId),
    profiles: [],
    models: [],
    hyperparameters: [{ name: 'lr', type: 'float', log: true }],
  });

  const bytes = readFileSync(file);
  const reader = openSqliteKnowledgeBase(file, { readonly: true });
  assert.equal(await reader.version(), expected);
  assert.equal((await reader.snapshot()).version, expected);
  await reader.close();
  assert.deepEqual(readFileSync(file), bytes, 'a read-only open leaves the file as it was');

  const writer = openSqliteKnowledgeBase(file);
  assert.equal(await writer.version(), expected);
  await writer.importBatch({ records: [run(99)] });
  const after = contentVersion({
    recordIds: [...records, run(99)].map(recordId),
    profiles: [],
    models: [],
    hyperparameters: [{ name: 'lr', type: 'float', log: true }],
  });
  assert.equal(await writer.version(), after);
  await writer.close();
  const check = new Database(file, { readonly: true });
  assert.equal(schemaVersion(check), 3);
  assert.deepEqual(check.prepare('SELECT count FROM content_version').pluck().all(), [22]);
  check.close();
});
