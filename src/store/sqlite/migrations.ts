// Versioned schema migrations, tracked in PRAGMA user_version. Never edit a shipped migration:
// append a new one, so every existing knowledge base upgrades the same way.
import type Database from 'better-sqlite3';
import { MetallmixError } from '../../core/index.ts';

export const MIGRATIONS: readonly string[] = [
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
];

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
    for (let v = current; v < target; v++) db.exec(MIGRATIONS[v]);
    if (current < target) db.pragma(`user_version = ${target}`);
  });
  run.immediate();
}
