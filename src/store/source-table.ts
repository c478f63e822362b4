// The rows of a source file as named cells: what every reader (CSV, JSONL, W&B, Optuna)
// produces and the one mapping converts, whatever the format.
import type { HyperparameterSpec, SourceFormat } from './mapping.ts';

export type Cell = string | number | boolean | null;

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
  /** Intermediate values of the first objective, by step (Optuna). */
  curve?: { step: number; value: number }[];
  /** The cell, null when empty, undefined when the source has no such column. */
  get(column: string): Cell | undefined;
}

export interface SourceTable {
  file: string;
  format: SourceFormat;
  /** What provenance.source says for these records. */
  label: string;
  columns: ReadonlySet<string>;
  rows: SourceRow[];
  /** Rows that could not even be read (bad JSON line, wrong cell count). */
  problems: RowProblem[];
  /** Hyperparameters the source itself declares (Optuna distributions). */
  declared?: HyperparameterSpec[];
  /** Columns that hold declared hyperparameters, by parameter name. */
  declaredColumns?: Record<string, string>;
}
