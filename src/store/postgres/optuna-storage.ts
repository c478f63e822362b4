// Optuna's RDB storage on PostgreSQL (`postgresql://USER@HOST/DB`, or Optuna's own
// `postgresql+psycopg2://...` URL): the same tables as its SQLite storage, copied in one
// read-only snapshot into an in-memory SQLite database, so the one decoder of optuna.ts reads
// both storages and a study gives the same records from either. Credentials are resolved as
// for a knowledge base (URL, PGPASSWORD, ~/.pgpass); the URL is only ever shown masked.
import Database from 'better-sqlite3';
import type pg from 'pg';
import { ExitCode, MetallmixError, type Env } from '../../core/index.ts';
import { connectPostgres } from './connect.ts';
import { resolvePostgresLocator } from './locator.ts';

/** The tables optuna.ts reads; Optuna's others (heartbeats, alembic_version) are not copied. */
const OPTUNA_TABLES = [
  'studies',
  'study_directions',
  'study_user_attributes',
  'study_system_attributes',
  'trials',
  'trial_params',
  'trial_values',
  'trial_user_attributes',
  'trial_system_attributes',
  'trial_intermediate_values',
];

/**
 * Columns read as text: timestamps as Optuna's SQLite storage writes them ("2024-01-01
 * 10:00:00.123456"), enums (trial state, direction, value type) by their label.
 */
const AS_TEXT = /^(timestamp|date|USER-DEFINED)/;

/** Optuna's SQLAlchemy URL names a driver (`postgresql+psycopg2://`); the server is the same. */
export const withoutDriver = (url: string) =>
  url.replace(/^(postgres(?:ql)?)\+[a-z0-9_]+:/i, '$1:');

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** A PostgreSQL value as SQLite can hold it. */
function sqliteValue(v: unknown): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v;
  return JSON.stringify(v);
}

export interface OptunaCopy {
  db: Database.Database;
  /** The storage's URL with the password masked. */
  label: string;
}

/**
 * Copies the Optuna tables of `schema` (from `?schema=`, else `public`, where Optuna puts them).
 * The whole storage is held in memory while it is read.
 */
export async function copyOptunaStorage(locator: string, env: Env): Promise<OptunaCopy> {
  const url = withoutDriver(locator);
  const settings = resolvePostgresLocator(url, env);
  const schema = new URL(url).searchParams.has('schema') ? settings.schema : 'public';
  const client = await connectPostgres(settings, 'the Optuna storage');
  const db = new Database(':memory:');
  try {
    // One snapshot: a study writing meanwhile is seen before or after a write, never half-way.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await client.query<{
      table_name: string;
      column_name: string;
      data_type: string;
    }>(
      `SELECT table_name, column_name, data_type FROM information_schema.columns
        WHERE table_schema = $1 AND table_name = ANY($2) ORDER BY table_name, ordinal_position`,
      [schema, OPTUNA_TABLES],
    );
    const byTable = new Map<string, { name: string; type: string }[]>();
    for (const r of rows)
      byTable.set(r.table_name, [
        ...(byTable.get(r.table_name) ?? []),
        { name: r.column_name, type: r.data_type },
      ]);
    for (const [table, columns] of byTable) await copyTable(client, db, schema, table, columns);
    await client.query('COMMIT');
  } catch (err) {
    db.close();
    throw new MetallmixError(`cannot read the Optuna storage: ${(err as Error).message}`, {
      location: { file: settings.label },
      exitCode: ExitCode.unavailable,
      cause: err,
    });
  } finally {
    await client.end().catch(() => undefined);
  }
  return { db, label: settings.label };
}

async function copyTable(
  client: pg.Client,
  db: Database.Database,
  schema: string,
  table: string,
  columns: { name: string; type: string }[],
): Promise<void> {
  const select = columns
    .map((c) =>
      AS_TEXT.test(c.type)
        ? `CAST(${quote(c.name)} AS TEXT) AS ${quote(c.name)}`
        : // node-postgres gives int8 and numeric as strings; Optuna's are ids and floats.
          c.type === 'bigint' || c.type === 'numeric'
          ? `CAST(${quote(c.name)} AS DOUBLE PRECISION) AS ${quote(c.name)}`
          : quote(c.name),
    )
    .join(', ');
  const result = await client.query<unknown[]>({
    text: `SELECT ${select} FROM ${quote(schema)}.${quote(table)}`,
    rowMode: 'array',
  });
  db.exec(`CREATE TABLE ${quote(table)} (${columns.map((c) => quote(c.name)).join(', ')})`);
  const insert = db.prepare(
    `INSERT INTO ${quote(table)} VALUES (${columns.map(() => '?').join(', ')})`,
  );
  db.transaction(() => {
    for (const row of result.rows) insert.run(row.map(sqliteValue));
  })();
}
