// CSV parsing shared by every reader of user CSV files (knowledge-base sources, gbdt data), so
// they agree on byte-order marks, blank lines and how a syntax error is reported.
import { parse, type Options } from 'csv-parse/sync';
import { MetallmixError } from './errors.ts';

export interface CsvRecord {
  record: string[];
  /** `info.lines` is the file line where the record ends (quoted cells may span lines). */
  info: { lines: number };
}

/**
 * Parses CSV text into records, header included, skipping blank lines; a syntax error becomes
 * a MetallmixError naming the file and line. `options` adds csv-parse options (trim, relaxed
 * column counts).
 */
export function parseCsvRecords(
  text: string,
  file: string,
  options: Pick<Options, 'trim' | 'relax_column_count'> = {},
): CsvRecord[] {
  try {
    return parse(text.replace(/^\uFEFF/, ''), {
      ...options,
      info: true,
      skip_empty_lines: true,
    }) as unknown as CsvRecord[];
  } catch (err) {
    const e = err as Error & { lines?: number };
    throw new MetallmixError(`not a readable CSV file: ${e.message}`, {
      location: { file, line: e.lines },
      cause: err,
    });
  }
}
