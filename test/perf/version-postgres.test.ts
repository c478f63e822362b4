// The PostgreSQL backend keeps the same content-version state as SQLite, inside each import
// transaction: version() reads one row; a schema-1 knowledge base (before the state was kept)
// is read with its content version and migrated to keep it on its first write.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { ExperimentRecord } from '../../src/core/index.ts';
import { contentVersion, openKnowledgeBase, recordId } from '../../src/store/index.ts';
import { MIGRATIONS, quoteIdent } from '../../src/store/postgres/migrations.ts';
import { startPostgres } from '../support/postgres-server.ts';
import { run } from './records.ts';

const versionOf = (records: ExperimentRecord[]) =>
  contentVersion({
    recordIds: records.map(recordId),
    profiles: [],
    models: [],
    hyperparameters: [{ name: 'lr', type: 'float', log: true }],
  });

const server = await startPostgres();
if (typeof server === 'string') test('postgresql content version', { skip: server }, () => {});
else {
  after(() => server.stop());

  test('a schema-1 PostgreSQL knowledge base is read with its version, then migrated to keep it', async () => {
    const schema = 'kb_v1';
    const s = quoteIdent(schema);
    // Written the way metallmix wrote it before migration 2.
    const records = Array.from({ length: 30 }, (_, i) => run(i));
    const migration = MIGRATIONS[0];
    assert.equal(typeof migration, 'function');
    await server.sql(`CREATE SCHEMA ${s}`);
    await server.sql(
      `CREATE TABLE ${s}.schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    await server.sql((migration as (s: string) => string)(s));
    await server.sql(`INSERT INTO ${s}.schema_migrations (version) VALUES (1)`);
    for (const r of records)
      await server.sql(
        `INSERT INTO ${s}.records (id, dataset, model, status, source, body) VALUES ('${recordId(r)}', '${r.dataset}', '${r.model}', '${r.status}', '${r.provenance.source}', '${JSON.stringify(r)}')`,
      );
    await server.sql(
      `INSERT INTO ${s}.hyperparameters (name, body) VALUES ('lr', '{"log":true,"name":"lr","type":"float"}')`,
    );

    const locator = server.url({ schema });
    const reader = await openKnowledgeBase(locator, { mode: 'read', env: {} });
    assert.equal(await reader.version(), versionOf(records));
    assert.equal((await reader.snapshot()).version, versionOf(records));
    await reader.close();

    const writer = await openKnowledgeBase(locator, { mode: 'write', env: {} });
    assert.equal(await writer.version(), versionOf(records));
    await writer.importBatch({ records: [run(99)] });
    assert.equal(await writer.version(), versionOf([...records, run(99)]));
    await writer.close();
    const state = await server.sql(`SELECT content_state FROM ${s}.kb_state`);
    assert.equal(state.rows[0].content_state.count, 32);

    // version() reads the kept state: records no one can parse do not change it.
    await server.sql(`UPDATE ${s}.records SET body = 'not json'`);
    const again = await openKnowledgeBase(locator, { mode: 'read', env: {} });
    assert.equal(await again.version(), versionOf([...records, run(99)]));
    await assert.rejects(again.snapshot());
    await again.close();
  });
}
