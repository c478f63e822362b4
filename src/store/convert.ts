// Applies a mapping to the rows of a source: every row becomes an ExperimentRecord, is filtered
// out, or is reported as invalid with its file, line, column and reason.
import {
  ExperimentRecord,
  MetallmixError,
  describeIssues,
  isLowerBetter,
  type Config,
  type ParamValue,
  type RunStatus,
} from '../core/index.ts';
import {
  TIME_UNITS,
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

export interface Conversion {
  records: ExperimentRecord[];
  /** Rows left out on purpose (row filters, status `skip`). */
  filtered: number;
  problems: RowProblem[];
  /** The hyperparameters these records were read with (mapping or source declarations). */
  hyperparameters: HyperparameterSpec[];
}

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

/** A problem with one row; convertTable turns it into a RowProblem with the file and line. */
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
function parseJsonCell(text: string): unknown {
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
    value = typeof cell === 'string' ? parseJsonCell(cell) : cell;
  } catch {
    throw new RowError(column, `cell is not JSON, so path "${jsonPath}" cannot be read`);
  }
  for (const key of jsonPath.split('.')) {
    if (value === null || typeof value !== 'object') return null;
    value = (value as Record<string, unknown>)[key];
    // W&B run configs wrap each entry as {"value": x, "desc": ...}.
    if (value && typeof value === 'object' && !Array.isArray(value) && 'value' in value)
      value = (value as { value: unknown }).value;
  }
  if (value === undefined || value === null) return null;
  return typeof value === 'object' ? JSON.stringify(value) : (value as Cell);
}

const compiled = new Map<string, RegExp>();
function regexp(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) compiled.set(pattern, (re = new RegExp(pattern)));
  return re;
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
    const m = regexp(spec.pattern).exec(String(value));
    if (!m) throw new RowError(column, `"${value}" does not match the pattern ${spec.pattern}`);
    value = m[1] ?? m[0];
  }
  return { value, column };
}

function toNumber(cell: Cell, column: string | undefined): number {
  if (typeof cell === 'number') return cell;
  if (typeof cell === 'boolean' || cell === null)
    throw new RowError(column, `expected a number, got ${JSON.stringify(cell)}`);
  const text = cell.trim();
  if (/^[+-]?(nan|inf|infinity)$/i.test(text))
    return /nan/i.test(text) ? NaN : text.startsWith('-') ? -Infinity : Infinity;
  const n = Number(text);
  if (text === '' || Number.isNaN(n))
    throw new RowError(column, `expected a number, got ${JSON.stringify(cell)}`);
  return n;
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
function canonicalCategory(cell: string | number | boolean): string | number | boolean {
  if (typeof cell !== 'string' || !/^\s*[[{]/.test(cell)) return cell;
  try {
    return JSON.stringify(parseJsonCell(cell));
  } catch {
    return cell;
  }
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
  const mapped = spec.map[key] ?? spec.default;
  if (mapped === undefined)
    throw new RowError(
      column,
      `status ${JSON.stringify(key)} is not in the mapping's status.map (${Object.keys(spec.map).join(', ')})`,
    );
  if (mapped === 'finished' && spec.finishedOnlyIf?.some((c) => !compare(row.get(c.column), c)))
    return spec.otherwise;
  return mapped;
}

function requiredText(row: SourceRow, spec: ValueSource, what: string): string {
  const { value, column } = read(row, spec);
  if (value === null || String(value).trim() === '') throw new RowError(column, `${what} is empty`);
  return String(value).trim();
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

function readMetric(row: SourceRow, name: string, spec: MetricSource): number | undefined {
  const v = optionalNumber(row, spec, metricUnit(spec));
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
      value = canonicalCategory(cell);
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

export function convertTable(table: SourceTable, loaded: LoadedMapping): Conversion {
  const { mapping } = loaded;
  const status = mapping.status ?? FORMAT_STATUS[table.format] ?? 'finished';
  const params = hyperparametersFor(table, mapping);
  checkColumns(table, mapping, status, params, loaded.file);
  const curveMetric = Object.entries(mapping.metrics).find(([, s]) =>
    columnsOf(s).some((c) => c === 'value' || c === 'values.0'),
  );
  const records: ExperimentRecord[] = [];
  const problems: RowProblem[] = [...table.problems];
  let filtered = 0;
  for (const row of table.rows) {
    try {
      if (row.problem) throw new RowError(row.problem.column, row.problem.reason);
      if (mapping.filters?.some((f) => !compare(row.get(f.column), f))) {
        filtered++;
        continue;
      }
      const runStatus = statusOf(row, status);
      if (runStatus === 'skip') {
        filtered++;
        continue;
      }
      const record = convertRow(row, mapping, params, runStatus, table.label, curveMetric);
      records.push(record);
    } catch (err) {
      if (!(err instanceof RowError)) throw err;
      problems.push({
        file: table.file,
        line: row.line,
        column: err.column,
        reason: row.where ? `${row.where}: ${err.message}` : err.message,
      });
    }
  }
  return { records, filtered, problems, hyperparameters: params };
}

function convertRow(
  row: SourceRow,
  mapping: Mapping,
  params: HyperparameterSpec[],
  status: RunStatus,
  source: string,
  curveMetric: [string, MetricSource] | undefined,
): ExperimentRecord {
  const metrics: Record<string, number> = {};
  for (const [name, spec] of Object.entries(mapping.metrics)) {
    const v = readMetric(row, name, spec);
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
    const hw = read(row, c.hardware).value;
    if (hw !== null) cost.hardware = String(hw);
  }
  const seed = optionalNumber(row, mapping.seed);
  if (seed !== undefined && !Number.isInteger(seed))
    throw new RowError(read(row, mapping.seed!).column, `seed must be an integer, got ${seed}`);
  const runId = mapping.runId ? read(row, mapping.runId).value : null;
  const count = optionalNumber(row, mapping.count);
  const std: Record<string, number> = {};
  for (const [name, spec] of Object.entries(mapping.std ?? {})) {
    const v = optionalNumber(row, spec, name === 'trainingTimeSec' ? asIs : metricUnit(spec));
    if (v !== undefined) std[name] = v;
  }
  const curve =
    curveMetric && row.curve?.length
      ? row.curve.map((p) => ({
          epoch: p.step,
          metrics: {
            [curveMetric[0]]: metricUnit(curveMetric[1])(p.value) * (curveMetric[1].scale ?? 1),
          },
        }))
      : undefined;
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
