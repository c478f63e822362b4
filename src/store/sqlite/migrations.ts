// Versioned schema migrations, tracked in PRAGMA user_version. Never edit a shipped migration:
// append a new one, so every existing knowledge base upgrades the same way.
import type Database from 'better-sqlite3';
import { MetallmixError } from '../../core/index.ts';
import { contentState, type VersionState } from '../derived.ts';

/** SQL, or a step that needs code (computing derived state from what is stored). */
export type Migration = string | ((db: Database.Database) => void);

/** The stored content-version state (see VersionState in ../derived.ts), or undefined before migration 3. */
export function readVersionState(db: Database.Database): VersionState | undefined {
  const hasTable = db
    .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'content_version'`)
    .get();
  if (!hasTable) return undefined;
  const row = db.prepare('SELECT count, sum FROM content_version WHERE id = 1').get() as
    VersionState | undefined;
  return row && { count: row.count, sum: row.sum };
}

/** The content-version state computed from every stored row. */
export function computeVersionState(db: Database.Database): VersionState {
  const bodies = (sql: string) =>
    (db.prepare(sql).pluck().all() as string[]).map((b) => JSON.parse(b) as never);
  return contentState({
    recordIds: db.prepare('SELECT id FROM records').pluck().all() as string[],
    profiles: bodies('SELECT body FROM dataset_profiles'),
    models: bodies('SELECT body FROM model_cards'),
    hyperparameters: bodies('SELECT body FROM hyperparameters'),
  });
}

export const MIGRATIONS: readonly Migration[] = [
  // 1: records (the full ExperimentRecord as JSON, with the columns queries filter on), profiles, cards.
  `CREATE TABLE records (
     id TEXT PRIMARY KEY,
     dataset TEXT NOT NULL,
     model TEXT NOT NULL,
     status TEXT NOT NULL,
     source TEXT NOT NULL,
     body TEXT NOT NULL
   );
   CREATE INDEX records_dataset ON records(dataset);
   CREATE TABLE dataset_profiles (name TEXT PRIMARY KEY, body TEXT NOT NULL);
   CREATE TABLE model_cards (id TEXT PRIMARY KEY, body TEXT NOT NULL);`,
  // 2: declared hyperparameters (type, log scale, condition) so the search space keeps its types;
  //    indexes for the model and status filters.
  `CREATE TABLE hyperparameters (name TEXT PRIMARY KEY, body TEXT NOT NULL);
   CREATE INDEX records_model ON records(model);
   CREATE INDEX records_status ON records(status);`,
  // 3: the content-version state, maintained by every import, so reading the version is O(1).
  (db) => {
    db.exec(
      `CREATE TABLE content_version (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         count INTEGER NOT NULL,
         sum TEXT NOT NULL
       )`,
    );
    const state = computeVersionState(db);
    db.prepare('INSERT INTO content_version (id, count, sum) VALUES (1, ?, ?)').run(
      state.count,
      state.sum,
    );
  },
];

/**
 * The oldest schema a read-only open accepts without migrating: migration 3 only adds the
 * content-version state, which a reader of an older file computes from the rows instead.
 */
export const OLDEST_READABLE_SCHEMA = 2;

export const SCHEMA_VERSION = MIGRATIONS.length;

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings the schema up to `target` in one IMMEDIATE transaction, re-reading the version inside
 * it so two processes opening a new knowledge base at once migrate it exactly once.
 */
export function migrate(db: Database.Database, file: string, target = SCHEMA_VERSION): void {
  const run = db.transaction(() => {
    const current = schemaVersion(db);
    if (current > SCHEMA_VERSION)
      throw new MetallmixError(
        `the knowledge base has schema version ${current}, newer than this metallmix knows (${SCHEMA_VERSION}); upgrade metallmix`,
        { location: { file } },
      );
    for (let v = current; v < target; v++) {
      const step = MIGRATIONS[v];
      if (typeof step === 'string') db.exec(step);
      else step(db);
    }
    if (current < target) db.pragma(`user_version = ${target}`);
  });
  run.immediate();
}
