// Numeric CSV files for the `metallmix gbdt` commands: a header of feature names, then numbers;
// an empty cell is a missing value (NaN, as XGBoost's DMatrix has it).

import { closeSync, openSync, readSync } from 'node:fs';
import { parseCsvRecords } from '../core/csv.ts';
import { MetallmixError } from '../core/errors.ts';
import { readTextFile } from '../core/text-file.ts';
import type { Matrix } from './matrix.ts';
import { MAX_CATEGORY_CODE } from './quantize.ts';
import type { FeatureType } from './tree-model.ts';

export interface CsvTable {
  file: string;
  columns: string[];
  /** Cells as written; converted to numbers only for the columns a caller selects. */
  rows: string[][];
  /** 1-based file line of each row, for error messages. */
  lines: number[];
}

export function parseCsvTable(text: string, file: string): CsvTable {
  const parsed = parseCsvRecords(text, file, { trim: true });
  if (parsed.length === 0)
    throw new MetallmixError('the file is empty (expected a header of feature names)', {
      location: { file },
    });
  const columns = parsed[0].record;
  const seen = new Set<string>();
  columns.forEach((name, i) => {
    if (!name)
      throw new MetallmixError(`header cell ${i + 1} is empty`, { location: { file, line: 1 } });
    if (seen.has(name))
      throw new MetallmixError('duplicate column name', {
        location: { file, line: 1, column: name },
      });
    seen.add(name);
  });
  const body = parsed.slice(1);
  return { file, columns, rows: body.map((p) => p.record), lines: body.map((p) => p.info.lines) };
}

export function readCsvTable(path: string): CsvTable {
  return parseCsvTable(readTextFile(path, 'data file'), path);
}

/**
 * The columns `names` as numbers, in that order (e.g. a model's features); other columns are
 * ignored and may hold anything. Empty cells become NaN (missing).
 */
export function selectColumns(table: CsvTable, names: readonly string[]): Matrix {
  const index = names.map((name) => {
    const i = table.columns.indexOf(name);
    if (i === -1)
      throw new MetallmixError(`missing column "${name}" (needed: ${names.join(', ')})`, {
        location: { file: table.file, line: 1 },
      });
    return i;
  });
  const F = names.length;
  const data = new Float64Array(table.rows.length * F);
  table.rows.forEach((row, r) => {
    for (let j = 0; j < F; j++) {
      const cell = row[index[j]];
      const x = cell === '' ? NaN : Number(cell);
      if (cell !== '' && !Number.isFinite(x))
        throw new MetallmixError(
          `not a number: ${JSON.stringify(cell)} (leave a missing value empty)`,
          { location: { file: table.file, line: table.lines[r], column: names[j] } },
        );
      data[r * F + j] = x;
    }
  });
  return { data, numRows: table.rows.length, numFeatures: F };
}

/** Like selectColumns, and categorical columns must hold non-negative integer codes. */
export function selectFeatures(
  table: CsvTable,
  names: readonly string[],
  types: readonly FeatureType[],
): Matrix {
  const X = selectColumns(table, names);
  const F = names.length;
  for (let r = 0; r < X.numRows; r++)
    for (let j = 0; j < F; j++) {
      const v = X.data[r * F + j];
      if (
        types[j] === 'c' &&
        !Number.isNaN(v) &&
        !(Number.isInteger(v) && v >= 0 && v <= MAX_CATEGORY_CODE)
      )
        throw new MetallmixError(
          `categorical feature needs an integer code in 0..${MAX_CATEGORY_CODE}, got ${v}`,
          { location: { file: table.file, line: table.lines[r], column: names[j] } },
        );
    }
  return X;
}

function columnIndex(table: CsvTable, name: string, role: string): number {
  const i = table.columns.indexOf(name);
  if (i === -1)
    throw new MetallmixError(`no ${role} column "${name}" (columns: ${table.columns.join(', ')})`, {
      location: { file: table.file, line: 1 },
    });
  return i;
}

/** A column that must hold a number on every row (a training target). */
export function requiredNumbers(table: CsvTable, name: string, role = 'target'): Float64Array {
  const i = columnIndex(table, name, role);
  return Float64Array.from(table.rows, (row, r) => {
    const x = row[i] === '' ? NaN : Number(row[i]);
    if (!Number.isFinite(x))
      throw new MetallmixError(
        row[i] === ''
          ? `the ${role} is missing`
          : `${role} is not a number: ${JSON.stringify(row[i])}`,
        { location: { file: table.file, line: table.lines[r], column: name } },
      );
    return x;
  });
}

/** Group ids from a column of any labels (e.g. dataset names); every row needs one. */
export function groupIds(table: CsvTable, name: string): Int32Array {
  const i = columnIndex(table, name, 'group');
  const ids = new Map<string, number>();
  return Int32Array.from(table.rows, (row, r) => {
    if (row[i] === '')
      throw new MetallmixError('the query group is missing', {
        location: { file: table.file, line: table.lines[r], column: name },
      });
    let id = ids.get(row[i]);
    if (id === undefined) ids.set(row[i], (id = ids.size));
    return id;
  });
}

// ---- Streaming: the CLI reads large files without holding their text or cells ----

/** Which columns a caller wants, decided from the header. */
export interface CsvRequest {
  /** Feature columns (in the matrix's order) and their types; throws for unusable headers. */
  features(columns: string[]): { names: string[]; types: FeatureType[] };
  /** A numeric column every row must fill (a training target). */
  target?: string;
  /** A column of query group labels (any text); every row must fill it. */
  group?: string;
}

export interface CsvData {
  columns: string[];
  featureNames: string[];
  featureTypes: FeatureType[];
  X: Matrix;
  y?: Float64Array;
  groups?: Int32Array;
}

const CHUNK_BYTES = 1 << 22;
const [QUOTE, COMMA, LF, CR, SPACE, TAB] = [34, 44, 10, 13, 32, 9];

/**
 * Reads the requested columns of a CSV file straight into typed arrays, a chunk of the file at
 * a time: neither the text nor its cells are kept, so memory is the matrix and one chunk.
 * Accepts what readCsvTable accepts (header, quoted cells, CRLF, a byte-order mark, blank lines)
 * and reports bad cells the same way, naming file, line and column.
 */
export function readCsvData(path: string, request: CsvRequest): CsvData {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new MetallmixError(`cannot read data file: ${(err as Error).message}`, {
      location: { file: path },
      cause: err,
    });
  }
  try {
    return new CsvScanner(fd, path).read(request, countLines(fd));
  } finally {
    closeSync(fd);
  }
}

/** Line breaks in the file, plus one: an upper bound on its records, to size the arrays once. */
function countLines(fd: number): number {
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  let lines = 1;
  for (let pos = 0; ;) {
    const got = readSync(fd, buf, 0, buf.length, pos);
    if (got === 0) return lines;
    for (let i = buf.indexOf(LF, 0); i !== -1 && i < got; i = buf.indexOf(LF, i + 1)) lines++;
    pos += got;
  }
}

const isBlank = (b: number) => b === SPACE || b === TAB;

/** Splits records into cells (offsets into its buffer), refilling the buffer as it goes. */
class CsvScanner {
  private buf = Buffer.allocUnsafe(CHUNK_BYTES);
  private len = 0;
  private filePos = 0;
  private eof = false;
  /** Start of the next record in buf. */
  private pos = 0;
  /** File line where the next record starts (1-based). */
  private line = 1;
  // The current record's cells: [start, end) in buf, and whether quoted (then "" is ").
  private starts = new Int32Array(64);
  private ends = new Int32Array(64);
  private quoted = new Uint8Array(64);
  cells = 0;
  /** Line where the current record ends. */
  recordLine = 0;

  constructor(
    private readonly fd: number,
    private readonly file: string,
  ) {}

  read(request: CsvRequest, maxRecords: number): CsvData {
    if (!this.next())
      throw new MetallmixError('the file is empty (expected a header of feature names)', {
        location: { file: this.file },
      });
    const columns = Array.from({ length: this.cells }, (_, i) => this.text(i));
    const seen = new Set<string>();
    columns.forEach((name, i) => {
      if (!name)
        throw new MetallmixError(`header cell ${i + 1} is empty`, {
          location: { file: this.file, line: 1 },
        });
      if (seen.has(name))
        throw new MetallmixError('duplicate column name', {
          location: { file: this.file, line: 1, column: name },
        });
      seen.add(name);
    });
    const { names, types } = request.features(columns);
    const index = names.map((name) => {
      const i = columns.indexOf(name);
      if (i === -1)
        throw new MetallmixError(`missing column "${name}" (needed: ${names.join(', ')})`, {
          location: { file: this.file, line: 1 },
        });
      return i;
    });
    const roleColumn = (name: string | undefined, role: string) => {
      if (name === undefined) return -1;
      const i = columns.indexOf(name);
      if (i === -1)
        throw new MetallmixError(`no ${role} column "${name}" (columns: ${columns.join(', ')})`, {
          location: { file: this.file, line: 1 },
        });
      return i;
    };
    const targetAt = roleColumn(request.target, 'target');
    const groupAt = roleColumn(request.group, 'group');
    const F = names.length;
    const data = new Float64Array(maxRecords * F);
    const y = targetAt >= 0 ? new Float64Array(maxRecords) : undefined;
    const groups = groupAt >= 0 ? new Int32Array(maxRecords) : undefined;
    const groupIds = new Map<string, number>();
    let rows = 0;
    while (this.next()) {
      if (this.cells !== columns.length)
        throw new MetallmixError(
          `not a readable CSV file: ${this.cells} cells, the header has ${columns.length}`,
          { location: { file: this.file, line: this.recordLine } },
        );
      for (let j = 0; j < F; j++) {
        const v = this.number(index[j]);
        if (Number.isNaN(v) && !this.isEmpty(index[j]))
          throw this.cellError(
            names[j],
            `not a number: ${JSON.stringify(this.text(index[j]))} (leave a missing value empty)`,
          );
        if (
          types[j] === 'c' &&
          !Number.isNaN(v) &&
          !(Number.isInteger(v) && v >= 0 && v <= MAX_CATEGORY_CODE)
        )
          throw this.cellError(
            names[j],
            `categorical feature needs an integer code in 0..${MAX_CATEGORY_CODE}, got ${v}`,
          );
        data[rows * F + j] = v;
      }
      if (y) {
        const v = this.number(targetAt);
        if (Number.isNaN(v))
          throw this.cellError(
            request.target!,
            this.isEmpty(targetAt)
              ? 'the target is missing'
              : `target is not a number: ${JSON.stringify(this.text(targetAt))}`,
          );
        y[rows] = v;
      }
      if (groups) {
        if (this.isEmpty(groupAt))
          throw this.cellError(request.group!, 'the query group is missing');
        const label = this.text(groupAt);
        let id = groupIds.get(label);
        if (id === undefined) groupIds.set(label, (id = groupIds.size));
        groups[rows] = id;
      }
      rows++;
    }
    return {
      columns,
      featureNames: names,
      featureTypes: types,
      X: { data: data.subarray(0, rows * F), numRows: rows, numFeatures: F },
      y: y?.subarray(0, rows),
      groups: groups?.subarray(0, rows),
    };
  }

  private cellError(column: string, message: string): MetallmixError {
    return new MetallmixError(message, {
      location: { file: this.file, line: this.recordLine, column },
    });
  }

  private isEmpty(i: number): boolean {
    return this.starts[i] === this.ends[i];
  }

  /** Cell i as text (quotes undone). */
  text(i: number): string {
    const s = this.buf.toString('utf8', this.starts[i], this.ends[i]);
    return this.quoted[i] ? s.replaceAll('""', '"') : s;
  }

  /**
   * Cell i as a number, exactly as Number(text) gives it, or NaN when empty or not a finite
   * number. Plain decimals of up to 15 digits are converted from the bytes (one correctly
   * rounded multiplication or division of exact values); anything else goes through Number.
   */
  private number(i: number): number {
    const buf = this.buf;
    let p = this.starts[i];
    const end = this.ends[i];
    if (p === end) return NaN;
    if (!this.quoted[i]) {
      let negative = false;
      if (buf[p] === 45 || buf[p] === 43) negative = buf[p++] === 45;
      let mantissa = 0;
      let digits = 0;
      let scale = 0;
      while (p < end && buf[p] >= 48 && buf[p] <= 57) {
        mantissa = mantissa * 10 + buf[p++] - 48;
        digits++;
      }
      if (p < end && buf[p] === 46)
        for (p++; p < end && buf[p] >= 48 && buf[p] <= 57; p++, scale--) {
          mantissa = mantissa * 10 + buf[p] - 48;
          digits++;
        }
      let exponent = 0;
      let exponentOk = true;
      if (p < end && (buf[p] === 101 || buf[p] === 69)) {
        p++;
        let expNegative = false;
        if (p < end && (buf[p] === 45 || buf[p] === 43)) expNegative = buf[p++] === 45;
        exponentOk = p < end;
        for (; p < end && buf[p] >= 48 && buf[p] <= 57 && exponent < 1000; p++)
          exponent = exponent * 10 + buf[p] - 48;
        if (expNegative) exponent = -exponent;
      }
      const e10 = scale + exponent;
      if (p === end && digits > 0 && digits <= 15 && exponentOk && e10 >= -22 && e10 <= 22) {
        const v = e10 >= 0 ? mantissa * POW10[e10] : mantissa / POW10[-e10];
        return negative ? -v : v;
      }
    }
    const x = Number(this.text(i));
    return Number.isFinite(x) ? x : NaN;
  }

  /** Scans the next non-blank record; false at the end of the file. */
  next(): boolean {
    for (;;) {
      if (this.eof && this.pos >= this.len) return false;
      const end = this.scan();
      if (end === -1) {
        if (this.eof) {
          if (this.pos < this.len) throw this.syntax('a quoted cell is not closed');
          return false;
        }
        this.refill();
        continue;
      }
      const blank = this.cells === 1 && this.starts[0] === this.ends[0] && !this.quoted[0];
      this.pos = end;
      if (!blank) return true;
    }
  }

  private syntax(reason: string): MetallmixError {
    return new MetallmixError(`not a readable CSV file: ${reason}`, {
      location: { file: this.file, line: this.line },
    });
  }

  /** Moves the unread rest to the front of the buffer and reads more of the file after it. */
  private refill(): void {
    const rest = this.len - this.pos;
    if (this.pos === 0 && rest === this.buf.length) {
      const bigger = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, rest);
      this.buf = bigger;
    } else this.buf.copy(this.buf, 0, this.pos, this.len);
    this.pos = 0;
    this.len = rest;
    const got = readSync(this.fd, this.buf, rest, this.buf.length - rest, this.filePos);
    this.filePos += got;
    this.len += got;
    if (got === 0) this.eof = true;
    if (this.filePos === got && rest === 0 && this.len >= 3) {
      // A UTF-8 byte-order mark at the start of the file is not part of the first name.
      if (this.buf[0] === 0xef && this.buf[1] === 0xbb && this.buf[2] === 0xbf) this.pos = 3;
    }
  }

  private addCell(start: number, end: number, quoted: boolean): void {
    if (this.cells === this.starts.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T, make: (n: number) => T) => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      this.starts = grow(this.starts, (n) => new Int32Array(n));
      this.ends = grow(this.ends, (n) => new Int32Array(n));
      this.quoted = grow(this.quoted, (n) => new Uint8Array(n));
    }
    this.starts[this.cells] = start;
    this.ends[this.cells] = end;
    this.quoted[this.cells] = quoted ? 1 : 0;
    this.cells++;
  }

  /**
   * Splits the record at pos into trimmed cells; returns where the next record starts, or -1
   * when the buffer ends first (and the file does not). Counts the lines it crosses.
   */
  private scan(): number {
    const buf = this.buf;
    const len = this.len;
    let p = this.pos;
    let lines = 0;
    this.cells = 0;
    for (;;) {
      while (p < len && isBlank(buf[p])) p++;
      if (p < len && buf[p] === QUOTE) {
        const start = ++p;
        for (;;) {
          while (p < len && buf[p] !== QUOTE) if (buf[p++] === LF) lines++;
          // Not closed within the buffer (at the end of the file next() reports it).
          if (p >= len) return -1;
          // A quote at the end of the buffer may be the first of "".
          if (p + 1 >= len && !this.eof) return -1;
          if (p + 1 < len && buf[p + 1] === QUOTE) p += 2;
          else break;
        }
        this.addCell(start, p, true);
        p++;
        while (p < len && isBlank(buf[p])) p++;
        if (p < len && buf[p] !== COMMA && buf[p] !== LF && buf[p] !== CR)
          throw this.syntax('characters after a closing quote');
      } else {
        const start = p;
        let last = p;
        while (p < len && buf[p] !== COMMA && buf[p] !== LF) {
          if (buf[p] === QUOTE) throw this.syntax('a quote inside an unquoted cell');
          if (!isBlank(buf[p]) && buf[p] !== CR) last = p + 1;
          p++;
        }
        if (p >= len && !this.eof) return -1;
        this.addCell(start, last, false);
      }
      if (p < len && buf[p] === CR) p++;
      if (p >= len) {
        if (!this.eof) return -1;
        this.recordLine = this.line + lines;
        this.line += lines;
        return p;
      }
      if (buf[p] === COMMA) {
        p++;
        continue;
      }
      // LF ends the record.
      this.recordLine = this.line + lines;
      this.line += lines + 1;
      return p + 1;
    }
  }
}

// Exact powers of ten (products of exact integers below 2^53 x 2^22).
const POW10: number[] = [1];
for (let k = 1; k <= 22; k++) POW10.push(POW10[k - 1] * 10);
