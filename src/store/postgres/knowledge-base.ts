// The PostgreSQL backend: a team's shared knowledge base on one server, through node-postgres.
// Writers take one advisory lock per knowledge base for the length of their transaction, so
// batches from any number of processes and machines apply whole and one after the other (as
// SQLite's BEGIN IMMEDIATE does), records keep the order they were committed in, and no two
// writers can deadlock; readers use MVCC snapshots and never wait for a writer. Every
// transaction that changes the content bumps a generation counter: an instance re-reads the
// content (and recomputes the version with derived.ts) only when the generation moved.
import path from 'node:path';
import pg from 'pg';
import {
  ExitCode,
  ExperimentRecord,
  MetallmixError,
  describeIssues,
  type DatasetProfile,
  type Env,
  type ModelCard,
} from '../../core/index.ts';
import { locations } from '../../core/environment.ts';
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
import { canonicalJson, recordId, sha256 } from '../fingerprint.ts';
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
  UpsertCounts,
} from '../knowledge-base.ts';
import { connectPostgres } from './connect.ts';
import { resolvePostgresLocator, type PostgresSettings } from './locator.ts';
import {
  LOCK,
  SCHEMA_VERSION,
  computeVersionState,
  migrate,
  readVersionState,
  quoteIdent,
  schemaVersion,
  tablesOf,
} from './migrations.ts';
import { PostgresVectorStore } from './vector-store.ts';

/** Rows per INSERT statement: large enough to amortise round trips, small enough for memory. */
const INSERT_CHUNK = 5000;

interface Content {
  generation: string;
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

export class PostgresKnowledgeBase implements KnowledgeBase {
  readonly backend = 'postgresql';
  readonly indexLocation: IndexLocation;
  private cache: Content | undefined;
  private closed = false;
  private readonly s: string;

  constructor(
    private readonly client: pg.Client,
    private readonly settings: PostgresSettings,
    readonly writable: boolean,
    cacheDir: string,
  ) {
    this.s = quoteIdent(settings.schema);
    this.indexLocation = {
      kind: 'database',
      store: new PostgresVectorStore(client, settings.schema, settings.label),
      // One file per database and schema; the label has no password in it.
      localCopy: path.join(cacheDir, 'vectors', `${sha256(settings.label).slice(0, 24)}.vectors`),
    };
  }

  get label(): string {
    return this.settings.label;
  }

  private fail(action: string, err: unknown): never {
    if (err instanceof MetallmixError) throw err;
    throw new MetallmixError(`could not ${action} the knowledge base: ${(err as Error).message}`, {
      location: { file: this.label },
      exitCode: ExitCode.unavailable,
      cause: err,
    });
  }

  private async generation(): Promise<string> {
    const r = await this.client.query<{ generation: string }>(
      `SELECT generation FROM ${this.s}.kb_state`,
    );
    return r.rows[0].generation;
  }

  /** Everything, read in one snapshot, unless the generation says the cached copy is current. */
  private async content(): Promise<Content> {
    try {
      if (this.cache && this.cache.generation === (await this.generation())) return this.cache;
      await this.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        const generation = await this.generation();
        const rows = (
          await this.client.query<{ id: string; body: string }>(
            `SELECT id, body FROM ${this.s}.records ORDER BY seq`,
          )
        ).rows;
        const bodies = async (sql: string) =>
          (await this.client.query<{ body: string }>(sql)).rows.map((r) => r.body);
        const profiles = await bodies(`SELECT body FROM ${this.s}.dataset_profiles ORDER BY name`);
        const models = await bodies(`SELECT body FROM ${this.s}.model_cards ORDER BY id`);
        const declared = await bodies(`SELECT body FROM ${this.s}.hyperparameters ORDER BY seq`);
        const version = versionOf(await this.versionState());
        await this.client.query('COMMIT');
        this.cache = { generation, rows, profiles, models, declared, version };
        return this.cache;
      } catch (err) {
        await this.client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    } catch (err) {
      return this.fail('read', err);
    }
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
    const c = await this.content();
    const parse = <T>(bodies: string[]) => bodies.map((b) => JSON.parse(b) as T);
    // The contract's sample (the smallest ids); read whole here, so memory is not bounded yet.
    const all = this.parsedRecords(c);
    const sampled =
      options.maxRecords !== undefined && all.length > options.maxRecords
        ? all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, options.maxRecords)
        : undefined;
    return {
      version: c.version,
      records: sampled ?? all,
      ...(sampled ? { totalRecords: all.length } : {}),
      profiles: parse<DatasetProfile>(c.profiles),
      models: parse<ModelCard>(c.models),
      hyperparameters: parse<DeclaredHyperparameter>(c.declared),
    };
  }

  async records(filter: RecordFilter = {}): Promise<StoredRecord[]> {
    return this.parsedRecords(await this.content(), filter);
  }

  /**
   * The committed content-version state: one row, maintained by importBatch. A schema-1
   * knowledge base opened read-only has none, and its state is computed from the rows.
   */
  private async versionState(): Promise<VersionState> {
    return (
      (await readVersionState(this.client, this.s)) ??
      (await computeVersionState(this.client, this.s))
    );
  }

  async version(): Promise<string> {
    try {
      return versionOf(await this.versionState());
    } catch (err) {
      return this.fail('read', err);
    }
  }

  async importBatch(batch: ImportBatch): Promise<BatchResult> {
    if (!this.writable)
      throw new MetallmixError('the knowledge base was opened read-only', {
        location: { file: this.label },
      });
    batch.records.forEach((record, i) => {
      const checked = ExperimentRecord.safeParse(record);
      if (!checked.success)
        throw new MetallmixError(`invalid record: ${describeIssues(checked.error)}`, {
          location: { file: this.label, field: `records.${i}` },
        });
    });
    // A run listed twice in one batch is one record: the first occurrence is written.
    const unique = new Map<string, ExperimentRecord>();
    for (const record of batch.records) {
      const id = recordId(record);
      if (!unique.has(id)) unique.set(id, record);
    }
    try {
      await this.client.query('BEGIN');
    } catch (err) {
      return this.fail('write to', err);
    }
    try {
      await this.client.query(`SELECT ${LOCK.write}`, [this.settings.schema]);
      const delta: VersionDelta = { added: [], removed: [] };
      const addedIds = await this.insertRecords(unique);
      for (const id of addedIds) delta.added.push(recordElement(id));
      // Declared after the records: a conflict here must roll back everything written above.
      await this.declare(batch, delta);
      const profiles = await this.upsert(
        'dataset_profiles',
        'name',
        (batch.profiles ?? []).map((p) => [p.name, p]),
        profileElement,
        delta,
      );
      const models = await this.upsert(
        'model_cards',
        'id',
        (batch.models ?? []).map((m) => [m.id, m]),
        modelElement,
        delta,
      );
      if (delta.added.length > 0 || delta.removed.length > 0) {
        // Read under the write lock: no other writer changes the state until this commits.
        const before = (await readVersionState(this.client, this.s))!;
        const after = addElements(removeElements(before, delta.removed), delta.added);
        await this.client.query(
          `UPDATE ${this.s}.kb_state SET generation = generation + 1, content_state = $1`,
          [JSON.stringify(after)],
        );
      }
      await this.client.query('COMMIT');
      return { addedIds, profiles, models };
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      return this.fail('write to', err);
    }
  }

  private async insertRecords(records: Map<string, ExperimentRecord>): Promise<Set<string>> {
    const added = new Set<string>();
    const entries = [...records.entries()];
    for (let i = 0; i < entries.length; i += INSERT_CHUNK) {
      const chunk = entries.slice(i, i + INSERT_CHUNK);
      const columns: string[][] = [[], [], [], [], [], []];
      for (const [id, r] of chunk) {
        columns[0].push(id);
        columns[1].push(r.dataset);
        columns[2].push(r.model);
        columns[3].push(r.status);
        columns[4].push(r.provenance.source);
        columns[5].push(JSON.stringify(r));
      }
      // unnest keeps the array order, so identity values (commit order) follow the batch.
      const result = await this.client.query<{ id: string }>(
        `INSERT INTO ${this.s}.records (id, dataset, model, status, source, body)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        columns,
      );
      for (const row of result.rows) added.add(row.id);
    }
    return added;
  }

  private async upsert(
    table: string,
    key: string,
    items: [string, unknown][],
    element: (key: string, body: string) => string,
    delta: VersionDelta,
  ): Promise<UpsertCounts> {
    const counts: UpsertCounts = { added: 0, updated: 0, unchanged: 0 };
    if (items.length === 0) return counts;
    const existing = new Map(
      (
        await this.client.query<{ k: string; body: string }>(
          `SELECT ${key} AS k, body FROM ${this.s}.${table} WHERE ${key} = ANY($1::text[])`,
          [items.map(([k]) => k)],
        )
      ).rows.map((r) => [r.k, r.body]),
    );
    for (const [k, value] of items) {
      const body = canonicalJson(value);
      const before = existing.get(k);
      if (before === body) {
        counts.unchanged++;
        continue;
      }
      await this.client.query(
        `INSERT INTO ${this.s}.${table} (${key}, body) VALUES ($1, $2)
         ON CONFLICT (${key}) DO UPDATE SET body = EXCLUDED.body`,
        [k, body],
      );
      counts[before === undefined ? 'added' : 'updated']++;
      if (before !== undefined) delta.removed.push(element(k, before));
      delta.added.push(element(k, body));
      existing.set(k, body);
    }
    return counts;
  }

  /** Declares what the batch declares (the rules of declarations.ts), noting the changes. */
  private async declare(batch: ImportBatch, delta: VersionDelta): Promise<void> {
    if (!batch.hyperparameters?.length) return;
    const rows = (
      await this.client.query<{ body: string }>(
        `SELECT body FROM ${this.s}.hyperparameters ORDER BY seq`,
      )
    ).rows;
    const stored = rows.map((r) => JSON.parse(r.body) as DeclaredHyperparameter);
    const storedBody = new Map(stored.map((d, i) => [d.name, rows[i]!.body]));
    const writes = mergeDeclarations(stored, batch.hyperparameters, {
      redeclare: batch.redeclare,
      declaredIn: batch.declaredIn,
    });
    for (const d of writes) {
      const body = canonicalJson(d);
      const before = storedBody.get(d.name);
      if (before === body) continue;
      if (before !== undefined) delta.removed.push(declarationElement(d.name, before));
      delta.added.push(declarationElement(d.name, body));
      // A redeclaration keeps its place (seq): declarations stay in the order first declared.
      if (before !== undefined)
        await this.client.query(`UPDATE ${this.s}.hyperparameters SET body = $1 WHERE name = $2`, [
          body,
          d.name,
        ]);
      else
        await this.client.query(
          `INSERT INTO ${this.s}.hyperparameters (name, body) VALUES ($1, $2)`,
          [d.name, body],
        );
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.end().catch(() => undefined);
  }
}

export interface OpenPostgresOptions {
  /** Read only: never create, migrate or write; the schema must hold a knowledge base. */
  readonly?: boolean;
  env: Env;
}

/** Connects, and unless read-only creates or migrates the knowledge base's schema. */
export async function openPostgresKnowledgeBase(
  locator: string,
  options: OpenPostgresOptions,
): Promise<PostgresKnowledgeBase> {
  const settings = resolvePostgresLocator(locator, options.env);
  const client = await connectPostgres(settings, 'the knowledge base');
  try {
    if (options.readonly) {
      const version = await schemaVersion(client, settings.schema);
      if (version === 0) {
        const tables = await tablesOf(client, settings.schema);
        throw new MetallmixError(
          tables.length
            ? `not a metallmix knowledge base: schema "${settings.schema}" holds tables ${tables.slice(0, 6).join(', ')}`
            : `no knowledge base in schema "${settings.schema}" of this database; create one with \`metallmix import ... --kb URL\``,
          { location: { file: settings.label }, exitCode: ExitCode.badInput },
        );
      }
      if (version > SCHEMA_VERSION)
        throw new MetallmixError(
          `the knowledge base has schema version ${version}, newer than this metallmix knows (${SCHEMA_VERSION}); upgrade metallmix`,
          { location: { file: settings.label } },
        );
      // An older schema is read as it is: migration 2 only adds the content-version state,
      // which versionState() computes from the rows when it is absent.
    } else await migrate(client, settings.schema, settings.label);
  } catch (err) {
    await client.end().catch(() => undefined);
    if (err instanceof MetallmixError) throw err;
    throw new MetallmixError(`cannot open the knowledge base: ${(err as Error).message}`, {
      location: { file: settings.label },
      exitCode: ExitCode.unavailable,
      cause: err,
    });
  }
  return new PostgresKnowledgeBase(
    client,
    settings,
    !options.readonly,
    locations(options.env).cacheDir,
  );
}
