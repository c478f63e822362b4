// Applies a mapping to the rows of a source: every row becomes an ExperimentRecord, is filtered
// out, or is reported as invalid with its file, line, column and reason. Cells are read strictly
// (decimal numbers only, no control characters, JSON cells bounded in depth, patterns matched
// by RE2 in linear time), so bad input is a reported row, never a wrong value.
import { MAX_JSON_DEPTH, jsonNestsDeeper } from '../core/json-text.ts';
import {
  ExperimentRecord,
  MetallmixError,
  describeIssues,
  isLowerBetter,
  type Config,
  type ParamValue,
  type RunStatus,
} from '../core/index.ts';
import { checkDeclarations, type ParamType } from './declarations.ts';
import {
  TIME_UNITS,
  compilePattern,
  reconcileRule,
  type HyperparameterSpec,
  type LoadedMapping,
  type Mapping,
  type MetricSource,
  type RowCondition,
  type StatusSpec,
  type TimeSource,
  type ValueSource,
} from './mapping.ts';
import type { Cell, RowProblem, SourceRow, SourceTable } from './source-table.ts';

/** What became of one row. */
export type RowOutcome =
  { record: ExperimentRecord } | { filtered: true } | { problem: RowProblem };

/** Default status rules of the formats whose sources carry a run state of their own. */
const FORMAT_STATUS: Partial<Record<string, StatusSpec>> = {
  wandb: {
    column: 'State',
    map: {
      finished: 'finished',
      crashed: 'failed',
      failed: 'failed',
      killed: 'stopped',
      running: 'skip',
    },
    otherwise: 'stopped',
  },
  optuna: {
    column: 'state',
    map: {
      COMPLETE: 'finished',
      PRUNED: 'stopped',
      FAIL: 'failed',
      RUNNING: 'skip',
      WAITING: 'skip',
    },
    otherwise: 'stopped',
  },
  mlflow: {
    column: 'status',
    map: {
      FINISHED: 'finished',
      FAILED: 'failed',
      KILLED: 'stopped',
      RUNNING: 'skip',
      SCHEDULED: 'skip',
    },
    otherwise: 'stopped',
  },
};

/** A problem with one row; Converter.convert turns it into a RowProblem with the file and line. */
class RowError extends Error {
  constructor(
    readonly column: string | undefined,
    reason: string,
  ) {
    super(reason);
  }
}

type AnySource = ValueSource & Partial<{ unit: string; scale: number; offset: number }>;

function columnsOf(spec: { column?: string | string[] }): string[] {
  return spec.column === undefined ? [] : Array.isArray(spec.column) ? spec.column : [spec.column];
}

/** Parses a JSON cell; W&B's API exports sometimes hold Python reprs (single quotes, True/None). */
function parseJsonCell(text: string, column: string | undefined): unknown {
  // Deep nesting parses, but every walk after it (stringify included) would overflow the stack.
  if (jsonNestsDeeper(text))
    throw new RowError(column, `the JSON in the cell nests deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch {
    const pythonish = text
      .replace(/'/g, '"')
      .replace(/\bTrue\b/g, 'true')
      .replace(/\bFalse\b/g, 'false')
      .replace(/\bNone\b/g, 'null');
    return JSON.parse(pythonish);
  }
}

function atJsonPath(cell: Cell, jsonPath: string, column: string): Cell {
  if (cell === null) return null;
  let value: unknown;
  try {
    value = typeof cell === 'string' ? parseJsonCell(cell, column) : cell;
  } catch (err) {
    if (err instanceof RowError) throw err;
    throw new RowError(column, `cell is not JSON, so path "${jsonPath}" cannot be read`);
  }
  for (const key of jsonPath.split('.')) {
    // Own keys only: a path such as `constructor` must not reach Object.prototype.
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return null;
    value = (value as Record<string, unknown>)[key];
    // W&B run configs wrap each entry as {"value": x, "desc": ...}.
    if (
      value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      Object.hasOwn(value, 'value')
    )
      value = (value as { value: unknown }).value;
  }
  if (value === undefined || value === null) return null;
  return typeof value === 'object' ? JSON.stringify(value) : (value as Cell);
}

/** Cells longer than this are not matched against a pattern (RE2 is linear, not free). */
const MAX_PATTERN_INPUT = 100_000;
/** Distinct cells remembered per pattern: dataset and model columns repeat a few values. */
const PATTERN_MEMO = 10_000;

type Matcher = (text: string) => string | undefined;
const compiled = new Map<string, Matcher>();
function matcher(pattern: string): Matcher {
  let m = compiled.get(pattern);
  if (!m) {
    const re = compilePattern(pattern);
    const memo = new Map<string, string | undefined>();
    m = (text) => {
      if (memo.has(text)) return memo.get(text);
      const found = re.matcher(text);
      const out = found.find() ? (found.group(1) ?? found.group(0) ?? '') : undefined;
      if (memo.size >= PATTERN_MEMO) memo.clear();
      memo.set(text, out);
      return out;
    };
    compiled.set(pattern, m);
  }
  return m;
}

interface Read {
  value: Cell;
  column?: string;
}

function read(row: SourceRow, spec: AnySource & { json?: string; pattern?: string }): Read {
  if (spec.value !== undefined) return { value: spec.value };
  let column: string | undefined;
  let value: Cell = null;
  for (const c of columnsOf(spec)) {
    const v = row.get(c);
    if (v === undefined) continue;
    column ??= c;
    if (v !== null) {
      column = c;
      value = v;
      break;
    }
  }
  if (spec.json !== undefined) value = atJsonPath(value, spec.json, column ?? '');
  if (spec.pattern !== undefined && value !== null) {
    const text = String(value);
    if (text.length > MAX_PATTERN_INPUT)
      throw new RowError(
        column,
        `the cell is longer than ${MAX_PATTERN_INPUT} characters, too long to match the pattern`,
      );
    const m = matcher(spec.pattern)(text);
    if (m === undefined)
      throw new RowError(column, `${quoted(text)} does not match the pattern ${spec.pattern}`);
    value = m;
  }
  return { value, column };
}

/** A cell quoted in a message: at most 60 characters, control characters escaped. */
function quoted(text: string): string {
  const cut = text.length > 60 ? `${text.slice(0, 60)}...` : text;
  return JSON.stringify(cut);
}

/** Decimal numbers only: `0x1`, `0b1`, `1_000` or `12abc` are not numbers in a table of results. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function toNumber(cell: Cell, column: string | undefined): number {
  if (typeof cell === 'number') return cell;
  if (typeof cell === 'boolean' || cell === null)
    throw new RowError(column, `expected a number, got ${JSON.stringify(cell)}`);
  const text = cell.trim();
  if (/^[+-]?(nan|inf|infinity)$/i.test(text))
    return /nan/i.test(text) ? NaN : text.startsWith('-') ? -Infinity : Infinity;
  if (!DECIMAL.test(text)) throw new RowError(column, `expected a number, got ${quoted(cell)}`);
  return Number(text);
}

/** C0 control characters and DEL (NUL included) never belong in a name or a category. */
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Free text (a run id, a hardware name) may hold tabs and line breaks, nothing else. */
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function checkText(
  text: string,
  column: string | undefined,
  what: string,
  pattern = CONTROL,
): string {
  const bad = pattern.exec(text);
  if (bad)
    throw new RowError(
      column,
      `${what} contains the control character U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
    );
  return text;
}

function toBool(cell: Cell, column: string | undefined): boolean {
  if (typeof cell === 'boolean') return cell;
  const text = String(cell).trim().toLowerCase();
  if (['true', '1', 'yes', 't', 'y'].includes(text)) return true;
  if (['false', '0', 'no', 'f', 'n'].includes(text)) return false;
  throw new RowError(column, `expected true or false, got ${JSON.stringify(cell)}`);
}

function sameValue(a: ParamValue | Cell, b: ParamValue | Cell): boolean {
  return a === b || (a !== null && b !== null && String(a) === String(b));
}

/** Canonical text for JSON-valued cells, so `[0, 0.99]` and `[0,0.99]` are one category. */
function canonicalCategory(
  cell: string | number | boolean,
  column: string | undefined,
): string | number | boolean {
  if (typeof cell !== 'string') return cell;
  checkText(cell, column, 'the value');
  if (!/^\s*[[{]/.test(cell)) return cell;
  let parsed: unknown;
  try {
    parsed = parseJsonCell(cell, column);
  } catch (err) {
    if (err instanceof RowError) throw err;
    // A malformed JSON cell is a broken export, not a new category.
    throw new RowError(column, `${quoted(cell)} looks like JSON but does not parse`);
  }
  return JSON.stringify(parsed);
}

function compare(cell: Cell | undefined, cond: RowCondition): boolean {
  const empty = cell === null || cell === undefined;
  switch (cond.op) {
    case 'empty':
      return empty;
    case 'notEmpty':
      return !empty;
    case 'in':
    case 'notIn': {
      const list = Array.isArray(cond.value) ? cond.value : [cond.value];
      const hit = !empty && list.some((v) => v !== undefined && sameValue(v, cell as Cell));
      return cond.op === 'in' ? hit : !hit;
    }
  }
  if (empty || cond.value === undefined || Array.isArray(cond.value)) return cond.op === '!=';
  const a = Number(cell);
  const b = Number(cond.value);
  const numeric = typeof cond.value !== 'boolean' && Number.isFinite(a) && Number.isFinite(b);
  switch (cond.op) {
    case '==':
      return numeric ? a === b : sameValue(cell as Cell, cond.value);
    case '!=':
      return numeric ? a !== b : !sameValue(cell as Cell, cond.value);
    case '<':
      return numeric && a < b;
    case '<=':
      return numeric && a <= b;
    case '>':
      return numeric && a > b;
    case '>=':
      return numeric && a >= b;
  }
}

function statusOf(row: SourceRow, spec: StatusSpec): RunStatus | 'skip' {
  if (typeof spec === 'string') return spec;
  const { value, column } = read(row, { column: spec.column });
  const key = value === null ? '' : String(value);
  // Own keys only: a cell "constructor" must not find Object.prototype.constructor.
  const mapped = Object.hasOwn(spec.map, key) ? spec.map[key] : spec.default;
  if (mapped === undefined)
    throw new RowError(
      column,
      `status ${quoted(key)} is not in the mapping's status.map (${Object.keys(spec.map).join(', ')})`,
    );
  if (mapped === 'finished' && spec.finishedOnlyIf?.some((c) => !compare(row.get(c.column), c)))
    return spec.otherwise;
  return mapped;
}

function requiredText(row: SourceRow, spec: ValueSource, what: string): string {
  const { value, column } = read(row, spec);
  if (value === null || String(value).trim() === '') throw new RowError(column, `${what} is empty`);
  return checkText(String(value).trim(), column, what);
}

type Unit = (n: number) => number;
const asIs: Unit = (n) => n;

function optionalNumber(
  row: SourceRow,
  spec: AnySource | undefined,
  unit: Unit = asIs,
): number | undefined {
  if (!spec) return undefined;
  const { value, column } = read(row, spec);
  if (value === null) return undefined;
  const n = toNumber(value, column);
  // Diverged or crashed runs log NaN/inf: the metric is absent, the row is not invalid.
  if (!Number.isFinite(n)) return undefined;
  return unit(n) * (spec.scale ?? 1) + (spec.offset ?? 0);
}

// Dividing by 100 (not multiplying by 0.01) keeps 81.5 % exactly 0.815.
function metricUnit(spec: MetricSource): Unit {
  return spec.unit === 'percent' ? (n) => n / 100 : asIs;
}

function timeUnit(spec: TimeSource): Unit {
  const unit = spec.unit ?? 's';
  return unit === 'ms' ? (n) => n / 1000 : (n) => n * TIME_UNITS[unit];
}

/** The largest raw value of each metric read in percent, to catch fractions declared as percent. */
type PercentSeen = Map<string, { max: number; column?: string }>;

function readMetric(
  row: SourceRow,
  name: string,
  spec: MetricSource,
  percent: PercentSeen,
): number | undefined {
  const raw = optionalNumber(row, { ...spec, scale: undefined });
  const v = optionalNumber(row, spec, metricUnit(spec));
  if (raw !== undefined && spec.unit === 'percent') {
    const seen = percent.get(name);
    if (!seen || raw > seen.max) percent.set(name, { max: raw, column: read(row, spec).column });
  }
  if (v !== undefined && !isLowerBetter(name) && (v < 0 || v > 1)) {
    const column = read(row, spec).column;
    throw new RowError(
      column,
      `metric ${name} = ${v} is outside [0, 1]${v > 1 && v <= 100 ? '; if the column is in percent, set "unit": "percent"' : ''}`,
    );
  }
  return v;
}

function readParam(row: SourceRow, spec: HyperparameterSpec): ParamValue | undefined {
  const { value: raw, column } = read(row, { ...spec, column: spec.column ?? spec.name });
  const cell = raw ?? spec.missing ?? null;
  if (cell === null) return undefined;
  let value: ParamValue;
  switch (spec.type) {
    case 'float':
    case 'int': {
      const n = toNumber(cell, column);
      if (!Number.isFinite(n))
        throw new RowError(column, `${spec.name}: expected a finite number, got ${cell}`);
      if (spec.type === 'int' && !Number.isInteger(n))
        throw new RowError(column, `${spec.name}: expected an integer, got ${cell}`);
      if (spec.log && n <= 0)
        throw new RowError(column, `${spec.name}: ${n} on a log scale must be > 0`);
      value = n;
      break;
    }
    case 'bool':
      value = toBool(cell, column);
      break;
    case 'categorical': {
      value = canonicalCategory(cell, column);
      if (spec.choices) {
        const match = spec.choices.find((c) => sameValue(c, value));
        if (match === undefined)
          throw new RowError(
            column,
            `${spec.name}: ${JSON.stringify(value)} is not one of ${JSON.stringify(spec.choices)}`,
          );
        value = match;
      }
      break;
    }
  }
  return value;
}

/**
 * Reads the hyperparameters, parents first. A conditional parameter whose condition does not
 * hold was not used by the run: its cell (often a placeholder like 0) is neither read nor checked.
 */
function readConfig(row: SourceRow, specs: HyperparameterSpec[]): Config {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const config: Config = {};
  const active = new Map<string, boolean>();
  const visit = (spec: HyperparameterSpec, depth: number): boolean => {
    const known = active.get(spec.name);
    if (known !== undefined) return known;
    let on = true;
    if (spec.condition) {
      const parent = byName.get(spec.condition.parent);
      on =
        parent !== undefined &&
        depth < specs.length &&
        visit(parent, depth + 1) &&
        config[parent.name] !== undefined &&
        spec.condition.values.some((x) => sameValue(x, config[parent.name]));
    }
    if (on) {
      const v = readParam(row, spec);
      if (v !== undefined) config[spec.name] = v;
    }
    active.set(spec.name, on);
    return on;
  };
  for (const s of specs) visit(s, 0);
  // Parents may be read first; keep the declared order for readable, stable records.
  return Object.fromEntries(
    specs.filter((s) => s.name in config).map((s) => [s.name, config[s.name]]),
  );
}

function hyperparametersFor(table: SourceTable, mapping: Mapping): HyperparameterSpec[] {
  if (mapping.hyperparameters) return mapping.hyperparameters;
  const used = new Set([...columnsOf(mapping.dataset), ...columnsOf(mapping.model)]);
  return (table.declared ?? []).filter((h) => !used.has(h.column as string));
}

const NUMERIC: readonly ParamType[] = ['float', 'int'];

/**
 * Applies the mapping's `reconcile` rules: a parameter the source has with another type than the
 * one to store is read as the stored type (and scale, when the rule gives one). Its choices must
 * convert (an Optuna categorical of integers can be stored as int; one with "adam" among its
 * choices cannot). A rule for a parameter the mapping lists must match it; one for a parameter
 * the source declares may be absent from one table (a study that never suggested it): the import
 * checks that some table of it had it (`applied`).
 */
function reconciled(
  params: HyperparameterSpec[],
  rules: NonNullable<Mapping['reconcile']>,
  mappingFile: string,
  declaredBySource: boolean,
): { params: HyperparameterSpec[]; applied: Set<string> } {
  const out = params.slice();
  const applied = new Set<string>();
  for (const [name, entry] of Object.entries(rules)) {
    const { type, log } = reconcileRule(entry);
    const i = out.findIndex((p) => p.name === name);
    if (i < 0) {
      if (declaredBySource) continue;
      throw unmatchedReconcile(name, mappingFile);
    }
    applied.add(name);
    const fail = (reason: string): never => {
      throw new MetallmixError(reason, {
        location: { file: mappingFile, field: `reconcile.${name}` },
      });
    };
    const numeric = NUMERIC.includes(type);
    if (log !== undefined && !numeric) fail(`"log" applies to float and int, not to ${type}`);
    const p = out[i];
    if (p.type === type && log === undefined) continue;
    if (p.choices && type !== 'categorical' && p.type !== type)
      for (const c of p.choices) {
        try {
          const v = type === 'bool' ? toBool(c, undefined) : toNumber(c, undefined);
          if (type === 'int' && !Number.isInteger(v))
            throw new RowError(undefined, 'not an integer');
        } catch {
          fail(
            `"${name}" cannot be stored as ${type}: its choice ${JSON.stringify(c)} is not a ${type} value`,
          );
        }
      }
    out[i] = {
      ...p,
      type,
      log: numeric ? (log ?? p.log) : undefined,
      choices: type === 'categorical' ? p.choices : undefined,
    };
  }
  return { params: out, applied };
}

/** A `reconcile` rule that names no hyperparameter of the source. */
export function unmatchedReconcile(name: string, mappingFile: string): MetallmixError {
  return new MetallmixError(
    `reconcile names "${name}", which is not a hyperparameter of this source`,
    { location: { file: mappingFile, field: `reconcile.${name}` } },
  );
}

/** Every column the mapping needs must exist in the source (unless marked optional). */
function checkColumns(
  table: SourceTable,
  mapping: Mapping,
  status: StatusSpec,
  params: HyperparameterSpec[],
  mappingFile: string,
): void {
  const needs: { field: string; spec: { column?: string | string[]; optional?: boolean } }[] = [
    { field: 'dataset', spec: mapping.dataset },
    { field: 'model', spec: mapping.model },
    ...Object.entries(mapping.metrics).map(([k, spec]) => ({ field: `metrics.${k}`, spec })),
    ...Object.entries(mapping.std ?? {}).map(([k, spec]) => ({ field: `std.${k}`, spec })),
    ...Object.entries(mapping.cost ?? {}).map(([k, spec]) => ({ field: `cost.${k}`, spec })),
    ...(['seed', 'runId', 'count'] as const)
      .filter((k) => mapping[k])
      .map((k) => ({ field: k, spec: mapping[k]! })),
    ...params.map((h, i) => ({
      field: `hyperparameters.${i}`,
      spec: { column: h.column ?? h.name },
    })),
    ...(mapping.filters ?? []).map((f, i) => ({ field: `filters.${i}`, spec: f })),
  ];
  if (typeof status !== 'string') {
    needs.push({ field: 'status', spec: status });
    (status.finishedOnlyIf ?? []).forEach((c, i) =>
      needs.push({ field: `status.finishedOnlyIf.${i}`, spec: c }),
    );
  }
  for (const { field, spec } of needs) {
    const cols = columnsOf(spec);
    if (spec.optional || cols.length === 0 || cols.some((c) => table.columns.has(c))) continue;
    throw new MetallmixError(
      `the mapping ${mappingFile} (field "${field}") names ${cols.length > 1 ? `columns ${cols.join(', ')}; none is` : 'a column that is not'} in this source`,
      {
        location: {
          file: table.file,
          line: table.format === 'csv' || table.format === 'wandb' ? 1 : undefined,
          column: cols.join('|'),
        },
      },
    );
  }
}

/**
 * Converts the rows of one source with a mapping, one row at a time (`convert`), and checks at
 * the end (`finish`) what only the whole source can tell.
 */
export class Converter {
  /** The hyperparameters the records are read with (mapping or source declarations). */
  readonly hyperparameters: HyperparameterSpec[];
  /** The `reconcile` rules that matched a parameter of this table. */
  readonly reconciledNames: ReadonlySet<string>;
  private readonly status: StatusSpec;
  /** The metrics read straight from a column, whose history a source may have (the curve). */
  private readonly curveMetrics: [string, MetricSource][];
  private readonly percent: PercentSeen = new Map();

  constructor(
    private readonly table: SourceTable,
    private readonly loaded: LoadedMapping,
  ) {
    const { mapping } = loaded;
    this.status = mapping.status ?? FORMAT_STATUS[table.format] ?? 'finished';
    const own = mapping.hyperparameters !== undefined;
    const { params, applied } = reconciled(
      hyperparametersFor(table, mapping),
      mapping.reconcile ?? {},
      loaded.file,
      !own,
    );
    this.reconciledNames = applied;
    checkDeclarations(params, {
      file: own || mapping.reconcile ? loaded.file : table.file,
      field: (i, key) =>
        mapping.reconcile?.[params[i].name] !== undefined
          ? `reconcile.${params[i].name}`
          : own
            ? `hyperparameters.${i}.${key}`
            : `${params[i].name} (declared by the source)`,
    });
    this.hyperparameters = params;
    if (!table.columnsGrow) checkColumns(table, mapping, this.status, params, loaded.file);
    // A constant, a JSON path or a pattern makes a value no history could give step by step.
    this.curveMetrics = Object.entries(mapping.metrics).filter(
      ([, s]) => s.value === undefined && s.json === undefined && s.pattern === undefined,
    );
  }

  convert(row: SourceRow): RowOutcome {
    const { mapping } = this.loaded;
    try {
      if (row.problem) throw new RowError(row.problem.column || undefined, row.problem.reason);
      if (mapping.filters?.some((f) => !compare(row.get(f.column), f))) return { filtered: true };
      const runStatus = statusOf(row, this.status);
      if (runStatus === 'skip') return { filtered: true };
      return {
        record: convertRow(
          row,
          mapping,
          this.hyperparameters,
          runStatus,
          this.table.label,
          this.curveMetrics,
          this.percent,
        ),
      };
    } catch (err) {
      if (!(err instanceof RowError)) throw err;
      return {
        problem: {
          file: this.table.file,
          line: row.line,
          column: err.column,
          reason: row.where ? `${row.where}: ${err.message}` : err.message,
        },
      };
    }
  }

  /** After the last row: the columns of a JSONL source, and metrics declared in percent. */
  finish(): void {
    const { mapping, file } = this.loaded;
    if (this.table.columnsGrow)
      checkColumns(this.table, mapping, this.status, this.hyperparameters, file);
    for (const [name, seen] of this.percent)
      if (seen.max <= 1 && seen.max > 0)
        throw new MetallmixError(
          `metric ${name} is declared "unit": "percent", but no value in ${this.table.file}${seen.column ? ` column "${seen.column}"` : ''} is above 1 (the largest is ${seen.max}): the column holds fractions; remove "unit": "percent"`,
          { location: { file, field: `metrics.${name}.unit` } },
        );
  }
}

/**
 * The learning curve: at each step of the histories behind the metrics' columns, the value of
 * each metric there, in the record's units. Negative steps (possible in MLflow) are no epoch.
 */
function curveOf(
  row: SourceRow,
  metrics: [string, MetricSource][],
): ExperimentRecord['curve'] | undefined {
  const byStep = new Map<number, Record<string, number>>();
  for (const [name, spec] of metrics) {
    const { column } = read(row, spec);
    const points = column === undefined ? undefined : row.history!(column);
    for (const p of points ?? []) {
      if (p.step < 0 || !Number.isFinite(p.value)) continue;
      let at = byStep.get(p.step);
      if (!at) byStep.set(p.step, (at = {}));
      at[name] = metricUnit(spec)(p.value) * (spec.scale ?? 1);
    }
  }
  if (byStep.size === 0) return undefined;
  return [...byStep].sort(([a], [b]) => a - b).map(([epoch, metrics]) => ({ epoch, metrics }));
}

function convertRow(
  row: SourceRow,
  mapping: Mapping,
  params: HyperparameterSpec[],
  status: RunStatus,
  source: string,
  curveMetrics: [string, MetricSource][],
  percent: PercentSeen,
): ExperimentRecord {
  const metrics: Record<string, number> = {};
  for (const [name, spec] of Object.entries(mapping.metrics)) {
    const v = readMetric(row, name, spec, percent);
    if (v !== undefined) metrics[name] = v;
  }
  const config = readConfig(row, params);
  const cost: Record<string, number | string> = {};
  const c = mapping.cost ?? {};
  const time = c.trainingTimeSec
    ? optionalNumber(row, c.trainingTimeSec, timeUnit(c.trainingTimeSec))
    : undefined;
  if (time !== undefined) cost.trainingTimeSec = time;
  const epochs = optionalNumber(row, c.epochs);
  if (epochs !== undefined) cost.epochs = epochs;
  if (c.hardware) {
    const { value: hw, column } = read(row, c.hardware);
    if (hw !== null) cost.hardware = checkText(String(hw), column, 'hardware', CONTROL_IN_TEXT);
  }
  const seed = optionalNumber(row, mapping.seed);
  if (seed !== undefined && !Number.isInteger(seed))
    throw new RowError(read(row, mapping.seed!).column, `seed must be an integer, got ${seed}`);
  const run = mapping.runId ? read(row, mapping.runId) : undefined;
  const runId =
    run && run.value !== null
      ? checkText(String(run.value), run.column, 'runId', CONTROL_IN_TEXT)
      : null;
  const count = optionalNumber(row, mapping.count);
  const std: Record<string, number> = {};
  for (const [name, spec] of Object.entries(mapping.std ?? {})) {
    const v = optionalNumber(row, spec, name === 'trainingTimeSec' ? asIs : metricUnit(spec));
    if (v !== undefined) std[name] = v;
  }
  const curve = row.history ? curveOf(row, curveMetrics) : undefined;
  const candidate = {
    dataset: requiredText(row, mapping.dataset, 'dataset'),
    model: requiredText(row, mapping.model, 'model'),
    config,
    metrics,
    cost,
    ...(seed !== undefined ? { seed } : {}),
    status,
    provenance: {
      source,
      ...(runId !== null ? { runId: String(runId) } : {}),
      line: row.line,
    },
    ...(curve ? { curve } : {}),
    ...(count !== undefined ? { count } : {}),
    ...(Object.keys(std).length ? { std } : {}),
  };
  const parsed = ExperimentRecord.safeParse(candidate);
  if (!parsed.success)
    throw new RowError(
      parsed.error.issues[0]?.path.join('.'),
      `invalid record: ${describeIssues(parsed.error)}`,
    );
  return parsed.data;
}
