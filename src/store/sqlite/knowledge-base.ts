// The SQLite backend: an embedded file in WAL mode (readers never block the writer), versioned
// migrations, and writes in IMMEDIATE transactions with a busy timeout so concurrent importers
// queue instead of failing. better-sqlite3 is synchronous; the methods are async to honour the
// contract every backend shares.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  ExitCode,
  ExperimentRecord,
  MetallmixError,
  describeIssues,
  type DatasetProfile,
  type ModelCard,
} from '../../core/index.ts';
import {
  addElements,
  declarationElement,
  matchesFilter,
  modelElement,
  profileElement,
  recordElement,
  removeElements,
  versionOf,
  type VersionState,
} from '../derived.ts';
import { canonicalJson, recordId } from '../fingerprint.ts';
import type {
  BatchResult,
  DeclaredHyperparameter,
  ImportBatch,
  IndexLocation,
  KbSnapshot,
  KnowledgeBase,
  RecordFilter,
  StoredRecord,
  UpsertCounts,
} from '../knowledge-base.ts';
import {
  OLDEST_READABLE_SCHEMA,
  SCHEMA_VERSION,
  computeVersionState,
  migrate,
  readVersionState,
  schemaVersion,
} from './migrations.ts';

const BUSY_TIMEOUT_MS = 30_000;

interface Content {
  stamp: string;
  rows: { id: string; body: string }[];
  profiles: string[];
  models: string[];
  declared: string[];
  version: string;
}

/** What one batch changes in the content-version state. */
interface VersionDelta {
  added: string[];
  removed: string[];
}

export class SqliteKnowledgeBase implements KnowledgeBase {
  readonly writable: boolean;
  // Raw rows, not parsed objects, are cached: every read parses afresh, so a caller that mutates
  // what it got cannot corrupt what the next caller sees.
  private cache: Content | undefined;

  constructor(
    private readonly db: Database.Database,
    readonly label: string,
    readonly backend: string,
    readonly indexLocation: IndexLocation,
  ) {
    this.writable = !db.readonly;
  }

  /** Changes whenever this or another connection committed a write. */
  private stamp(): string {
    const dataVersion = this.db.pragma('data_version', { simple: true });
    const own = (this.db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
    return `${dataVersion}:${own}`;
  }

  /**
   * The committed content-version state: one row, maintained by importBatch. A file of schema 2
   * opened read-only has none, and its state is computed from the rows (once per stamp).
   */
  private versionState(): VersionState {
    const stored = readVersionState(this.db);
    if (stored) return stored;
    const stamp = this.stamp();
    if (this.computed?.stamp !== stamp)
      this.computed = { stamp, state: this.db.transaction(() => computeVersionState(this.db))() };
    return this.computed.state;
  }

  private computed: { stamp: string; state: VersionState } | undefined;

  private content(): Content {
    const stamp = this.stamp();
    if (this.cache?.stamp === stamp) return this.cache;
    const read = this.db.transaction(() => {
      const bodies = (sql: string) =>
        (this.db.prepare(sql).all() as { body: string }[]).map((r) => r.body);
      return {
        rows: this.db.prepare('SELECT id, body FROM records ORDER BY rowid').all() as {
          id: string;
          body: string;
        }[],
        profiles: bodies('SELECT body FROM dataset_profiles ORDER BY name'),
        models: bodies('SELECT body FROM model_cards ORDER BY id'),
        declared: bodies('SELECT body FROM hyperparameters ORDER BY rowid'),
        version: versionOf(this.versionState()),
      };
    });
    this.cache = { stamp, ...read() };
    return this.cache;
  }

  private parsedRecords(content: Content, filter: RecordFilter = {}): StoredRecord[] {
    const out: StoredRecord[] = [];
    for (const row of content.rows) {
      const r = { ...(JSON.parse(row.body) as ExperimentRecord), id: row.id };
      if (matchesFilter(r, filter)) out.push(r);
    }
    return out;
  }

  async snapshot(): Promise<KbSnapshot> {
    const c = this.content();
    const parse = <T>(bodies: string[]) => bodies.map((b) => JSON.parse(b) as T);
    return {
      version: c.version,
      records: this.parsedRecords(c),
      profiles: parse<DatasetProfile>(c.profiles),
      models: parse<ModelCard>(c.models),
      hyperparameters: parse<DeclaredHyperparameter>(c.declared),
    };
  }

  async records(filter: RecordFilter = {}): Promise<StoredRecord[]> {
    return this.parsedRecords(this.content(), filter);
  }

  async version(): Promise<string> {
    return versionOf(this.versionState());
  }

  async importBatch(batch: ImportBatch): Promise<BatchResult> {
    if (!this.writable)
      throw new MetallmixError('the knowledge base was opened read-only', {
        location: { file: this.label },
      });
    // A record that does not follow the schema is refused before anything is written.
    batch.records.forEach((record, i) => {
      const checked = ExperimentRecord.safeParse(record);
      if (!checked.success)
        throw new MetallmixError(`invalid record: ${describeIssues(checked.error)}`, {
          location: { file: this.label, field: `records.${i}` },
        });
    });
    // ON CONFLICT, not OR IGNORE: only a duplicate id is skipped, never a constraint violation.
    const insert = this.db.prepare(
      'INSERT INTO records (id, dataset, model, status, source, body) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING',
    );
    const write = this.db.transaction((): BatchResult => {
      const delta: VersionDelta = { added: [], removed: [] };
      const addedIds = new Set<string>();
      for (const record of batch.records) {
        const id = recordId(record);
        const r = insert.run(
          id,
          record.dataset,
          record.model,
          record.status,
          record.provenance.source,
          JSON.stringify(record),
        );
        if (r.changes === 1) {
          addedIds.add(id);
          delta.added.push(recordElement(id));
        }
      }
      // Declared last: a conflict here must roll back everything written above.
      this.declare(batch.hyperparameters ?? [], delta, batch.declaredIn);
      const result = {
        addedIds,
        profiles: this.upsert(
          'dataset_profiles',
          'name',
          (batch.profiles ?? []).map((p) => [p.name, p]),
          profileElement,
          delta,
        ),
        models: this.upsert(
          'model_cards',
          'id',
          (batch.models ?? []).map((m) => [m.id, m]),
          modelElement,
          delta,
        ),
      };
      this.storeVersion(delta);
      return result;
    });
    try {
      return write.immediate();
    } catch (err) {
      if (err instanceof MetallmixError) throw err;
      throw new MetallmixError(`could not write to the knowledge base: ${(err as Error).message}`, {
        location: { file: this.label },
        exitCode: ExitCode.unavailable,
        cause: err,
      });
    }
  }

  /** Applies a batch's delta to the stored state, inside the batch's transaction. */
  private storeVersion(delta: VersionDelta): void {
    if (delta.added.length === 0 && delta.removed.length === 0) return;
    // A writable connection was migrated when opened, so the state row exists.
    const before = readVersionState(this.db)!;
    const after = addElements(removeElements(before, delta.removed), delta.added);
    this.db
      .prepare('UPDATE content_version SET count = ?, sum = ? WHERE id = 1')
      .run(after.count, after.sum);
  }

  private upsert(
    table: string,
    key: string,
    items: [string, unknown][],
    element: (key: string, body: string) => string,
    delta: VersionDelta,
  ): UpsertCounts {
    const counts: UpsertCounts = { added: 0, updated: 0, unchanged: 0 };
    const get = this.db.prepare(`SELECT body FROM ${table} WHERE ${key} = ?`);
    const put = this.db.prepare(`INSERT OR REPLACE INTO ${table} (${key}, body) VALUES (?, ?)`);
    for (const [k, value] of items) {
      const body = canonicalJson(value);
      const existing = get.get(k) as { body: string } | undefined;
      if (existing?.body === body) counts.unchanged++;
      else {
        put.run(k, body);
        if (existing) delta.removed.push(element(k, existing.body));
        delta.added.push(element(k, body));
        counts[existing ? 'updated' : 'added']++;
      }
    }
    return counts;
  }

  private declare(
    params: DeclaredHyperparameter[],
    delta: VersionDelta,
    declaredIn?: string,
  ): void {
    const get = this.db.prepare('SELECT body FROM hyperparameters WHERE name = ?');
    const put = this.db.prepare('INSERT INTO hyperparameters (name, body) VALUES (?, ?)');
    const update = this.db.prepare('UPDATE hyperparameters SET body = ? WHERE name = ?');
    params.forEach((p, i) => {
      const existing = get.get(p.name) as { body: string } | undefined;
      const previous = existing ? (JSON.parse(existing.body) as DeclaredHyperparameter) : undefined;
      if (previous && previous.type !== p.type)
        throw new MetallmixError(
          `hyperparameter "${p.name}" is ${p.type} here but already stored as ${previous.type}; rename it in the mapping`,
          { location: { file: declaredIn, field: `hyperparameters.${i}.type` } },
        );
      const body = canonicalJson(p);
      if (existing?.body === body) return;
      // Stored rows keep their rowid (declaration order) unless the declaration is new.
      if (existing) {
        update.run(body, p.name);
        delta.removed.push(declarationElement(p.name, existing.body));
      } else put.run(p.name, body);
      delta.added.push(declarationElement(p.name, body));
    });
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

/** Pragmas every connection gets: a busy timeout, and WAL for writable files. */
export function configure(db: Database.Database): void {
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  if (!db.readonly && !db.memory) db.pragma('journal_mode = WAL');
}

export interface OpenSqliteOptions {
  /** Read only: never create, migrate or write; the file must be a metallmix knowledge base. */
  readonly?: boolean;
}

/** Tables of a metallmix knowledge base; a file with a schema version but other tables is foreign. */
const OWN_TABLES = ['records', 'dataset_profiles', 'model_cards'];

function tablesOf(db: Database.Database): string[] {
  return (
    db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]
  ).map((t) => t.name);
}

/**
 * Opens (or, unless read-only, creates) a SQLite knowledge base file. A file that is not one
 * (another SQLite database, anything else) is refused before anything is written to it.
 */
export function openSqliteKnowledgeBase(
  file: string,
  options: OpenSqliteOptions = {},
): SqliteKnowledgeBase {
  const readonly = Boolean(options.readonly);
  if (readonly && !existsSync(file))
    throw new MetallmixError(
      'no knowledge base at this path; create one with `metallmix import ... --kb PATH`',
      { location: { file }, exitCode: ExitCode.badInput },
    );
  if (!readonly) mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(file, { readonly, fileMustExist: readonly });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  } catch (err) {
    throw new MetallmixError(`cannot open the knowledge base: ${(err as Error).message}`, {
      location: { file },
      cause: err,
    });
  }
  try {
    const version = schemaVersion(db);
    const tables = tablesOf(db);
    const own = OWN_TABLES.every((t) => tables.includes(t));
    if (!own && (version !== 0 || tables.length > 0))
      throw new MetallmixError(
        `not a metallmix knowledge base: an SQLite database with tables ${tables.slice(0, 6).join(', ')}${tables.length > 6 ? ', ...' : ''}${tables.includes('studies') && tables.includes('trials') ? ' (an Optuna storage: import it with `metallmix import FILE --format optuna`)' : ''}`,
        { location: { file } },
      );
    if (readonly) {
      if (version > SCHEMA_VERSION)
        throw new MetallmixError(
          `the knowledge base has schema version ${version}, newer than this metallmix knows (${SCHEMA_VERSION}); upgrade metallmix`,
          { location: { file } },
        );
      if (version < OLDEST_READABLE_SCHEMA)
        throw new MetallmixError(
          version === 0
            ? 'not a metallmix knowledge base (an empty SQLite file)'
            : `schema version ${version} needs migrating to ${SCHEMA_VERSION}; import into it once to upgrade it`,
          { location: { file } },
        );
    } else {
      configure(db);
      migrate(db, file);
    }
  } catch (err) {
    db.close();
    if (err instanceof MetallmixError) throw err;
    throw new MetallmixError(`not a metallmix knowledge base: ${(err as Error).message}`, {
      location: { file },
      cause: err,
    });
  }
  return new SqliteKnowledgeBase(db, file, 'sqlite', {
    kind: 'file',
    path: `${file}.vectors`,
  });
}
