// The SQLite backend: an embedded file in WAL mode (readers never block the writer), versioned
// migrations, and writes in IMMEDIATE transactions with a busy timeout so concurrent importers
// queue instead of failing. better-sqlite3 is synchronous; the methods are async to honour the
// contract every backend shares.
import { rmSync } from 'node:fs';
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
import { ensureDirectory } from '../../core/files.ts';
import { mergeDeclarations } from '../declarations.ts';
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
import { fileKind, isOptunaSchema } from '../file-kind.ts';
import { canonicalJson, recordId } from '../fingerprint.ts';
import type {
  BatchResult,
  DeclaredHyperparameter,
  ImportBatch,
  IndexLocation,
  KbSnapshot,
  KnowledgeBase,
  RecordFilter,
  SnapshotOptions,
  StoredRecord,
  StreamResult,
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
/** Page cache while a streamed import writes (negative: KiB). */
const IMPORT_CACHE_KIB = -65536;

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

  /** A file created for an import that failed (and nothing else) is removed on close. */
  private committed = false;
  private failed = false;

  constructor(
    private readonly db: Database.Database,
    readonly label: string,
    readonly backend: string,
    readonly indexLocation: IndexLocation,
    /** The file this instance created (it did not exist before). */
    private readonly createdFile?: string,
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
   * The committed content-version state: one row, maintained by every write. A file of schema 2
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

  async snapshot(options: SnapshotOptions = {}): Promise<KbSnapshot> {
    if (options.maxRecords !== undefined) {
      const total = (this.db.prepare('SELECT COUNT(*) AS n FROM records').get() as { n: number }).n;
      if (total > options.maxRecords) return this.sample(options.maxRecords, total);
    }
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

  /** The records with the smallest ids, and the version of the whole, in one read transaction. */
  private sample(limit: number, total: number): KbSnapshot {
    const read = this.db.transaction(() => {
      const parse = <T>(sql: string) =>
        (this.db.prepare(sql).all() as { body: string }[]).map((r) => JSON.parse(r.body) as T);
      const profiles = parse<DatasetProfile>('SELECT body FROM dataset_profiles ORDER BY name');
      const models = parse<ModelCard>('SELECT body FROM model_cards ORDER BY id');
      const hyperparameters = parse<DeclaredHyperparameter>(
        'SELECT body FROM hyperparameters ORDER BY rowid',
      );
      const version = versionOf(this.versionState());
      const rows = this.db
        .prepare('SELECT id, body FROM records ORDER BY id LIMIT ?')
        .all(limit) as { id: string; body: string }[];
      const records = rows.map((row) => ({
        ...(JSON.parse(row.body) as ExperimentRecord),
        id: row.id,
      }));
      return { version, records, totalRecords: total, profiles, models, hyperparameters };
    });
    return read();
  }

  async records(filter: RecordFilter = {}): Promise<StoredRecord[]> {
    return this.parsedRecords(this.content(), filter);
  }

  async version(): Promise<string> {
    return versionOf(this.versionState());
  }

  private checkWritable(): void {
    if (!this.writable)
      throw new MetallmixError('the knowledge base was opened read-only', {
        location: { file: this.label },
      });
  }

  /** Writes one batch inside the caller's transaction; returns the ids it added. */
  private write(batch: ImportBatch, added: (id: string) => void) {
    // A record that does not follow the schema is refused before anything is written.
    batch.records.forEach((record, i) => {
      const checked = ExperimentRecord.safeParse(record);
      if (!checked.success)
        throw new MetallmixError(`invalid record: ${describeIssues(checked.error)}`, {
          location: { file: this.label, field: `records.${i}` },
        });
    });
    const delta: VersionDelta = { added: [], removed: [] };
    // Declared first: a conflict fails the batch before a record is written.
    this.declare(batch, delta);
    // ON CONFLICT, not OR IGNORE: only a duplicate id is skipped, never a constraint violation.
    const insert = this.db.prepare(
      'INSERT INTO records (id, dataset, model, status, source, body) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING',
    );
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
        added(id);
        delta.added.push(recordElement(id));
      }
    }
    const counts = {
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
    return counts;
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

  async importBatch(batch: ImportBatch): Promise<BatchResult> {
    this.checkWritable();
    const run = this.db.transaction((): BatchResult => {
      const addedIds = new Set<string>();
      const counts = this.write(batch, (id) => addedIds.add(id));
      return { addedIds, ...counts };
    });
    try {
      const result = run.immediate();
      this.committed = true;
      return result;
    } catch (err) {
      this.failed = true;
      throw sqliteFailure(err, this.label, 'could not write to the knowledge base');
    }
  }

  async importStream(batches: AsyncIterable<ImportBatch>): Promise<StreamResult> {
    this.checkWritable();
    // better-sqlite3 transactions are synchronous; this one stays open while the batches are
    // read, which the contract allows (one caller per instance). Readers are never blocked (WAL).
    // A large import inserts hashed ids (random places in the index): with SQLite's default 2 MB
    // page cache every insert would evict and rewrite pages; 64 MB keeps the index in memory.
    const cacheSize = this.db.pragma('cache_size', { simple: true }) as number;
    this.db.pragma(`cache_size = ${IMPORT_CACHE_KIB}`);
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      this.db.pragma(`cache_size = ${cacheSize}`);
      this.failed = true;
      throw sqliteFailure(err, this.label, 'could not write to the knowledge base');
    }
    const result: StreamResult = {
      addedPerBatch: [],
      profiles: { added: 0, updated: 0, unchanged: 0 },
      models: { added: 0, updated: 0, unchanged: 0 },
    };
    try {
      for await (const batch of batches) {
        let added = 0;
        const counts = this.write(batch, () => added++);
        result.addedPerBatch.push(added);
        for (const k of ['added', 'updated', 'unchanged'] as const) {
          result.profiles[k] += counts.profiles[k];
          result.models[k] += counts.models[k];
        }
      }
      this.db.exec('COMMIT');
      this.committed = true;
      return result;
    } catch (err) {
      this.failed = true;
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw sqliteFailure(err, this.label, 'could not write to the knowledge base');
    } finally {
      this.db.pragma(`cache_size = ${cacheSize}`);
    }
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

  private declare(batch: ImportBatch, delta: VersionDelta): void {
    if (!batch.hyperparameters?.length) return;
    const rows = this.db.prepare('SELECT body FROM hyperparameters ORDER BY rowid').all() as {
      body: string;
    }[];
    const stored = rows.map((r) => JSON.parse(r.body) as DeclaredHyperparameter);
    const storedBody = new Map(stored.map((d, i) => [d.name, rows[i]!.body]));
    const writes = mergeDeclarations(stored, batch.hyperparameters, {
      redeclare: batch.redeclare,
      declaredIn: batch.declaredIn,
    });
    const put = this.db.prepare('INSERT INTO hyperparameters (name, body) VALUES (?, ?)');
    const update = this.db.prepare('UPDATE hyperparameters SET body = ? WHERE name = ?');
    // Stored rows keep their rowid (declaration order) unless the declaration is new.
    for (const d of writes) {
      const body = canonicalJson(d);
      const before = storedBody.get(d.name);
      if (before === body) continue;
      if (before !== undefined) {
        update.run(body, d.name);
        delta.removed.push(declarationElement(d.name, before));
      } else put.run(d.name, body);
      delta.added.push(declarationElement(d.name, body));
    }
  }

  private isEmpty(): boolean {
    return ['records', 'dataset_profiles', 'model_cards', 'hyperparameters'].every(
      (t) => !this.db.prepare(`SELECT 1 FROM ${t} LIMIT 1`).get(),
    );
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    // A knowledge base created for an import that failed leaves no file behind. (Another process
    // that created the same new path at the same moment and has not committed yet would lose its
    // file too; it then fails its own commit rather than losing data silently.)
    const remove =
      this.createdFile !== undefined && this.failed && !this.committed && this.isEmpty();
    this.db.close();
    if (remove)
      for (const suffix of ['', '-wal', '-shm', '-journal'])
        rmSync(`${this.createdFile}${suffix}`, { force: true });
  }
}

/** A failed SQLite call as a MetallmixError: a full disk or a lock is unavailable (exit 4). */
export function sqliteFailure(err: unknown, file: string, doing: string): Error {
  if (err instanceof MetallmixError) return err;
  const code = String((err as { code?: unknown }).code ?? '');
  // An error without a code is not SQLite's nor the system's (a streamed source's reader failing,
  // say): blaming the knowledge base would hide where it came from.
  if (!code && err instanceof Error) return err;
  const message = err instanceof Error ? err.message : String(err);
  const [reason, exitCode] = code.startsWith('SQLITE_FULL')
    ? ['the disk is full', ExitCode.unavailable]
    : isBusy(err)
      ? [
          `the file is locked by another process (waited ${BUSY_TIMEOUT_MS / 1000} s); try again when it is done`,
          ExitCode.unavailable,
        ]
      : code.startsWith('SQLITE_READONLY')
        ? ['the file or its folder is read-only', ExitCode.unavailable]
        : code.startsWith('SQLITE_IOERR')
          ? [`an I/O error (${message})`, ExitCode.unavailable]
          : code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB')
            ? ['the file is damaged or not a database', ExitCode.badInput]
            : code.startsWith('SQLITE_CANTOPEN')
              ? ['the file cannot be opened (a missing folder or no permission)', ExitCode.badInput]
              : [message, ExitCode.unavailable];
  return new MetallmixError(`${doing}: ${reason}`, {
    location: { file },
    exitCode,
    cause: err,
  });
}

function isBusy(err: unknown): boolean {
  const code = String((err as { code?: unknown }).code ?? '');
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
}

/**
 * Runs `step` again while SQLite reports the file busy, for up to the busy timeout. Needed for
 * steps SQLite does not hand to its busy handler: switching a new file to WAL while another
 * process is creating the same file fails at once with SQLITE_BUSY instead of waiting.
 */
function retryWhileBusy<T>(step: () => T): T {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 0; ; attempt++) {
    try {
      return step();
    } catch (err) {
      if (!isBusy(err) || Date.now() >= deadline) throw err;
      Atomics.wait(pause, 0, 0, Math.min(10 * 2 ** attempt, 200));
    }
  }
}

/** Pragmas every connection gets: a busy timeout, and WAL for writable files. */
export function configure(db: Database.Database): void {
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  if (!db.readonly && !db.memory) retryWhileBusy(() => db.pragma('journal_mode = WAL'));
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

function foreignError(file: string, tables: string[]): MetallmixError {
  return new MetallmixError(
    `not a metallmix knowledge base: an SQLite database with tables ${tables.slice(0, 6).join(', ')}${tables.length > 6 ? ', ...' : ''}${isOptunaSchema(tables) ? ' (an Optuna storage: import it with `metallmix import FILE --format optuna`)' : ''}`,
    { location: { file } },
  );
}

/**
 * Opens (or, unless read-only, creates) a SQLite knowledge base file. A file that is not one
 * (another SQLite database, an Optuna storage, anything else) is recognised from its first bytes
 * and refused before SQLite opens it, so nothing is ever written to it or beside it.
 */
export function openSqliteKnowledgeBase(
  file: string,
  options: OpenSqliteOptions = {},
): SqliteKnowledgeBase {
  const readonly = Boolean(options.readonly);
  const kind = fileKind(file, 'the knowledge base');
  if (kind.kind === 'missing' && readonly)
    throw new MetallmixError(
      'no knowledge base at this path; create one with `metallmix import ... --kb PATH`',
      { location: { file }, exitCode: ExitCode.badInput },
    );
  if (kind.kind === 'other')
    throw new MetallmixError(`not a metallmix knowledge base: it is ${kind.what}`, {
      location: { file },
    });
  if (kind.kind === 'empty' && readonly)
    throw new MetallmixError('not a metallmix knowledge base (an empty SQLite file)', {
      location: { file },
    });
  if (
    kind.kind === 'sqlite' &&
    kind.tables?.length &&
    !OWN_TABLES.every((t) => kind.tables!.includes(t))
  )
    throw foreignError(file, kind.tables);
  const created = kind.kind === 'missing';
  if (!readonly) ensureDirectory(path.dirname(path.resolve(file)), 'the knowledge base folder');
  let db: Database.Database;
  try {
    db = new Database(file, { readonly, fileMustExist: readonly });
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  } catch (err) {
    throw sqliteFailure(err, file, 'cannot open the knowledge base');
  }
  try {
    const [version, tables] = retryWhileBusy(() => [schemaVersion(db), tablesOf(db)] as const);
    const own = OWN_TABLES.every((t) => tables.includes(t));
    if (!own && (version !== 0 || tables.length > 0)) throw foreignError(file, tables);
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
      retryWhileBusy(() => migrate(db, file));
    }
  } catch (err) {
    db.close();
    // A busy file is another process's new knowledge base by now: it is not ours to remove.
    if (created && !isBusy(err))
      for (const suffix of ['', '-wal', '-shm', '-journal'])
        rmSync(`${file}${suffix}`, { force: true });
    if (err instanceof MetallmixError) throw err;
    throw sqliteFailure(err, file, 'cannot open the knowledge base');
  }
  return new SqliteKnowledgeBase(
    db,
    file,
    'sqlite',
    { kind: 'file', path: `${file}.vectors` },
    created ? file : undefined,
  );
}
