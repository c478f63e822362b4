// The knowledge base: the only way in or out of experiment records. An embedded SQLite file in
// WAL mode (readers never block the writer), versioned migrations, and writes in IMMEDIATE
// transactions with a busy timeout so concurrent importers queue instead of failing.
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import {
  DatasetProfile,
  ExperimentRecord,
  Hyperparameter,
  MetallmixError,
  ModelCard,
  type ParamValue,
  type RunStatus,
  type SearchSpace,
} from '../core/index.ts';
import { canonicalJson, recordId, sha256 } from './fingerprint.ts';
import { loadMapping, type HyperparameterSpec } from './mapping.ts';
import { SCHEMA_VERSION, migrate, schemaVersion } from './migrations.ts';
import { importFiles } from './import.ts';

export interface RecordFilter {
  dataset?: string;
  model?: string;
  status?: RunStatus;
}

export type StoredRecord = ExperimentRecord & { id: string };

export interface KbStats {
  version: string;
  records: number;
  datasets: number;
  models: number;
  byStatus: Record<string, number>;
  bySource: Record<string, number>;
  perDataset: { dataset: string; records: number; models: number }[];
}

/** A hyperparameter as declared by a mapping or a source: type, scale, condition, no range. */
export type DeclaredHyperparameter = Pick<
  HyperparameterSpec,
  'name' | 'type' | 'log' | 'condition' | 'choices' | 'description'
>;

/** What one import writes, in one transaction. */
export interface ImportBatch {
  records: ExperimentRecord[];
  profiles?: DatasetProfile[];
  models?: ModelCard[];
  hyperparameters?: DeclaredHyperparameter[];
  /** The mapping file the declarations come from, named in conflict errors. */
  declaredIn?: string;
}

export interface UpsertCounts {
  added: number;
  updated: number;
  unchanged: number;
}

export interface BatchResult {
  /** Ids of the records that were new to the knowledge base. */
  addedIds: Set<string>;
  profiles: UpsertCounts;
  models: UpsertCounts;
}

export interface KnowledgeBase {
  /** File path, or a label like 'builtin:medmnist' for the built-in one. */
  readonly path: string;
  records(filter?: RecordFilter): StoredRecord[];
  datasetProfiles(): DatasetProfile[];
  datasetProfile(name: string): DatasetProfile | undefined;
  modelCards(): ModelCard[];
  /** Declared hyperparameters with low/high and choices as observed in the stored records. */
  searchSpace(): SearchSpace;
  /** Content hash: changes iff records, profiles or model cards change. */
  version(): string;
  stats(): KbStats;
  /** Writes a batch atomically; records already stored (same id) are skipped. */
  importBatch(batch: ImportBatch): BatchResult;
  close(): void;
}

const BUSY_TIMEOUT_MS = 30_000;

class SqliteKnowledgeBase implements KnowledgeBase {
  // Raw rows, not parsed records, are cached: records() parses afresh, so a caller that mutates
  // what it got cannot corrupt what the next caller sees.
  private cache:
    { stamp: string; rows: { id: string; body: string }[]; version: string } | undefined;

  constructor(
    private readonly db: Database.Database,
    readonly path: string,
  ) {}

  /** Changes whenever this or another connection committed a write. */
  private stamp(): string {
    const dataVersion = this.db.pragma('data_version', { simple: true });
    const own = (this.db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
    return `${dataVersion}:${own}`;
  }

  private snapshot(): { rows: { id: string; body: string }[]; version: string } {
    const stamp = this.stamp();
    if (this.cache?.stamp === stamp) return this.cache;
    const rows = this.db.prepare('SELECT id, body FROM records ORDER BY rowid').all() as {
      id: string;
      body: string;
    }[];
    const hash = (sql: string) =>
      (this.db.prepare(sql).all() as { k: string; b: string }[])
        .map((r) => `${r.k}\t${r.b}`)
        .join('\n');
    const version = sha256(
      [
        rows
          .map((r) => r.id)
          .sort()
          .join('\n'),
        hash('SELECT name AS k, body AS b FROM dataset_profiles ORDER BY name'),
        hash('SELECT id AS k, body AS b FROM model_cards ORDER BY id'),
      ].join('\n--\n'),
    ).slice(0, 16);
    this.cache = { stamp, rows, version };
    return this.cache;
  }

  records(filter: RecordFilter = {}): StoredRecord[] {
    const out: StoredRecord[] = [];
    for (const row of this.snapshot().rows) {
      const r = JSON.parse(row.body) as ExperimentRecord;
      if (
        (filter.dataset === undefined || r.dataset === filter.dataset) &&
        (filter.model === undefined || r.model === filter.model) &&
        (filter.status === undefined || r.status === filter.status)
      )
        out.push({ ...r, id: row.id });
    }
    return out;
  }

  datasetProfiles(): DatasetProfile[] {
    return this.bodies<DatasetProfile>('SELECT body FROM dataset_profiles ORDER BY name');
  }

  datasetProfile(name: string): DatasetProfile | undefined {
    const row = this.db.prepare('SELECT body FROM dataset_profiles WHERE name = ?').get(name) as
      { body: string } | undefined;
    return row ? (JSON.parse(row.body) as DatasetProfile) : undefined;
  }

  modelCards(): ModelCard[] {
    return this.bodies<ModelCard>('SELECT body FROM model_cards ORDER BY id');
  }

  private declared(): DeclaredHyperparameter[] {
    return this.bodies<DeclaredHyperparameter>('SELECT body FROM hyperparameters ORDER BY rowid');
  }

  /** The JSON `body` column of every row `sql` selects, parsed. */
  private bodies<T>(sql: string): T[] {
    return (this.db.prepare(sql).all() as { body: string }[]).map((r) => JSON.parse(r.body) as T);
  }

  searchSpace(): SearchSpace {
    const records = this.records();
    const parameters: Hyperparameter[] = [];
    for (const d of this.declared()) {
      const values = records.map((r) => r.config[d.name]).filter((v) => v !== undefined);
      if (values.length === 0) continue;
      const base = {
        name: d.name,
        ...(d.condition ? { condition: d.condition } : {}),
        ...(d.description ? { description: d.description } : {}),
      };
      if (d.type === 'float' || d.type === 'int') {
        const nums = values.filter((v): v is number => typeof v === 'number');
        const low = Math.min(...nums);
        parameters.push(
          Hyperparameter.parse({
            ...base,
            type: d.type,
            low,
            high: Math.max(...nums),
            log: Boolean(d.log) && low > 0,
          }),
        );
      } else if (d.type === 'bool') {
        parameters.push(Hyperparameter.parse({ ...base, type: 'bool' }));
      } else {
        parameters.push(
          Hyperparameter.parse({
            ...base,
            type: 'categorical',
            choices: orderChoices(values, d.choices),
          }),
        );
      }
    }
    return { parameters };
  }

  version(): string {
    return this.snapshot().version;
  }

  stats(): KbStats {
    const records = this.records();
    const count = (key: (r: StoredRecord) => string) => {
      const out: Record<string, number> = {};
      for (const r of records) out[key(r)] = (out[key(r)] ?? 0) + 1;
      return out;
    };
    const perDataset = new Map<string, { records: number; models: Set<string> }>();
    for (const r of records) {
      const d = perDataset.get(r.dataset) ?? { records: 0, models: new Set<string>() };
      d.records++;
      d.models.add(r.model);
      perDataset.set(r.dataset, d);
    }
    return {
      version: this.version(),
      records: records.length,
      datasets: perDataset.size,
      models: new Set(records.map((r) => r.model)).size,
      byStatus: count((r) => r.status),
      bySource: count((r) => r.provenance.source),
      perDataset: [...perDataset.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([dataset, d]) => ({ dataset, records: d.records, models: d.models.size })),
    };
  }

  importBatch(batch: ImportBatch): BatchResult {
    if (this.db.readonly)
      throw new MetallmixError('the knowledge base was opened read-only', {
        location: { file: this.path },
      });
    const insert = this.db.prepare(
      'INSERT OR IGNORE INTO records (id, dataset, model, status, source, body) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const write = this.db.transaction((): BatchResult => {
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
        if (r.changes === 1) addedIds.add(id);
      }
      // Declared last: a conflict here must roll back everything written above.
      this.declare(batch.hyperparameters ?? [], batch.declaredIn);
      return {
        addedIds,
        profiles: this.upsert(
          'dataset_profiles',
          'name',
          (batch.profiles ?? []).map((p) => [p.name, p]),
        ),
        models: this.upsert(
          'model_cards',
          'id',
          (batch.models ?? []).map((m) => [m.id, m]),
        ),
      };
    });
    return write.immediate();
  }

  private upsert(table: string, key: string, items: [string, unknown][]): UpsertCounts {
    const counts: UpsertCounts = { added: 0, updated: 0, unchanged: 0 };
    const get = this.db.prepare(`SELECT body FROM ${table} WHERE ${key} = ?`);
    const put = this.db.prepare(`INSERT OR REPLACE INTO ${table} (${key}, body) VALUES (?, ?)`);
    for (const [k, value] of items) {
      const body = canonicalJson(value);
      const existing = get.get(k) as { body: string } | undefined;
      if (existing?.body === body) counts.unchanged++;
      else {
        put.run(k, body);
        counts[existing ? 'updated' : 'added']++;
      }
    }
    return counts;
  }

  private declare(params: DeclaredHyperparameter[], declaredIn?: string): void {
    const get = this.db.prepare('SELECT body FROM hyperparameters WHERE name = ?');
    const put = this.db.prepare(
      'INSERT OR REPLACE INTO hyperparameters (name, body) VALUES (?, ?)',
    );
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
      if (existing)
        this.db.prepare('UPDATE hyperparameters SET body = ? WHERE name = ?').run(body, p.name);
      else put.run(p.name, body);
    });
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Declared choices first, in their order; then the other observed values, numbers before text. */
function orderChoices(values: ParamValue[], declared?: ParamValue[]): ParamValue[] {
  const seen = new Map<string, ParamValue>();
  for (const v of values) seen.set(`${typeof v}:${String(v)}`, v);
  const out: ParamValue[] = [];
  for (const d of declared ?? []) {
    const k = `${typeof d}:${String(d)}`;
    if (seen.has(k)) {
      out.push(d);
      seen.delete(k);
    }
  }
  const rest = [...seen.values()].sort((a, b) =>
    typeof a === 'number' && typeof b === 'number'
      ? a - b
      : typeof a === 'number'
        ? -1
        : typeof b === 'number'
          ? 1
          : String(a).localeCompare(String(b)),
  );
  return [...out, ...rest];
}

function configure(db: Database.Database): void {
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  if (!db.readonly && !db.memory) db.pragma('journal_mode = WAL');
}

export interface OpenOptions {
  readonly?: boolean;
  /** Fail instead of creating a new knowledge base when the file is missing. */
  mustExist?: boolean;
}

export function openKnowledgeBase(file: string, options: OpenOptions = {}): KnowledgeBase {
  const memory = file === ':memory:';
  if (!memory && (options.readonly || options.mustExist) && !existsSync(file))
    throw new MetallmixError(
      'no knowledge base at this path; create one with `metallmix import ... --kb PATH`',
      {
        location: { file },
      },
    );
  if (!memory && !options.readonly)
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(file, {
      readonly: Boolean(options.readonly),
      fileMustExist: Boolean(options.readonly),
    });
    configure(db);
  } catch (err) {
    throw new MetallmixError(`cannot open the knowledge base: ${(err as Error).message}`, {
      location: { file },
      cause: err,
    });
  }
  try {
    if (options.readonly) {
      if (schemaVersion(db) !== SCHEMA_VERSION)
        throw new MetallmixError(
          `schema version ${schemaVersion(db)} needs migrating to ${SCHEMA_VERSION}; open it once without read-only`,
          { location: { file } },
        );
    } else migrate(db, file);
  } catch (err) {
    db.close();
    if (err instanceof MetallmixError) throw err;
    throw new MetallmixError(`not a metallmix knowledge base: ${(err as Error).message}`, {
      location: { file },
      cause: err,
    });
  }
  return new SqliteKnowledgeBase(db, file);
}

export const BUILTIN_LABEL = 'builtin:medmnist';
const BUILTIN_DIR = fileURLToPath(new URL('../../data/builtin/', import.meta.url));

let builtinImage: Buffer | undefined;

/**
 * Cache file of the built-in database, keyed by a hash of everything it is built from (the
 * committed files and the code that converts them), so a stale image is never used.
 */
function builtinCacheFile(): string {
  const inputs = [
    ...['medmnist-aggregate.csv', 'mapping.json', 'profiles.json', 'models.json'].map((f) =>
      path.join(BUILTIN_DIR, f),
    ),
    ...['convert.ts', 'mapping.ts', 'sources.ts', 'fingerprint.ts', 'migrations.ts'].map((f) =>
      fileURLToPath(new URL(f, import.meta.url)),
    ),
  ];
  const hash = sha256(inputs.map((f) => readFileSync(f, 'utf8')).join('\0')).slice(0, 16);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'metallmix', `builtin-${hash}.sqlite`);
}

function buildBuiltinImage(): Buffer {
  const db = new Database(':memory:');
  configure(db);
  migrate(db, BUILTIN_LABEL);
  const kb = new SqliteKnowledgeBase(db, BUILTIN_LABEL);
  importFiles(
    kb,
    [path.join(BUILTIN_DIR, 'medmnist-aggregate.csv')],
    loadMapping(path.join(BUILTIN_DIR, 'mapping.json')),
    { sourceLabel: `${BUILTIN_LABEL}/medmnist-aggregate.csv` },
  );
  const image = db.serialize();
  db.close();
  return image;
}

function loadBuiltinImage(): Buffer {
  const cache = builtinCacheFile();
  try {
    return readFileSync(cache);
  } catch {
    const image = buildBuiltinImage();
    try {
      // Write-then-rename: a concurrent reader sees the old state or the whole file, never half.
      mkdirSync(path.dirname(cache), { recursive: true });
      const tmp = `${cache}.${process.pid}.tmp`;
      writeFileSync(tmp, image);
      renameSync(tmp, cache);
      // Images of older inputs are never read again.
      const dir = path.dirname(cache);
      for (const f of readdirSync(dir))
        if (/^builtin-[0-9a-f]+\.sqlite$/.test(f) && f !== path.basename(cache))
          rmSync(path.join(dir, f));
    } catch {
      // A read-only home only costs the rebuild next time.
    }
    return image;
  }
}

/**
 * The starter knowledge base from data/builtin/ (MedMNIST aggregates), as an in-memory copy of
 * a database built once from the committed table and cached by content hash.
 */
export function openBuiltinKnowledgeBase(): KnowledgeBase {
  builtinImage ??= loadBuiltinImage();
  const db = new Database(builtinImage);
  configure(db);
  if (schemaVersion(db) !== SCHEMA_VERSION) {
    db.close();
    builtinImage = buildBuiltinImage();
    return openBuiltinKnowledgeBase();
  }
  return new SqliteKnowledgeBase(db, BUILTIN_LABEL);
}

/** Where `metallmix import` writes when neither --kb nor METALLMIX_KB names a file. */
export function defaultKnowledgeBasePath(): string {
  const base = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'metallmix', 'kb.sqlite');
}

/** The knowledge base to read: --kb, else METALLMIX_KB, else the built-in starter. */
export function resolveKnowledgeBase(kbOption?: string): KnowledgeBase {
  const file = kbOption || process.env.METALLMIX_KB;
  return file ? openKnowledgeBase(file, { mustExist: true }) : openBuiltinKnowledgeBase();
}
