// Reads the studies of an Optuna RDB storage (an SQLite file, or PostgreSQL through an
// in-memory copy: postgres/optuna-storage.ts) as rows of virtual columns, decoding each
// parameter's distribution_json into a typed hyperparameter. Optuna stores every parameter as a
// float "internal representation": a categorical parameter's value is the index of its choice.
import { existsSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { readRegularFile } from '../core/files.ts';
import { ExitCode, MetallmixError, type Env } from '../core/index.ts';
import { jsonNestsDeeper } from '../core/json-text.ts';
import { fileKind } from './file-kind.ts';
import { POSTGRES_SCHEME } from './postgres/locator.ts';
import { copyOptunaStorage, withoutDriver } from './postgres/optuna-storage.ts';
import type { HyperparameterSpec } from './mapping.ts';
import { withSharedColumns, type Cell, type SourceRow, type SourceTable } from './source-table.ts';

export interface DecodedDistribution {
  type: 'float' | 'int' | 'categorical';
  low?: number;
  high?: number;
  log: boolean;
  step?: number;
  choices?: (string | number | boolean)[];
}

/** Decodes Optuna's distribution JSON, current (Float/Int/Categorical) and pre-3.0 names. */
export function decodeDistribution(json: string): DecodedDistribution {
  if (jsonNestsDeeper(json)) throw new Error('distribution_json nests too deep');
  const parsed = JSON.parse(json) as { name: string; attributes: Record<string, unknown> };
  if (!parsed || typeof parsed !== 'object') throw new Error('distribution_json is not an object');
  const a = parsed.attributes ?? {};
  const num = (k: string) => (typeof a[k] === 'number' ? (a[k] as number) : undefined);
  const bounds = { low: num('low'), high: num('high') };
  // Optuna 3 distributions carry log and step themselves; the pre-3.0 names imply them.
  const current = { log: a.log === true, step: num('step') };
  switch (parsed.name) {
    case 'FloatDistribution':
      return { type: 'float', ...bounds, ...current };
    case 'UniformDistribution':
      return { type: 'float', ...bounds, log: false };
    case 'LogUniformDistribution':
      return { type: 'float', ...bounds, log: true };
    case 'DiscreteUniformDistribution':
      return { type: 'float', ...bounds, log: false, step: num('q') };
    case 'IntDistribution':
      return { type: 'int', ...bounds, ...current };
    case 'IntUniformDistribution':
      return { type: 'int', ...bounds, log: false, step: num('step') };
    case 'IntLogUniformDistribution':
      return { type: 'int', ...bounds, log: true, step: num('step') };
    case 'CategoricalDistribution':
      return {
        type: 'categorical',
        log: false,
        choices: a.choices as (string | number | boolean)[],
      };
    default:
      throw new Error(`unknown Optuna distribution "${parsed.name}"`);
  }
}

/** The external value of a parameter from its internal float representation. */
export function decodeParamValue(d: DecodedDistribution, internal: number): Cell {
  if (d.type === 'categorical') {
    const choice = d.choices?.[Math.round(internal)];
    if (choice === undefined) throw new Error(`choice index ${internal} is out of range`);
    return choice;
  }
  return d.type === 'int' ? Math.round(internal) : internal;
}

const REQUIRED_TABLES = ['studies', 'trials', 'trial_params', 'trial_values'];

interface TrialRow {
  trial_id: number;
  number: number;
  state: string;
  datetime_start: string | null;
  datetime_complete: string | null;
}

function seconds(start: string | null, end: string | null): number | null {
  if (!start || !end) return null;
  // Optuna writes naive UTC timestamps ("2024-01-01 10:00:00.123456").
  const t0 = Date.parse(`${start.replace(' ', 'T')}Z`);
  const t1 = Date.parse(`${end.replace(' ', 'T')}Z`);
  return Number.isFinite(t0) && Number.isFinite(t1) ? (t1 - t0) / 1000 : null;
}

/** Largest WAL-mode storage read into memory rather than opened beside its own files. */
const MAX_INMEMORY_STORAGE_BYTES = 2 * 1024 * 1024 * 1024;

/** Waiting for a writer that holds the storage (an Optuna study running now). */
const OPTUNA_BUSY_MS = 5000;

/** A failed read of the storage, said in the user's terms. */
function storageError(err: unknown, file: string): MetallmixError {
  if (err instanceof MetallmixError) return err;
  const code = String((err as { code?: unknown }).code ?? '');
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
    return new MetallmixError(
      `the Optuna storage is locked by another process (a study writing to it?); waited ${OPTUNA_BUSY_MS / 1000} s: try again when it is done`,
      { location: { file }, exitCode: ExitCode.unavailable, cause: err },
    );
  if (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB'))
    return new MetallmixError(
      'not a readable Optuna storage: the SQLite file is damaged or truncated',
      {
        location: { file },
        cause: err,
      },
    );
  if (code === 'SQLITE_ERROR')
    return new MetallmixError(`not an Optuna storage: ${(err as Error).message}`, {
      location: { file },
      cause: err,
    });
  return new MetallmixError(
    `cannot read the Optuna storage: ${err instanceof Error ? err.message : String(err)}`,
    { location: { file }, exitCode: ExitCode.unavailable, cause: err },
  );
}

/** An open storage: its database, how errors name it, and how provenance names it. */
interface Storage {
  db: Database.Database;
  file: string;
  source: string;
}

function tableNames(db: Database.Database): Set<string> {
  return new Set(
    (
      db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]
    ).map((t) => t.name),
  );
}

function readOptunaStudy(storage: Storage, studyName?: string): SourceTable {
  const { db, file } = storage;
  try {
    const tables = tableNames(db);
    const studies = db
      .prepare('SELECT study_id, study_name FROM studies ORDER BY study_id')
      .all() as {
      study_id: number;
      study_name: string;
    }[];
    const study = studyName ? studies.find((s) => s.study_name === studyName) : studies[0];
    if (!study || (!studyName && studies.length !== 1))
      throw new MetallmixError(
        studyName
          ? `no study named "${studyName}"; the storage has: ${studies.map((s) => s.study_name).join(', ') || 'none'}`
          : `the storage holds ${studies.length} studies (${studies.map((s) => s.study_name).join(', ')}); choose one with --study or "study" in the mapping`,
        { location: { file } },
      );
    // One read transaction: a study that writes meanwhile is seen before or after, not half.
    return db.transaction(() => readStudy(storage, study.study_id, study.study_name, tables))();
  } catch (err) {
    throw storageError(err, file);
  }
}

function readStudy(
  { db, file, source }: Storage,
  studyId: number,
  studyName: string,
  tables: Set<string>,
): SourceTable {
  const trials = db
    .prepare(
      'SELECT trial_id, number, state, datetime_start, datetime_complete FROM trials WHERE study_id = ? ORDER BY number',
    )
    .all(studyId) as TrialRow[];
  const cells = new Map<number, Map<string, Cell>>(
    trials.map((t) => [
      t.trial_id,
      new Map<string, Cell>([
        ['study', studyName],
        ['number', t.number],
        ['trial_id', t.trial_id],
        ['run_id', `${studyName}#${t.number}`],
        ['state', t.state],
        ['datetime_start', t.datetime_start],
        ['datetime_complete', t.datetime_complete],
        ['duration_sec', seconds(t.datetime_start, t.datetime_complete)],
      ]),
    ]),
  );
  const columns = new Set<string>(cells.values().next().value?.keys() ?? []);
  const put = (trialId: number, column: string, value: Cell) => {
    cells.get(trialId)?.set(column, value);
    columns.add(column);
  };
  const rowProblems = new Map<number, { column: string; reason: string }>();

  const hasValueType = (
    db.prepare('PRAGMA table_info(trial_values)').all() as { name: string }[]
  ).some((c) => c.name === 'value_type');
  const values = db
    .prepare(
      `SELECT v.trial_id, v.objective, v.value${hasValueType ? ', v.value_type' : ''} FROM trial_values v JOIN trials t ON t.trial_id = v.trial_id WHERE t.study_id = ?`,
    )
    .all(studyId) as {
    trial_id: number;
    objective: number;
    value: number | null;
    value_type?: string;
  }[];
  for (const v of values) {
    const value =
      v.value_type === 'INF_POS' ? Infinity : v.value_type === 'INF_NEG' ? -Infinity : v.value;
    put(v.trial_id, `values.${v.objective}`, value);
    if (v.objective === 0) put(v.trial_id, 'value', value);
  }

  const declared = new Map<string, HyperparameterSpec>();
  const params = db
    .prepare(
      'SELECT p.trial_id, p.param_name, p.param_value, p.distribution_json FROM trial_params p JOIN trials t ON t.trial_id = p.trial_id WHERE t.study_id = ? ORDER BY p.param_id',
    )
    .all(studyId) as {
    trial_id: number;
    param_name: string;
    param_value: number;
    distribution_json: string;
  }[];
  for (const p of params) {
    const column = `params.${p.param_name}`;
    let decoded: DecodedDistribution;
    let value: Cell;
    try {
      decoded = decodeDistribution(p.distribution_json);
      value = decodeParamValue(decoded, p.param_value);
    } catch (err) {
      if (!rowProblems.has(p.trial_id))
        rowProblems.set(p.trial_id, { column, reason: (err as Error).message });
      continue;
    }
    put(p.trial_id, column, value);
    declare(declared, p.param_name, column, decoded);
  }

  for (const [table, prefix] of [
    ['trial_user_attributes', 'user_attrs'],
    ['trial_system_attributes', 'system_attrs'],
  ] as const) {
    if (!tables.has(table)) continue;
    const attrs = db
      .prepare(
        `SELECT a.trial_id, a.key, a.value_json FROM ${table} a JOIN trials t ON t.trial_id = a.trial_id WHERE t.study_id = ?`,
      )
      .all(studyId) as { trial_id: number; key: string; value_json: string }[];
    for (const a of attrs) {
      let value: unknown;
      try {
        value = jsonNestsDeeper(a.value_json) ? a.value_json : JSON.parse(a.value_json);
      } catch {
        value = a.value_json;
      }
      put(
        a.trial_id,
        `${prefix}.${a.key}`,
        value === null || typeof value === 'object'
          ? value === null
            ? null
            : JSON.stringify(value)
          : (value as Cell),
      );
    }
  }

  const curves = new Map<number, { step: number; value: number }[]>();
  if (tables.has('trial_intermediate_values')) {
    const rows = db
      .prepare(
        'SELECT i.trial_id, i.step, i.intermediate_value FROM trial_intermediate_values i JOIN trials t ON t.trial_id = i.trial_id WHERE t.study_id = ? ORDER BY i.trial_id, i.step',
      )
      .all(studyId) as { trial_id: number; step: number; intermediate_value: number | null }[];
    for (const r of rows) {
      if (r.intermediate_value === null || !Number.isFinite(r.intermediate_value)) continue;
      const list = curves.get(r.trial_id) ?? [];
      list.push({ step: r.step, value: r.intermediate_value });
      curves.set(r.trial_id, list);
    }
  }

  const rows: SourceRow[] = trials.map((t) => {
    const own = cells.get(t.trial_id)!;
    return {
      line: t.trial_id,
      where: `trial ${t.number}`,
      problem: rowProblems.get(t.trial_id),
      history: (column: string) =>
        column === 'value' || column === 'values.0' ? curves.get(t.trial_id) : undefined,
      get: (column: string) =>
        own.has(column) ? own.get(column) : columns.has(column) ? null : undefined,
    };
  });
  return {
    file,
    format: 'optuna',
    label: `optuna:${source}#${studyName}`,
    columns,
    rows,
    problems: [],
    declared: [...declared.values()],
  };
}

function declare(
  declared: Map<string, HyperparameterSpec>,
  name: string,
  column: string,
  d: DecodedDistribution,
): void {
  const existing = declared.get(name);
  if (!existing) {
    declared.set(name, {
      name,
      column,
      type: d.type,
      ...(d.type !== 'categorical' ? { log: d.log } : { choices: d.choices }),
      ...(d.step !== undefined && d.type === 'float' ? { description: `step ${d.step}` } : {}),
    });
    return;
  }
  if (d.type === 'categorical' && existing.choices) {
    for (const c of d.choices ?? []) if (!existing.choices.includes(c)) existing.choices.push(c);
  }
}

/**
 * Every study of a storage (or only `studyName`), one table each, so one import takes a whole
 * storage with a study per dataset. Besides the trial columns, each row has its study's
 * `direction` (of the first objective), `study_user_attrs.KEY` and `study_system_attrs.KEY`,
 * so the study name or a study attribute can give the dataset. With several studies, problems
 * are located at `FILE#STUDY`.
 */
export async function readOptunaStorage(
  file: string,
  studyName?: string,
  env: Env = process.env,
): Promise<SourceTable[]> {
  const storage: Storage = POSTGRES_SCHEME.test(withoutDriver(file))
    ? await copyOptunaStorage(file, env).then(({ db, label }) => ({
        db,
        file: label,
        source: label,
      }))
    : { db: openStorage(file), file, source: path.resolve(file) };
  try {
    let studies: { study_id: number; study_name: string }[];
    try {
      const missing = REQUIRED_TABLES.filter((t) => !tableNames(storage.db).has(t));
      if (missing.length)
        throw new MetallmixError(`not an Optuna storage: missing table(s) ${missing.join(', ')}`, {
          location: { file: storage.file },
        });
      studies = storage.db
        .prepare('SELECT study_id, study_name FROM studies ORDER BY study_id')
        .all() as typeof studies;
    } catch (err) {
      throw storageError(err, storage.file);
    }
    if (studyName !== undefined)
      return [withStudyColumns(readOptunaStudy(storage, studyName), storage.db, studyName)];
    if (studies.length === 0)
      throw new MetallmixError('the Optuna storage holds no study', {
        location: { file: storage.file },
      });
    const tables = studies.map((s) => {
      const table = withStudyColumns(
        readOptunaStudy(storage, s.study_name),
        storage.db,
        s.study_name,
      );
      return studies.length > 1 ? { ...table, file: `${storage.file}#${s.study_name}` } : table;
    });
    return withSharedColumns(tables);
  } finally {
    storage.db.close();
  }
}

/**
 * Opens a storage read-only after checking from its first bytes that it is an SQLite file (a
 * text, gzip or truncated file is said as such). Opening a WAL-mode file, even read-only,
 * creates -wal and -shm files beside it: a storage without them is read from an in-memory copy
 * instead, so nothing is ever written beside the user's storage.
 */
function openStorage(file: string): Database.Database {
  const kind = fileKind(file, 'the Optuna storage');
  if (kind.kind !== 'sqlite')
    throw new MetallmixError(
      `not an Optuna storage (an SQLite file): ${kind.kind === 'missing' ? 'no such file' : kind.kind === 'empty' ? 'the file is empty' : `it is ${kind.what}`}${kind.kind === 'other' && kind.what.startsWith('a text') ? '; for a CSV export use --format csv or wandb' : ''}`,
      { location: { file } },
    );
  let db: Database.Database;
  try {
    if (kind.wal && !existsSync(`${file}-wal`)) {
      const image = readRegularFile(file, 'the Optuna storage', MAX_INMEMORY_STORAGE_BYTES);
      image[18] = 1;
      image[19] = 1;
      db = new Database(image, { readonly: true });
    } else db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma(`busy_timeout = ${OPTUNA_BUSY_MS}`);
  } catch (err) {
    throw new MetallmixError(`cannot open Optuna storage: ${(err as Error).message}`, {
      location: { file },
      cause: err,
    });
  }
  return db;
}

/** Adds the study's direction and attributes to every row of its table. */
function withStudyColumns(table: SourceTable, db: Database.Database, study: string): SourceTable {
  const extra = new Map<string, Cell>();
  const tables = tableNames(db);
  const id = (
    db.prepare('SELECT study_id FROM studies WHERE study_name = ?').get(study) as
      { study_id: number } | undefined
  )?.study_id;
  if (tables.has('study_directions')) {
    const d = db
      .prepare('SELECT direction FROM study_directions WHERE study_id = ? ORDER BY objective')
      .get(id) as { direction: string } | undefined;
    if (d) extra.set('direction', d.direction);
  }
  for (const [name, prefix] of [
    ['study_user_attributes', 'study_user_attrs'],
    ['study_system_attributes', 'study_system_attrs'],
  ] as const) {
    if (!tables.has(name)) continue;
    const attrs = db
      .prepare(`SELECT key, value_json FROM ${name} WHERE study_id = ? ORDER BY key`)
      .all(id) as { key: string; value_json: string }[];
    for (const a of attrs) {
      let value: unknown;
      try {
        value = JSON.parse(a.value_json);
      } catch {
        value = a.value_json;
      }
      extra.set(
        `${prefix}.${a.key}`,
        value === null ? null : typeof value === 'object' ? JSON.stringify(value) : (value as Cell),
      );
    }
  }
  if (extra.size === 0) return table;
  const columns = new Set([...table.columns, ...extra.keys()]);
  return {
    ...table,
    columns,
    rows: table.rows.map((row) => ({
      ...row,
      get: (column: string) => (extra.has(column) ? extra.get(column) : row.get(column)),
    })),
  };
}
