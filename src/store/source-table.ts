// The rows of a source file as named cells: what every reader (CSV, JSONL, W&B, Optuna)
// produces and the one mapping converts, whatever the format.
import type { HyperparameterSpec, SourceFormat } from './mapping.ts';

export type Cell = string | number | boolean | null;

export interface HistoryPoint {
  step: number;
  value: number;
}

/** An invalid row (or cell), with everything a user needs to find it. */
export interface RowProblem {
  file: string;
  line: number;
  column?: string;
  reason: string;
}

export interface SourceRow {
  line: number;
  /** How a user names the row when a line number means little (an Optuna trial). */
  where?: string;
  /** Set when the reader already knows the row is invalid (an undecodable Optuna parameter). */
  problem?: { column: string; reason: string };
  /**
   * The history behind a column, one value per step in step order (Optuna's intermediate values
   * behind `value`, an MLflow metric's history behind `metrics.KEY`): a record's learning curve.
   */
  history?(column: string): readonly HistoryPoint[] | undefined;
  /** The cell, null when empty, undefined when the source has no such column. */
  get(column: string): Cell | undefined;
}

export interface SourceTable {
  file: string;
  format: SourceFormat;
  /** What provenance.source says for these records. */
  label: string;
  /** The columns; for a JSONL file only those of the lines read so far (see `columnsGrow`). */
  columns: ReadonlySet<string>;
  /** True when `columns` is complete only once every row was read (JSONL). */
  columnsGrow?: boolean;
  /** The rows of a source read whole (Optuna, MLflow); empty when they are `streamed`. */
  rows: SourceRow[];
  /** Rows read while they are iterated (CSV, JSONL), once; memory stays bounded. */
  streamed?: AsyncIterable<SourceRow>;
  /** Rows that could not even be read (bad JSON line, wrong cell count), when known up front. */
  problems: RowProblem[];
  /** Bytes of the file read so far, and its size, for progress. */
  bytes?: () => { read: number; total: number };
  /** Hyperparameters the source itself declares (Optuna distributions). */
  declared?: HyperparameterSpec[];
  /** Columns that hold declared hyperparameters, by parameter name. */
  declaredColumns?: Record<string, string>;
}

/**
 * The tables of one source (the experiments of an MLflow store, the studies of an Optuna
 * storage) with the columns of them all: a column some tables lack is empty (not set) in their
 * rows, as in a row of a table that has it, instead of failing the import; a column the mapping
 * names that no table has is still a mistake the mapping check reports.
 */
export function withSharedColumns(tables: SourceTable[]): SourceTable[] {
  if (tables.length < 2) return tables;
  const columns = new Set(tables.flatMap((t) => [...t.columns]));
  return tables.map((t) => ({
    ...t,
    columns,
    rows: t.rows.map((row) => ({
      ...row,
      get: (column: string) => {
        const cell = row.get(column);
        return cell === undefined && columns.has(column) ? null : cell;
      },
    })),
  }));
}
