// Numeric CSV files for the `metallmix gbdt` commands: a header of feature names, then numbers;
// an empty cell is a missing value (NaN, as XGBoost's DMatrix has it).

import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { MetallmixError } from '../core/errors.ts';
import type { Matrix } from './matrix.ts';

export interface CsvTable {
  file: string;
  columns: string[];
  numRows: number;
  /** Row-major rows x columns. */
  data: Float64Array;
}

export function parseCsvMatrix(text: string, file: string): CsvTable {
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    parsed = parse(text.replace(/^\uFEFF/, ''), {
      info: true,
      skip_empty_lines: true,
      trim: true,
    }) as unknown as typeof parsed;
  } catch (err) {
    const e = err as Error & { lines?: number };
    throw new MetallmixError(`not a readable CSV file: ${e.message}`, {
      location: { file, line: e.lines },
      cause: err,
    });
  }
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
  const numRows = parsed.length - 1;
  const data = new Float64Array(numRows * columns.length);
  for (let r = 0; r < numRows; r++) {
    const { record, info } = parsed[r + 1];
    record.forEach((cell, c) => {
      const x = cell === '' ? NaN : Number(cell);
      if (cell !== '' && !Number.isFinite(x))
        throw new MetallmixError(`not a number: ${JSON.stringify(cell)} (leave a missing value empty)`, {
          location: { file, line: info.lines, column: columns[c] },
        });
      data[r * columns.length + c] = x;
    });
  }
  return { file, columns, numRows, data };
}

export function readCsvMatrix(path: string): CsvTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new MetallmixError(`cannot read data file: ${(err as Error).message}`, {
      location: { file: path },
      cause: err,
    });
  }
  return parseCsvMatrix(text, path);
}

/** The columns `names`, in that order (e.g. a model's features); other columns are ignored. */
export function selectColumns(table: CsvTable, names: readonly string[]): Matrix {
  const index = names.map((name) => {
    const i = table.columns.indexOf(name);
    if (i === -1)
      throw new MetallmixError(
        `missing column "${name}" (the model's features are: ${names.join(', ')})`,
        { location: { file: table.file, line: 1 } },
      );
    return i;
  });
  const W = table.columns.length;
  const data = new Float64Array(table.numRows * names.length);
  for (let r = 0; r < table.numRows; r++)
    for (let j = 0; j < index.length; j++) data[r * names.length + j] = table.data[r * W + index[j]];
  return { data, numRows: table.numRows, numFeatures: names.length };
}
