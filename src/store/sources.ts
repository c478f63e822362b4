// Readers that turn a file into rows of named cells, so one mapping applies to every format.
// CSV and JSONL are streamed: rows are parsed while the file is read (strict UTF-8, bounded
// record size), so memory stays bounded whatever the file's size.
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { parse, type Parser } from 'csv-parse';
import { openRegularFile, utf8ChunkDecoder } from '../core/files.ts';
import { jsonNestsDeeper, jsonSyntaxReason, MAX_JSON_DEPTH } from '../core/json-text.ts';
import { MetallmixError } from '../core/index.ts';
import type { Env } from '../core/index.ts';
import type { Mapping, SourceFormat } from './mapping.ts';
import { isMlflowFileStore, readMlflowFileStore } from './mlflow-files.ts';
import { isHttpUrl, readMlflowServer } from './mlflow-rest.ts';
import { readOptunaStorage } from './optuna.ts';
import { POSTGRES_SCHEME } from './postgres/locator.ts';
import { withoutDriver } from './postgres/optuna-storage.ts';
import type { Cell, SourceRow, SourceTable } from './source-table.ts';

/** Longest CSV record or JSONL line accepted (characters); longer is not a run of a table. */
export const MAX_RECORD_CHARS = 16 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;

export function detectFormat(file: string): SourceFormat {
  if (isHttpUrl(file) || isMlflowFileStore(file)) return 'mlflow';
  // A database server as a source can only be an Optuna storage on it.
  if (POSTGRES_SCHEME.test(withoutDriver(file))) return 'optuna';
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
  /** Credentials of remote sources (MLflow tracking server, Optuna storage on PostgreSQL). */
  env?: Env;
}

/**
 * The tables of a source: one for a file (CSV and JSONL rows are read while they are
 * iterated), one per study of an Optuna storage, one per experiment of an MLflow file store or
 * tracking server (a URL).
 */
export async function readSources(
  file: string,
  format: SourceFormat,
  options: ReadOptions = {},
): Promise<SourceTable[]> {
  switch (format) {
    case 'csv':
    case 'wandb':
      return [await readCsv(file, format)];
    case 'jsonl':
      return [await readJsonl(file)];
    case 'optuna':
      return readOptunaStorage(file, options.study, options.env ?? process.env);
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

/** The text of a regular file, chunk by chunk, strictly UTF-8; counts the bytes read. */
function textChunks(file: string) {
  const { fd, size } = openRegularFile(file, 'source file');
  const stream = createReadStream('', { fd, highWaterMark: CHUNK_BYTES });
  const decoder = utf8ChunkDecoder(file, 'source file');
  let read = 0;
  async function* chunks(): AsyncGenerator<string> {
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        read += chunk.length;
        yield decoder.decode(chunk);
      }
      const tail = decoder.end();
      if (tail) yield tail;
    } catch (err) {
      if (err instanceof MetallmixError) throw err;
      throw new MetallmixError(
        `cannot read source file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        { location: { file }, cause: err },
      );
    } finally {
      stream.destroy();
    }
  }
  return { chunks, bytes: () => ({ read, total: size }) };
}

/** Resolves when the parser takes more input again, or is gone. */
function writable(parser: Parser): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      parser.off('drain', done);
      parser.off('close', done);
      resolve();
    };
    parser.on('drain', done);
    parser.on('close', done);
  });
}

function csvSyntaxError(err: unknown, file: string): MetallmixError {
  const e = err as Error & { lines?: number; code?: string };
  if (err instanceof MetallmixError) return err;
  const reason =
    e.code === 'CSV_MAX_RECORD_SIZE'
      ? `a record is longer than ${MAX_RECORD_CHARS} characters (an unclosed quote?)`
      : e.message.replace(/^Invalid Record Length: /, '');
  return new MetallmixError(`not a readable CSV file: ${reason}`, {
    location: { file, line: e.lines },
    cause: err,
  });
}

async function readCsv(file: string, format: SourceFormat): Promise<SourceTable> {
  const source = textChunks(file);
  const parser: Parser = parse({
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    max_record_size: MAX_RECORD_CHARS,
  });
  // Feeds the parser while the rows are consumed; an error ends the parser, and so the rows.
  const feed = (async () => {
    try {
      for await (const text of source.chunks()) {
        if (parser.destroyed) return;
        if (!parser.write(text)) await writable(parser);
      }
      if (!parser.destroyed) parser.end();
    } catch (err) {
      parser.destroy(err as Error);
    }
  })();
  type Parsed = { record: string[]; info: { lines: number } };
  const records = parser[Symbol.asyncIterator]() as AsyncIterator<Parsed>;
  const next = async (): Promise<Parsed | undefined> => {
    try {
      const r = await records.next();
      return r.done ? undefined : r.value;
    } catch (err) {
      throw csvSyntaxError(err, file);
    }
  };
  const first = await next();
  if (!first) {
    await feed;
    throw new MetallmixError('the file is empty', { location: { file } });
  }
  const names = nameColumns(first.record);
  const index = new Map(names.map((n, i) => [n, i]));
  async function* rows(): AsyncGenerator<SourceRow> {
    try {
      for (let parsed = await next(); parsed; parsed = await next()) {
        const { record, info } = parsed;
        // info.lines is where the record ends; quoted cells may span lines.
        const line = info.lines - record.reduce((n, f) => n + (f.match(/\n/g)?.length ?? 0), 0);
        if (record.length !== names.length) {
          yield {
            line,
            problem: {
              column: '',
              reason: `row has ${record.length} cells, the header has ${names.length}`,
            },
            get: () => undefined,
          };
          continue;
        }
        yield {
          line,
          get(column) {
            const i = index.get(column);
            if (i === undefined) return undefined;
            const v = record[i];
            return v.trim() === '' ? null : v;
          },
        };
      }
    } finally {
      parser.destroy();
      await feed;
    }
  }
  return {
    file,
    format,
    label: path.resolve(file),
    columns: new Set(names),
    rows: [],
    streamed: rows(),
    problems: [],
    bytes: source.bytes,
  };
}

/** Nested objects become dotted columns (`config.lr`) and also stay whole as JSON text. */
/**
 * Sets a cell per key path (`config.lr` for `{"config": {"lr": ...}}`); returns a path given
 * twice (a dotted key beside the nested one), which would otherwise keep whichever came last.
 */
function flatten(value: unknown, prefix: string, out: Map<string, Cell>): string | undefined {
  let repeated: string | undefined;
  const set = (cell: Cell) => {
    if (out.has(prefix)) repeated ??= prefix;
    out.set(prefix, cell);
  };
  if (value === null || value === undefined) {
    set(null);
  } else if (Array.isArray(value)) {
    set(JSON.stringify(value));
  } else if (typeof value === 'object') {
    if (prefix) set(JSON.stringify(value));
    for (const [k, v] of Object.entries(value))
      repeated ??= flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    set(value);
  }
  return repeated;
}

function jsonlRow(text: string, line: number, columns: Set<string>): SourceRow {
  const bad = (reason: string): SourceRow => ({
    line,
    problem: { column: '', reason },
    get: () => undefined,
  });
  if (text.length > MAX_RECORD_CHARS)
    return bad(`the line is longer than ${MAX_RECORD_CHARS} characters`);
  if (jsonNestsDeeper(text)) return bad(`the line nests deeper than ${MAX_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return bad(`not valid JSON: ${jsonSyntaxReason(err).reason}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    return bad('each line must be a JSON object');
  const cells = new Map<string, Cell>();
  const repeated = flatten(value, '', cells);
  for (const k of cells.keys()) columns.add(k);
  if (repeated !== undefined)
    return bad(`the key "${repeated}" is given twice (as a dotted key and nested)`);
  // A JSONL line may omit a key another line has: that is an empty cell, not a missing column
  // (whether the column exists at all is checked once every line is read).
  return { line, get: (column) => cells.get(column) ?? null };
}

async function readJsonl(file: string): Promise<SourceTable> {
  const source = textChunks(file);
  const columns = new Set<string>();
  async function* rows(): AsyncGenerator<SourceRow> {
    let pending = '';
    let line = 0;
    for await (const text of source.chunks()) {
      pending += text;
      let start = 0;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n', start)) {
        line++;
        const body = pending.slice(start, nl).replace(/\r$/, '');
        start = nl + 1;
        if (body.trim() !== '') yield jsonlRow(body, line, columns);
      }
      pending = pending.slice(start);
      if (pending.length > MAX_RECORD_CHARS)
        throw new MetallmixError(`a line is longer than ${MAX_RECORD_CHARS} characters`, {
          location: { file, line: line + 1 },
        });
    }
    if (pending.trim() !== '') yield jsonlRow(pending.replace(/\r$/, ''), line + 1, columns);
  }
  return {
    file,
    format: 'jsonl',
    label: path.resolve(file),
    columns,
    columnsGrow: true,
    rows: [],
    streamed: rows(),
    problems: [],
    bytes: source.bytes,
  };
}
