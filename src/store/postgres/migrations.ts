// Versioned schema migrations of a PostgreSQL knowledge base, recorded in its own
// schema_migrations table. Never edit a shipped migration: append one, so every knowledge base
// upgrades the same way. All of them run in one transaction under an advisory lock, so two
// processes opening a new knowledge base at once migrate it exactly once, and a failed
// migration leaves nothing behind (PostgreSQL's DDL is transactional).
import type pg from 'pg';
import { MetallmixError } from '../../core/index.ts';
import { contentState, type VersionState } from '../derived.ts';

/** Each migration, given the quoted schema name: SQL, or a step that needs code. */
export type Migration =
  ((s: string) => string) | { run(client: pg.Client, s: string): Promise<void> };

/** The stored content-version state (../derived.ts), or undefined before migration 2. */
export async function readVersionState(
  client: pg.Client,
  s: string,
): Promise<VersionState | undefined> {
  const r = await client.query<{ state: VersionState | null }>(
    `SELECT to_jsonb(k) -> 'content_state' AS state FROM ${s}.kb_state k`,
  );
  return r.rows[0]?.state ?? undefined;
}

/** The content-version state computed from every stored row. */
export async function computeVersionState(client: pg.Client, s: string): Promise<VersionState> {
  const column = async (sql: string) =>
    (await client.query<{ v: string }>(sql)).rows.map((r) => r.v);
  const bodies = async (table: string) =>
    (await column(`SELECT body AS v FROM ${s}.${table}`)).map((b) => JSON.parse(b) as never);
  return contentState({
    recordIds: await column(`SELECT id AS v FROM ${s}.records`),
    profiles: await bodies('dataset_profiles'),
    models: await bodies('model_cards'),
    hyperparameters: await bodies('hyperparameters'),
  });
}

export const MIGRATIONS: readonly Migration[] = [
  // 1: records (the full ExperimentRecord as JSON text, exactly as written, with the columns the
  //    filters use, in commit order), profiles, cards, declarations in declaration order, the
  //    generation every import transaction that changes something bumps, and the retrieval index.
  (s) => `
    CREATE TABLE ${s}.kb_state (
      singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
      generation bigint NOT NULL
    );
    INSERT INTO ${s}.kb_state (generation) VALUES (0);
    CREATE TABLE ${s}.records (
      id text PRIMARY KEY,
      seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
      dataset text NOT NULL,
      model text NOT NULL,
      status text NOT NULL,
      source text NOT NULL,
      body text NOT NULL
    );
    CREATE INDEX records_dataset ON ${s}.records (dataset);
    CREATE INDEX records_model ON ${s}.records (model);
    CREATE INDEX records_status ON ${s}.records (status);
    CREATE TABLE ${s}.dataset_profiles (name text PRIMARY KEY, body text NOT NULL);
    CREATE TABLE ${s}.model_cards (id text PRIMARY KEY, body text NOT NULL);
    CREATE TABLE ${s}.hyperparameters (
      name text PRIMARY KEY,
      seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
      body text NOT NULL
    );
    CREATE TABLE ${s}.vector_indexes (
      key text PRIMARY KEY,
      kb_version text NOT NULL,
      header text NOT NULL
    );
    CREATE TABLE ${s}.vector_entries (
      key text NOT NULL REFERENCES ${s}.vector_indexes (key) ON DELETE CASCADE,
      position integer NOT NULL,
      id text NOT NULL,
      kind text NOT NULL,
      dataset text,
      task text,
      modality text,
      model text,
      vector bytea NOT NULL,
      PRIMARY KEY (key, position)
    );`,
  // 2: the content-version state, maintained by every import, so reading the version is O(1).
  {
    async run(client, s) {
      await client.query(`ALTER TABLE ${s}.kb_state ADD COLUMN content_state jsonb`);
      await client.query(`UPDATE ${s}.kb_state SET content_state = $1`, [
        JSON.stringify(await computeVersionState(client, s)),
      ]);
    },
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Advisory-lock class of metallmix; the object is a hash of the schema name. */
export const LOCK_CLASS = 0x6d6c78;
export const LOCK = {
  migrate: `pg_advisory_xact_lock(${LOCK_CLASS}, hashtext('migrate:' || $1::text))`,
  write: `pg_advisory_xact_lock(${LOCK_CLASS}, hashtext('write:' || $1::text))`,
};

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The schema's version: 0 when the schema or its migration table is missing. */
export async function schemaVersion(client: pg.Client, schema: string): Promise<number> {
  const table = await client.query<{ exists: boolean }>(
    `SELECT to_regclass($1) IS NOT NULL AS exists`,
    [`${quoteIdent(schema)}.schema_migrations`],
  );
  if (!table.rows[0].exists) return 0;
  const r = await client.query<{ v: number | null }>(
    `SELECT max(version) AS v FROM ${quoteIdent(schema)}.schema_migrations`,
  );
  return r.rows[0].v ?? 0;
}

/** Tables of a schema, to tell a metallmix knowledge base from anything else. */
export async function tablesOf(client: pg.Client, schema: string): Promise<string[]> {
  const r = await client.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
    [schema],
  );
  return r.rows.map((t) => t.table_name);
}

export async function migrate(client: pg.Client, schema: string, label: string): Promise<void> {
  const s = quoteIdent(schema);
  await client.query('BEGIN');
  try {
    await client.query(`SELECT ${LOCK.migrate}`, [schema]);
    const tables = await tablesOf(client, schema);
    if (tables.length > 0 && !tables.includes('schema_migrations'))
      throw new MetallmixError(
        `not a metallmix knowledge base: schema "${schema}" already holds tables ${tables.slice(0, 6).join(', ')}; name another one with ?schema=NAME`,
        { location: { file: label } },
      );
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const current = await schemaVersion(client, schema);
    if (current > SCHEMA_VERSION)
      throw new MetallmixError(
        `the knowledge base has schema version ${current}, newer than this metallmix knows (${SCHEMA_VERSION}); upgrade metallmix`,
        { location: { file: label } },
      );
    for (let v = current; v < SCHEMA_VERSION; v++) {
      const step = MIGRATIONS[v];
      if (typeof step === 'function') await client.query(step(s));
      else await step.run(client, s);
      await client.query(`INSERT INTO ${s}.schema_migrations (version) VALUES ($1)`, [v + 1]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}
