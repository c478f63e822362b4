// Readers that turn a file into rows of named cells, so one mapping applies to every format.
import path from 'node:path';
import { parseCsvRecords } from '../core/csv.ts';
import { readTextFile } from '../core/text-file.ts';
import { MetallmixError, type Env } from '../core/index.ts';
import type { Mapping, SourceFormat } from './mapping.ts';
import { isMlflowFileStore, readMlflowFileStore } from './mlflow-files.ts';
import { isHttpUrl, readMlflowServer } from './mlflow-rest.ts';
import { readOptunaStorage } from './optuna.ts';
import type { Cell, RowProblem, SourceRow, SourceTable } from './source-table.ts';

export function detectFormat(file: string): SourceFormat {
  if (isHttpUrl(file) || isMlflowFileStore(file)) return 'mlflow';
  const ext = path.extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.db' || ext === '.sqlite' || ext === '.sqlite3') return 'optuna';
  return 'csv';
}

export interface ReadOptions {
  /** One Optuna study; without it, every study of the storage. */
  study?: string;
  /** The mapping, so a reader fetches only what it reads (MLflow metric histories). */
  mapping?: Mapping;
  /** Credentials of remote sources (MLflow tracking server). */
  env?: Env;
}

/**
 * The tables of a source: one for a file, one per study of an Optuna storage, one per
 * experiment of an MLflow file store or tracking server (a URL).
 */
export async function readSources(
  file: string,
  format: SourceFormat,
  options: ReadOptions = {},
): Promise<SourceTable[]> {
  switch (format) {
    case 'csv':
    case 'wandb':
      return [readCsv(file, format)];
    case 'jsonl':
      return [readJsonl(file)];
    case 'optuna':
      return readOptunaStorage(file, options.study);
    case 'mlflow':
      return isHttpUrl(file)
        ? readMlflowServer(file, { env: options.env ?? process.env, mapping: options.mapping })
        : readMlflowFileStore(file);
  }
}

/**
 * Names header cells; a name seen before becomes `name#2`, `name#3`: W&B exports repeat a
 * name when a config key and a summary key share it (config columns come first).
 */
export function nameColumns(header: string[]): string[] {
  const seen = new Map<string, number>();
  return header.map((raw) => {
    const name = raw.trim();
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    return n === 1 ? name : `${name}#${n}`;
  });
}

function readCsv(file: string, format: SourceFormat): SourceTable {
  const parsed = parseCsvRecords(readTextFile(file, 'source file'), file, {
    relax_column_count: true,
  });
  if (parsed.length === 0) throw new MetallmixError('the file is empty', { location: { file } });
  const names = nameColumns(parsed[0].record);
  const index = new Map(names.map((n, i) => [n, i]));
  const rows: SourceRow[] = [];
  const problems: RowProblem[] = [];
  for (const { record, info } of parsed.slice(1)) {
    // info.lines is where the record ends; quoted cells may span lines.
    const line = info.lines - record.reduce((n, f) => n + (f.match(/\n/g)?.length ?? 0), 0);
    if (record.length !== names.length) {
      problems.push({
        file,
        line,
        reason: `row has ${record.length} cells, the header has ${names.length}`,
      });
      continue;
    }
    rows.push({
      line,
      get(column) {
        const i = index.get(column);
        if (i === undefined) return undefined;
        const v = record[i];
        return v.trim() === '' ? null : v;
      },
    });
  }
  return {
    file,
    format,
    label: path.resolve(file),
    columns: new Set(names),
    rows,
    problems,
  };
}

/** Nested objects become dotted columns (`config.lr`) and also stay whole as JSON text. */
function flatten(value: unknown, prefix: string, out: Map<string, Cell>): void {
  if (value === null || value === undefined) {
    out.set(prefix, null);
  } else if (Array.isArray(value)) {
    out.set(prefix, JSON.stringify(value));
  } else if (typeof value === 'object') {
    if (prefix) out.set(prefix, JSON.stringify(value));
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    out.set(prefix, value);
  }
}

function readJsonl(file: string): SourceTable {
  const lines = readTextFile(file, 'source file').split(/\r?\n/);
  const rows: SourceRow[] = [];
  const problems: RowProblem[] = [];
  const columns = new Set<string>();
  lines.forEach((text, i) => {
    if (text.trim() === '') return;
    const line = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      problems.push({ file, line, reason: `not valid JSON: ${(err as Error).message}` });
      return;
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      problems.push({ file, line, reason: 'each line must be a JSON object' });
      return;
    }
    const cells = new Map<string, Cell>();
    flatten(value, '', cells);
    for (const k of cells.keys()) columns.add(k);
    rows.push({ line, get: (column) => cells.get(column) });
  });
  // A JSONL line may omit a key another line has: that is an empty cell, not a missing column.
  for (const row of rows) {
    const own = row.get;
    row.get = (column) => {
      const v = own(column);
      return v === undefined && columns.has(column) ? null : v;
    };
  }
  return { file, format: 'jsonl', label: path.resolve(file), columns, rows, problems };
}
