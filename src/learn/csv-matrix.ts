// Numeric CSV files for the `metallmix gbdt` commands: a header of feature names, then numbers;
// an empty cell is a missing value (NaN, as XGBoost's DMatrix has it).

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
