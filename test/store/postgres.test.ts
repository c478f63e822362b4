// The PostgreSQL backend beyond the shared contract: locators and passwords, migrations,
// read-only opening, the CLI on a database URL, and the retrieval index kept in the database.
// Everything runs against a real PostgreSQL 15 server started for this file.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync } from 'node:fs';
import path from 'node:path';
import { ExitCode, MetallmixError } from '../../src/core/index.ts';
import {
  openRetriever,
  openOrBuildIndex,
  buildDocuments,
  MetaTextEmbedder,
} from '../../src/retrieve/index.ts';
import { openKnowledgeBase, type KnowledgeBase, type VectorStore } from '../../src/store/index.ts';
import { maskLocator, resolvePostgresLocator } from '../../src/store/postgres/locator.ts';
import { SCHEMA_VERSION } from '../../src/store/postgres/migrations.ts';
import { runCliWith } from '../support/cli.ts';
import { startPostgres } from '../support/postgres-server.ts';
import { SMALL_MAPPING, smallSource, tempDir, write } from './helpers.ts';

test('locators: both schemes, defaults, masked labels, refused parameters', () => {
  const env = { PGUSER: 'ann', HOME: '/nonexistent' };
  const s = resolvePostgresLocator('postgres://db.lab:6543/runs?schema=med', env);
  assert.deepEqual(
    { host: s.host, port: s.port, user: s.user, database: s.database, schema: s.schema },
    { host: 'db.lab', port: 6543, user: 'ann', database: 'runs', schema: 'med' },
  );
  assert.equal(s.password, undefined);
  const d = resolvePostgresLocator('postgresql://bob@localhost', env);
  assert.deepEqual([d.port, d.user, d.database, d.schema], [5432, 'bob', 'bob', 'metallmix']);
  const secret = 'p@ss:w/rd';
  const withPassword = `postgresql://bob:${encodeURIComponent(secret)}@127.0.0.1:5432/kb`;
  const p = resolvePostgresLocator(withPassword, env);
  assert.equal(p.password, secret);
  assert.equal(p.label, 'postgresql://bob:***@127.0.0.1:5432/kb');
  assert.equal(maskLocator('postgresql://bob@h/kb'), 'postgresql://bob@h/kb');
  assert.equal(maskLocator('postgresql://bob@h:5432/kb?x=a@b'), 'postgresql://bob@h:5432/kb?x=a@b');
  // Any URL a report shows (an MLflow server too), whatever its password holds.
  assert.equal(maskLocator('http://ann:pa@ss@h:5000'), 'http://ann:***@h:5000');
  // libpq's password parameter is read, and masked.
  const parameter = resolvePostgresLocator('postgresql://bob@h/kb?password=s%26cret', env);
  assert.deepEqual([parameter.password, parameter.passwordFrom], ['s&cret', 'url']);
  assert.equal(parameter.label, 'postgresql://bob@h/kb?password=***');
  // A password left unencoded makes the URL invalid; the error shows none of it.
  const at = resolvePostgresLocator('postgresql://bob:pa@ss@127.0.0.1:5432/kb', env);
  assert.deepEqual([at.password, at.label], ['pa@ss', 'postgresql://bob:***@127.0.0.1:5432/kb']);
  for (const raw of ['pa/ss', 'pa?ss', 'pa#ss', 'p@s/s?w#d'])
    assert.throws(
      () => resolvePostgresLocator(`postgresql://bob:${raw}@127.0.0.1:5432/kb`, env),
      (e: unknown) =>
        e instanceof MetallmixError &&
        !`${e.message}${JSON.stringify(e.location)}`.includes(raw) &&
        e.location.file === 'postgresql://bob:***@127.0.0.1:5432/kb' &&
        /percent-encoded|unknown parameter/.test(e.message),
      raw,
    );
  assert.equal(
    resolvePostgresLocator('postgresql://bob@h/kb', { ...env, PGPASSWORD: 'x' }).passwordFrom,
    'PGPASSWORD',
  );
  for (const [locator, reason] of [
    ['postgresql://bob@h/kb?sslmod=require', /unknown parameter "sslmod"/],
    ['postgresql://bob@h/kb?schema=Bad-Name', /schema "Bad-Name"/],
    ['postgresql://bob@h:99999/kb', /port|Invalid URL|valid PostgreSQL URL/],
    ['postgresql://bob@h/kb?sslmode=sometimes', /sslmode "sometimes"/],
  ] as const)
    assert.throws(
      () =>
        resolvePostgresLocator(locator.replace('bob@', `bob:${encodeURIComponent(secret)}@`), env),
      (e: unknown) =>
        e instanceof MetallmixError &&
        reason.test(e.message) &&
        !`${e.message}${JSON.stringify(e.location)}`.includes(encodeURIComponent(secret)),
      locator,
    );
});

test('a password file: first matching line, wildcards and escapes, ignored when others may read it', (t) => {
  const dir = tempDir(t);
  const file = write(
    dir,
    'pgpass',
    [
      '# comment',
      'other:5432:*:bob:wrong',
      '127.0.0.1:5432:kb:bob:pa\\:ss\\\\1',
      '*:*:*:bob:fallback',
      '',
    ].join('\n'),
  );
  chmodSync(file, 0o600);
  const at = (host: string, database: string) =>
    resolvePostgresLocator(`postgresql://bob@${host}/${database}`, { PGPASSFILE: file }).password;
  assert.equal(at('127.0.0.1:5432', 'kb'), 'pa:ss\\1');
  assert.equal(at('127.0.0.1:5432', 'other'), 'fallback');
  chmodSync(file, 0o644);
  assert.equal(at('127.0.0.1:5432', 'kb'), undefined, 'a readable password file is ignored');
});

const server = await startPostgres();
if (typeof server === 'string') test('PostgreSQL server tests', { skip: server }, () => {});
else
  describe('on a PostgreSQL 15 server', () => {
    after(() => server.stop());
    let n = 0;
    const schema = () => `t_${++n}`;
    const open = async (
      t: { after(fn: () => unknown): void },
      locator: string,
      mode: 'read' | 'write' = 'write',
      env: Record<string, string> = {},
    ): Promise<KnowledgeBase> => {
      const kb = await openKnowledgeBase(locator, { mode, env });
      t.after(() => kb.close());
      return kb;
    };
    const rejectsWith = async (p: Promise<unknown>, code: number, reason: RegExp) =>
      assert.rejects(p, (e: unknown) => {
        assert.ok(e instanceof MetallmixError, String(e));
        assert.match(e.message, reason);
        assert.equal(e.exitCode, code);
        assert.ok(!e.message.includes(server.password), 'the password is never shown');
        assert.ok(!JSON.stringify(e.location).includes(server.password));
        return true;
      });

    test('the password comes from the URL, PGPASSWORD or the password file, never shown', async (t) => {
      const bare = server.url({ password: false, schema: schema() });
      const inUrl = await open(t, server.url({ schema: schema() }));
      assert.equal(inUrl.label, inUrl.label.replace(server.password, ''));
      assert.match(
        inUrl.label,
        /^postgresql:\/\/metallmix_admin:\*\*\*@127\.0\.0\.1:\d+\/postgres\?schema=t_\d+$/,
      );
      const fromEnv = await open(t, bare, 'write', { PGPASSWORD: server.password });
      assert.equal(fromEnv.label, bare);
      const home = tempDir(t);
      chmodSync(
        write(
          home,
          '.pgpass',
          `127.0.0.1:${server.port}:postgres:${server.user}:${server.password}\n`,
        ),
        0o600,
      );
      const fromFile = await open(t, bare, 'write', { HOME: home });
      assert.equal(fromFile.label, bare);
      await rejectsWith(
        openKnowledgeBase(bare, { mode: 'write', env: { HOME: tempDir(t) } }),
        ExitCode.unavailable,
        /the server asks for a password \(no password was given: put it in the URL, PGPASSWORD or ~\/.pgpass\)/,
      );
      // A password file others may read is ignored, as libpq does, and the error says so.
      chmodSync(path.join(home, '.pgpass'), 0o644);
      await rejectsWith(
        openKnowledgeBase(bare, { mode: 'write', env: { HOME: home } }),
        ExitCode.unavailable,
        /\.pgpass was not read because others may read it \(chmod 600 it\)/,
      );
      await rejectsWith(
        openKnowledgeBase(server.url({ database: 'nosuchdb' }), { mode: 'read', env: {} }),
        ExitCode.badInput,
        /database "nosuchdb" does not exist \(create it first: createdb -h 127\.0\.0\.1 -p \d+ -U \w+ nosuchdb\)/,
      );
      await rejectsWith(
        openKnowledgeBase(bare, { mode: 'write', env: { PGPASSWORD: 'wrong' } }),
        ExitCode.unavailable,
        /password authentication failed.*the password came from PGPASSWORD/,
      );
    });

    test('a server that is not there: exit code unavailable, with the masked URL', async () => {
      const port = server.port === 1 ? 2 : 1;
      const locator = `postgresql://u:${server.password}@127.0.0.1:${port}/db?connect_timeout=2`;
      await assert.rejects(openKnowledgeBase(locator, { mode: 'read', env: {} }), (e: unknown) => {
        assert.ok(e instanceof MetallmixError);
        assert.equal(e.exitCode, ExitCode.unavailable);
        assert.equal(e.location.file, `postgresql://u:***@127.0.0.1:${port}/db?connect_timeout=2`);
        assert.ok(!e.message.includes(server.password));
        return true;
      });
    });

    test('migrations: versioned, applied once when two instances create one knowledge base at once', async (t) => {
      const s = schema();
      const locator = server.url({ schema: s });
      const [a, b] = await Promise.all([open(t, locator), open(t, locator)]);
      const applied = await server.sql(
        `SELECT version FROM ${s}.schema_migrations ORDER BY version`,
      );
      assert.deepEqual(
        applied.rows.map((r) => r.version),
        Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
      );
      assert.equal(await a.version(), await b.version());
      // A knowledge base from a newer metallmix is refused, read or write, and left alone.
      await server.sql(
        `INSERT INTO ${s}.schema_migrations (version) VALUES (${SCHEMA_VERSION + 1})`,
      );
      for (const mode of ['read', 'write'] as const)
        await rejectsWith(
          openKnowledgeBase(locator, { mode, env: {} }),
          ExitCode.badInput,
          /newer than this metallmix knows/,
        );
    });

    test('read mode creates nothing; a schema holding other tables is refused either way', async (t) => {
      const s = schema();
      await rejectsWith(
        openKnowledgeBase(server.url({ schema: s }), { mode: 'read', env: {} }),
        ExitCode.badInput,
        new RegExp(`no knowledge base in schema "${s}"`),
      );
      const exists = await server.sql(
        `SELECT count(*)::int AS n FROM information_schema.schemata WHERE schema_name = '${s}'`,
      );
      assert.equal(exists.rows[0].n, 0, 'read mode created no schema');
      await server.sql(
        `CREATE SCHEMA ${s}; CREATE TABLE ${s}.studies (id int); CREATE TABLE ${s}.trials (id int)`,
      );
      for (const mode of ['read', 'write'] as const)
        await rejectsWith(
          openKnowledgeBase(server.url({ schema: s }), { mode, env: {} }),
          ExitCode.badInput,
          /not a metallmix knowledge base: schema "t_\d+" (already )?holds tables studies, trials/,
        );
      const tables = await server.sql(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = '${s}' ORDER BY 1`,
      );
      assert.deepEqual(
        tables.rows.map((r) => r.table_name),
        ['studies', 'trials'],
        'nothing was added',
      );
      const ro = await open(t, server.url({ schema: schema() }));
      await ro.close();
    });

    test('import, kb stats and records through the CLI on METALLMIX_KB=postgresql://...', async (t) => {
      const dir = tempDir(t);
      const { csv, mapping } = smallSource(dir, undefined, SMALL_MAPPING);
      const locator = server.url({ schema: schema() });
      const env = {
        ...process.env,
        METALLMIX_KB: locator,
        METALLMIX_CACHE: path.join(dir, 'cache'),
      };
      const first = await runCliWith(
        { env },
        'import',
        csv,
        '--mapping',
        mapping,
        '--json',
        '--quiet',
      );
      assert.equal(first.code, 0, first.err);
      const report = JSON.parse(first.out);
      assert.equal(report.added, 3);
      assert.equal(report.knowledgeBase, maskLocator(locator));
      const again = await runCliWith(
        { env },
        'import',
        csv,
        '--mapping',
        mapping,
        '--json',
        '--quiet',
      );
      assert.equal(JSON.parse(again.out).added, 0);
      assert.equal(JSON.parse(again.out).version, report.version);
      const stats = await runCliWith({ env }, 'kb', 'stats', '--json');
      assert.equal(stats.code, 0, stats.err);
      assert.deepEqual(
        (({ backend, records, datasets, version }) => ({ backend, records, datasets, version }))(
          JSON.parse(stats.out),
        ),
        { backend: 'postgresql', records: 3, datasets: 2, version: report.version },
      );
      const text = await runCliWith({ env }, 'kb', 'stats');
      for (const r of [first, again, stats, text]) {
        assert.ok(
          !r.out.includes(server.password) && !r.err.includes(server.password),
          'no password printed',
        );
      }
      assert.match(text.out, /postgresql:\/\/metallmix_admin:\*\*\*@/);
      // The same content in a SQLite file has the same version: caches are valid across backends.
      const sqlite = await runCliWith(
        { env: { ...env, METALLMIX_KB: path.join(dir, 'kb.sqlite') } },
        'import',
        csv,
        '--mapping',
        mapping,
        '--json',
        '--quiet',
      );
      assert.equal(JSON.parse(sqlite.out).version, report.version);
      // recommend suggests the same request again with an export: its --kb shows no password.
      const profile = write(dir, 'new.json', {
        name: 'new',
        task: 'multiclass',
        modality: 'dermoscopy',
        numInstances: 35,
        numClasses: 3,
      });
      const rec = await runCliWith({ env }, 'recommend', '--profile', profile, '--kb', locator);
      assert.equal(rec.code, 0, rec.err);
      assert.match(
        rec.out,
        /--kb '?postgresql:\/\/metallmix_admin:\*\*\*@127\.0\.0\.1:\d+\/postgres/,
      );
      assert.ok(!`${rec.out}${rec.err}`.includes(server.password), 'no password printed');
    });

    /** The built-in runs in a new PostgreSQL schema, with their documents and a fitted embedder. */
    const builtinOnPostgres = async (
      t: { after(fn: () => unknown): void },
      s: string,
      cache: string,
    ) => {
      const builtin = await openKnowledgeBase('builtin', {
        mode: 'read',
        env: { METALLMIX_CACHE: cache },
      });
      const content = await builtin.snapshot();
      await builtin.close();
      const kb = await open(t, server.url({ schema: s }), 'write', { METALLMIX_CACHE: cache });
      await kb.importBatch({
        records: content.records.map(({ id: _id, ...r }) => r),
        profiles: content.profiles,
        models: content.models,
        hyperparameters: content.hyperparameters,
      });
      const documents = buildDocuments({
        profiles: content.profiles,
        records: await kb.records(),
        metric: 'accuracy',
      });
      const embedder = MetaTextEmbedder.fit({
        profiles: content.profiles,
        texts: documents.map((d) => d.text),
      });
      return { kb, content, documents, embedder };
    };
    test('the retrieval index lives in the database: the flat index’s hits, shared, rebuilt on change', async (t) => {
      const { kb, content, documents, embedder } = await builtinOnPostgres(t, schema(), tempDir(t));
      assert.equal(kb.indexLocation.kind, 'database');
      const store = (kb.indexLocation as { store: VectorStore }).store;
      const version = await kb.version();
      const flat = await openOrBuildIndex({
        kbVersion: version,
        embedder,
        documents: () => documents,
      });
      let built = 0;
      const fromDb = () =>
        openOrBuildIndex({
          database: store,
          kbVersion: version,
          embedder,
          documents: () => (built++, documents),
        });
      const first = await fromDb();
      assert.equal(first.rebuilt, true);
      assert.match(first.notices[0], /no index in the database yet/);
      // Another instance (another machine) reads it back instead of embedding again.
      const other = await open(t, server.url({ schema: `t_${n}` }), 'read');
      const second = await openOrBuildIndex({
        database: (other.indexLocation as { store: VectorStore }).store,
        kbVersion: version,
        embedder,
        documents: () => (built++, documents),
      });
      assert.equal(second.rebuilt, false);
      assert.deepEqual(second.notices, []);
      assert.equal(built, 1);
      assert.deepEqual(second.documents, documents);
      const datasets = content.profiles.map((p) => p.name);
      const filters = [
        undefined,
        { kind: 'run' as const },
        { kind: 'dataset' as const },
        { kind: 'run' as const, dataset: datasets.slice(0, 2), excludeDatasets: [datasets[0]] },
        { model: 'resnet18' },
      ];
      for (const [i, d] of documents.entries()) {
        if (i % 17 !== 0) continue;
        const [q] = await embedder.embed([d.text], [d.meta]);
        for (const f of filters)
          for (const k of [1, 5, 40])
            assert.deepEqual(
              await second.index.search(q, k, f),
              await flat.index.search(q, k, f),
              `document ${i}, k ${k}, ${JSON.stringify(f)}`,
            );
      }
      // Through the retriever as recommend uses it.
      const a = await openRetriever({
        profiles: content.profiles,
        records: await kb.records(),
        metric: 'accuracy',
        kbVersion: version,
        database: store,
      });
      const b = await openRetriever({
        profiles: content.profiles,
        records: await kb.records(),
        metric: 'accuracy',
        kbVersion: version,
      });
      for (const p of content.profiles)
        assert.deepEqual(
          await a.retriever.retrieve(p, { k: 4, kinds: ['dataset', 'run'] }),
          await b.retriever.retrieve(p, { k: 4, kinds: ['dataset', 'run'] }),
        );
      // A new record moves the version: the stored index is stale and rebuilt.
      const { id: _id, ...one } = content.records[0];
      await kb.importBatch({ records: [{ ...one, seed: 999 }] });
      const moved = await openOrBuildIndex({
        database: store,
        kbVersion: await kb.version(),
        embedder,
        documents: () => documents,
      });
      assert.equal(moved.rebuilt, true);
      assert.match(moved.notices[0], /built for knowledge base version/);
    });
    test('an index read whole from the database is copied into the cache: a later request reads no vector', async (t) => {
      const cache = tempDir(t);
      const s = schema();
      const { kb, documents, embedder } = await builtinOnPostgres(t, s, cache);
      const location = kb.indexLocation as { store: VectorStore; localCopy?: string };
      const copy = location.localCopy ?? '';
      assert.ok(copy.startsWith(path.join(cache, 'vectors')), copy);
      assert.ok(!copy.includes(server.password), 'no password in the file name');
      let built = 0;
      const ask = async (kbVersion: string) =>
        openOrBuildIndex({
          database: location.store,
          cachePath: copy,
          kbVersion,
          embedder,
          documents: () => (built++, documents),
        });
      const version = await kb.version();
      const first = await ask(version);
      assert.equal(first.rebuilt, true);
      assert.ok(existsSync(copy), 'the copy is written');
      // With the database's vectors gone, only the copy can answer without a rebuild.
      await server.sql(`DELETE FROM ${s}.vector_entries`);
      const second = await ask(version);
      assert.equal(second.rebuilt, false);
      assert.equal(built, 1);
      const [q] = await embedder.embed([documents[3].text], [documents[3].meta]);
      assert.deepEqual(await second.index.search(q, 5), await first.index.search(q, 5));
      // Another version does not take the copy: the database's state decides (here: rebuilt).
      const other = await ask(`${version}-moved`);
      assert.equal(other.rebuilt, true);
      assert.equal(built, 2);
      // A cache folder that cannot be made (under /proc) costs the copy, never an error or a hang.
      const unmade = await openOrBuildIndex({
        database: location.store,
        cachePath: '/proc/nope/vectors/x.vectors',
        kbVersion: version,
        embedder,
        documents: () => documents,
      });
      assert.equal(unmade.index.size, documents.length);
      assert.ok(!existsSync('/proc/nope'));
    });
    test('with pgvector the index is searched in the database, with the flat index’s hits', async (t) => {
      const available = await server.sql(
        `SELECT 1 FROM pg_available_extensions WHERE name = 'vector'`,
      );
      if (available.rowCount === 0)
        return t.skip('the pgvector extension is not installed (Debian postgresql-15-pgvector)');
      const builtin = await openKnowledgeBase('builtin', {
        mode: 'read',
        env: { METALLMIX_CACHE: tempDir(t) },
      });
      const content = await builtin.snapshot();
      await builtin.close();
      const kb = await open(t, server.url({ schema: schema() }));
      await kb.importBatch({
        records: content.records.map(({ id: _id, ...r }) => r),
        profiles: content.profiles,
        models: content.models,
      });
      const store = (kb.indexLocation as { store: VectorStore }).store;
      const version = await kb.version();
      const documents = buildDocuments({
        profiles: content.profiles,
        records: await kb.records(),
        metric: 'accuracy',
      });
      const embedder = MetaTextEmbedder.fit({
        profiles: content.profiles,
        texts: documents.map((d) => d.text),
      });
      const flat = await openOrBuildIndex({
        kbVersion: version,
        embedder,
        documents: () => documents,
      });
      await openOrBuildIndex({
        database: store,
        kbVersion: version,
        embedder,
        documents: () => documents,
      });
      const other = await open(t, server.url({ schema: `t_${n}` }), 'read');
      const stored = await openOrBuildIndex({
        database: (other.indexLocation as { store: VectorStore }).store,
        kbVersion: version,
        embedder,
        documents: () => documents,
      });
      assert.equal(stored.rebuilt, false);
      assert.equal(stored.index.type, 'database-ip', 'searched in the database');
      for (const [i, d] of documents.entries()) {
        if (i % 13 !== 0) continue;
        const [q] = await embedder.embed([d.text], [d.meta]);
        for (const f of [
          undefined,
          { kind: 'run' as const },
          { kind: 'run' as const, excludeDatasets: [content.profiles[0].name] },
        ])
          for (const k of [1, 5, 40])
            assert.deepEqual(await stored.index.search(q, k, f), await flat.index.search(q, k, f));
      }
    });
  });
