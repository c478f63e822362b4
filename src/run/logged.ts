// Runs made outside metallmix (`metallmix record`): one run from flags, or a CSV/JSONL file of
// them, converted with the import's own machinery (a mapping built from the knowledge base's
// declarations), so they are validated exactly like an import: file, line, column and reason,
// and nothing written when any row is invalid.
//
// Columns (CSV header or JSONL keys; JSONL may nest `config` and `metrics` objects):
//   dataset, model                    required
//   config.NAME                       a hyperparameter; its type is the knowledge base's
//                                     declaration, else inferred (numbers: float, true/false:
//                                     bool, otherwise categorical)
//   metrics.NAME                      a metric (fractions in [0, 1], as every record)
//   training_time_sec, epochs, seed, run_id, status (finished | failed | stopped)   optional
import { MetallmixError, type ExperimentRecord, type ParamValue } from '../core/index.ts';
import { Converter } from '../store/convert.ts';
import type { HyperparameterSpec, LoadedMapping, Mapping } from '../store/mapping.ts';
import { detectFormat, readSources } from '../store/sources.ts';
import type { Cell, RowProblem, SourceRow, SourceTable } from '../store/source-table.ts';
import type { DeclaredHyperparameter } from '../store/knowledge-base.ts';

export const COMMAND_LINE = 'command line';

/** One run as flags give it: every value as typed. */
export interface LoggedRun {
  dataset: string;
  model: string;
  config: Record<string, string | number | boolean>;
  metrics: Record<string, string | number>;
  trainingTimeSec?: string | number;
  epochs?: string | number;
  seed?: string | number;
  runId?: string;
  status?: string;
}

const FIXED_COLUMNS = [
  'dataset',
  'model',
  'training_time_sec',
  'epochs',
  'seed',
  'run_id',
  'status',
];

/** Flag mode: a one-row table whose columns are named as the flags a user typed. */
export function tableOfRun(run: LoggedRun): SourceTable {
  const cells = new Map<string, Cell>();
  cells.set('dataset', run.dataset);
  cells.set('model', run.model);
  for (const [k, v] of Object.entries(run.config)) cells.set(`config.${k}`, v);
  for (const [k, v] of Object.entries(run.metrics)) cells.set(`metrics.${k}`, v);
  if (run.trainingTimeSec !== undefined) cells.set('training_time_sec', run.trainingTimeSec);
  if (run.epochs !== undefined) cells.set('epochs', run.epochs);
  if (run.seed !== undefined) cells.set('seed', run.seed);
  if (run.runId !== undefined) cells.set('run_id', run.runId);
  if (run.status !== undefined) cells.set('status', run.status);
  const row: SourceRow = {
    line: 1,
    get: (c) => {
      const v = cells.get(c);
      return typeof v === 'string' && v.trim() === '' ? null : v;
    },
  };
  return {
    file: COMMAND_LINE,
    format: 'jsonl',
    label: 'metallmix record',
    columns: new Set(cells.keys()),
    rows: [row],
    problems: [],
  };
}

export async function tableOfFile(file: string): Promise<SourceTable> {
  const format = detectFormat(file);
  if (format !== 'csv' && format !== 'jsonl')
    throw new MetallmixError('record reads CSV or JSONL files (.csv, .jsonl)', {
      location: { file },
    });
  const [table] = await readSources(file, format);
  // A file of logged runs is small and its types are inferred from every row: read it whole.
  const rows: SourceRow[] = [...table!.rows];
  if (table!.streamed) for await (const row of table!.streamed) rows.push(row);
  return { ...table!, rows, streamed: undefined };
}

function inferType(cells: Cell[]): HyperparameterSpec['type'] {
  const present = cells.filter((c): c is string | number | boolean => c !== null);
  if (
    present.length &&
    present.every((c) => typeof c === 'boolean' || /^(true|false)$/i.test(String(c)))
  )
    return 'bool';
  const numeric = (c: string | number | boolean) =>
    typeof c === 'number' ||
    (typeof c === 'string' && c.trim() !== '' && Number.isFinite(Number(c)));
  if (present.length && present.every(numeric)) return 'float';
  return 'categorical';
}

/** The mapping that reads a record table, with types from the knowledge base's declarations. */
export function mappingFor(
  table: SourceTable,
  declared: readonly DeclaredHyperparameter[],
): LoadedMapping {
  const where = { file: table.file, line: table.file === COMMAND_LINE ? 1 : undefined };
  const columns = [...table.columns];
  // A header that names a column twice is read as `name#2` (W&B's repeated names): here it is
  // two values for one field, which no row can mean.
  const repeated = columns
    .map((c) => c.replace(/#\d+$/, ''))
    .find((base, i) => base !== columns[i] && table.columns.has(base));
  if (repeated)
    throw new MetallmixError(`the header names the column "${repeated}" twice`, {
      location: { ...where, line: 1, column: repeated },
    });
  // A nested JSONL object also stays whole under its own name (`config`, `metrics`).
  const unknown = columns.filter(
    (c) =>
      !FIXED_COLUMNS.includes(c) &&
      !/^(config|metrics)\..+/.test(c) &&
      !(c === 'config' || c === 'metrics'),
  );
  if (unknown.length)
    throw new MetallmixError(
      `column${unknown.length > 1 ? 's' : ''} ${unknown.map((c) => `"${c}"`).join(', ')}: not one of ${FIXED_COLUMNS.join(', ')}, config.NAME (a hyperparameter) or metrics.NAME (a metric)`,
      { location: { ...where, column: unknown[0] } },
    );
  for (const required of ['dataset', 'model'])
    if (!table.columns.has(required))
      throw new MetallmixError(`no "${required}" column`, {
        location: { ...where, column: required },
      });
  const metricColumns = columns.filter((c) => c.startsWith('metrics.'));
  if (metricColumns.length === 0)
    throw new MetallmixError('give at least one metric (metrics.NAME, or --metric NAME=VALUE)', {
      location: { ...where, column: 'metrics' },
    });
  const byName = new Map(declared.map((d) => [d.name, d]));
  const hyperparameters: HyperparameterSpec[] = columns
    .filter((c) => c.startsWith('config.'))
    .map((column) => {
      const name = column.slice('config.'.length);
      const d = byName.get(name);
      if (d)
        return {
          name,
          column,
          type: d.type,
          ...(d.log ? { log: d.log } : {}),
          ...(d.condition ? { condition: d.condition } : {}),
          ...(d.choices ? { choices: d.choices as ParamValue[] } : {}),
        };
      return { name, column, type: inferType(table.rows.map((r) => r.get(column) ?? null)) };
    });
  // A condition's parent must be read with its child; an absent parent leaves the child inactive.
  for (const h of hyperparameters)
    if (h.condition && !hyperparameters.some((p) => p.name === h.condition!.parent))
      throw new MetallmixError(
        `${h.name} applies only when ${h.condition.parent} is ${h.condition.values.join(' or ')}: give ${h.condition.parent} too`,
        { location: { ...where, column: `config.${h.condition.parent}` } },
      );
  const mapping: Mapping = {
    dataset: { column: 'dataset' },
    model: { column: 'model' },
    metrics: Object.fromEntries(
      metricColumns.map((c) => [c.slice('metrics.'.length), { column: c }]),
    ),
    cost: {
      ...(table.columns.has('training_time_sec')
        ? { trainingTimeSec: { column: 'training_time_sec' } }
        : {}),
      ...(table.columns.has('epochs') ? { epochs: { column: 'epochs' } } : {}),
    },
    ...(table.columns.has('seed') ? { seed: { column: 'seed' } } : {}),
    ...(table.columns.has('run_id') ? { runId: { column: 'run_id' } } : {}),
    status: table.columns.has('status')
      ? {
          column: 'status',
          // An empty cell is a finished run, as without the column.
          map: { '': 'finished', finished: 'finished', failed: 'failed', stopped: 'stopped' },
          otherwise: 'stopped',
        }
      : 'finished',
    hyperparameters,
  };
  return { file: '(metallmix record)', mapping, profiles: [], models: [] };
}

/** The import's advice names the mapping, which a recorded run has none of. */
function forRecord(p: RowProblem): RowProblem {
  return {
    ...p,
    reason: p.reason
      .replace(
        /; if the column is in percent, set "unit": "percent"/,
        '; give a fraction (0.91, not 91)',
      )
      .replace(
        /is not in the mapping's status\.map \([^)]*\)/,
        'is not a status: give finished, failed or stopped',
      ),
  };
}

/** Converts the table; throws naming the first invalid row (nothing is written then). */
export function loggedRecords(
  table: SourceTable,
  declared: readonly DeclaredHyperparameter[],
): { records: ExperimentRecord[]; hyperparameters: HyperparameterSpec[] } {
  const loaded = mappingFor(table, declared);
  const converter = new Converter(table, loaded);
  const records: ExperimentRecord[] = [];
  const found: RowProblem[] = [...table.problems];
  for (const row of table.rows) {
    const out = converter.convert(row);
    if ('record' in out) records.push(out.record);
    else if ('problem' in out) found.push(out.problem);
  }
  converter.finish();
  const problems = found.map(forRecord);
  if (problems.length) {
    const first = problems[0]!;
    const more = problems.length - 1;
    throw new MetallmixError(
      `${first.reason}${more ? ` (and ${more} more invalid row${more > 1 ? 's' : ''})` : ''}; nothing was recorded`,
      { location: { file: first.file, line: first.line, column: first.column } },
    );
  }
  return {
    records: records.map((r) => ({
      ...r,
      provenance: { ...r.provenance, trial: { executor: 'record' } },
    })),
    hyperparameters: converter.hyperparameters,
  };
}
