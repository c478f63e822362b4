// MLflow runs as rows of virtual columns, whether they come from a file store (mlflow-files.ts)
// or a tracking server (mlflow-rest.ts), so one mapping reads both and the same run gives the
// same record either way. The columns (data/README.md, "mlflow"):
//   run_id, run_name, experiment_id, experiment, status, user_id, start_time, end_time (ms),
//   duration_sec (end - start: the training time), params.KEY, tags.KEY, experiment_tags.KEY,
//   parent_run_id (the mlflow.parentRunId tag), child_runs (how many runs of the experiment name
//   this one as their parent: a sweep's parent run has some, and a filter leaves it out),
//   metrics.KEY (the latest value: highest step, then timestamp, as MLflow reports it),
//   metrics_step.KEY (its step), metrics_min.KEY, metrics_max.KEY and metrics_best.KEY (the min
//   for losses, errors and times, else the max) over the metric's history. The history behind
//   metrics.KEY and the aggregates is the record's learning curve (one value per step).
import { isLowerBetter } from '../core/index.ts';
import type { Mapping } from './mapping.ts';
import type { Cell, HistoryPoint, SourceRow, SourceTable } from './source-table.ts';
import { maxOf, minOf } from '../core/arrays.ts';

export interface MetricPoint {
  value: number;
  timestamp: number;
  step: number;
}

export interface MlflowRun {
  runId: string;
  runName?: string;
  experimentId: string;
  /** FINISHED, FAILED, KILLED, RUNNING or SCHEDULED. */
  status: string;
  userId?: string;
  startTime?: number;
  endTime?: number;
  params: Map<string, string>;
  tags: Map<string, string>;
  /** The latest value of each metric. */
  latest: Map<string, MetricPoint>;
  /** Full histories of the metrics that were read whole (the file store reads them all). */
  history: Map<string, MetricPoint[]>;
}

export interface MlflowExperiment {
  id: string;
  name: string;
  tags: Map<string, string>;
}

/** MLflow's RunStatus enum as the file store writes it (an integer in meta.yaml). */
export const RUN_STATUS_NAMES: Record<number, string> = {
  1: 'RUNNING',
  2: 'SCHEDULED',
  3: 'FINISHED',
  4: 'FAILED',
  5: 'KILLED',
};

const AGGREGATE_PREFIXES = ['metrics_min.', 'metrics_max.', 'metrics_best.'] as const;

/** The columns whose values come from a metric's history, which is then the record's curve. */
const HISTORY_PREFIXES = ['metrics.', ...AGGREGATE_PREFIXES] as const;

/** The metric key behind a column that a history stands behind, if it is one. */
function historyKeyOf(column: string): string | undefined {
  const prefix = HISTORY_PREFIXES.find((p) => column.startsWith(p));
  return prefix && column.slice(prefix.length);
}

/** MLflow's latest value: the highest step, then the latest timestamp, then the highest value. */
export function latestOf(points: readonly MetricPoint[]): MetricPoint | undefined {
  let best: MetricPoint | undefined;
  for (const p of points)
    if (
      !best ||
      p.step > best.step ||
      (p.step === best.step &&
        (p.timestamp > best.timestamp || (p.timestamp === best.timestamp && p.value > best.value)))
    )
      best = p;
  return best;
}

/** Python's float repr of a metric value, including nan and inf. */
export function parseMetricValue(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === 'nan') return NaN;
  if (t === 'inf' || t === 'infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  return t === '' ? NaN : Number(t);
}

/**
 * The metric keys whose whole history the mapping reads: its min, max or best, or its latest
 * value, whose history is the record's learning curve.
 */
export function historyKeys(mapping: Mapping | undefined): Set<string> {
  const keys = new Set<string>();
  const add = (column: unknown) => {
    const key = typeof column === 'string' ? historyKeyOf(column) : undefined;
    if (key !== undefined) keys.add(key);
  };
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) {
        if (k === 'column') [v].flat().forEach(add);
        else visit(v);
      }
  };
  visit(mapping);
  return keys;
}

const PARENT_TAG = 'mlflow.parentRunId';

function cellsOf(
  run: MlflowRun,
  experiment: MlflowExperiment,
  children: ReadonlyMap<string, number>,
): Map<string, Cell> {
  const cells = new Map<string, Cell>([
    ['run_id', run.runId],
    ['parent_run_id', run.tags.get(PARENT_TAG) ?? null],
    ['child_runs', children.get(run.runId) ?? 0],
    ['run_name', run.runName ?? run.tags.get('mlflow.runName') ?? null],
    ['experiment_id', run.experimentId],
    ['experiment', experiment.name],
    ['status', run.status],
    ['user_id', run.userId ?? null],
    ['start_time', run.startTime ?? null],
    ['end_time', run.endTime ?? null],
    [
      'duration_sec',
      run.startTime !== undefined && run.endTime !== undefined && run.endTime >= run.startTime
        ? (run.endTime - run.startTime) / 1000
        : null,
    ],
  ]);
  for (const [k, v] of experiment.tags) cells.set(`experiment_tags.${k}`, v);
  for (const [k, v] of run.params) cells.set(`params.${k}`, v);
  for (const [k, v] of run.tags) cells.set(`tags.${k}`, v);
  for (const [k, p] of run.latest) {
    cells.set(`metrics.${k}`, p.value);
    cells.set(`metrics_step.${k}`, p.step);
  }
  for (const [k, points] of run.history) {
    const finite = points.map((p) => p.value).filter(Number.isFinite);
    const min = finite.length ? minOf(finite) : null;
    const max = finite.length ? maxOf(finite) : null;
    cells.set(`metrics_min.${k}`, min);
    cells.set(`metrics_max.${k}`, max);
    cells.set(`metrics_best.${k}`, isLowerBetter(k) ? min : max);
  }
  return cells;
}

/**
 * One value per step, in step order: of several values logged at one step, the latest (latest
 * timestamp, then highest value, as latestOf decides), so the order a server returns them in
 * does not matter.
 */
export function stepHistory(points: readonly MetricPoint[]): HistoryPoint[] {
  const byStep = new Map<number, MetricPoint>();
  for (const p of points) {
    const seen = byStep.get(p.step);
    if (!seen || latestOf([seen, p]) === p) byStep.set(p.step, p);
  }
  return [...byStep.values()]
    .sort((a, b) => a.step - b.step)
    .map((p) => ({ step: p.step, value: p.value }));
}

/** The runs of one experiment as a source table; a run lacking a column has an empty cell. */
export function mlflowTable(
  file: string,
  label: string,
  experiment: MlflowExperiment,
  runs: readonly MlflowRun[],
): SourceTable {
  const children = new Map<string, number>();
  for (const r of runs) {
    const parent = r.tags.get(PARENT_TAG);
    if (parent !== undefined) children.set(parent, (children.get(parent) ?? 0) + 1);
  }
  const all = runs.map((r) => cellsOf(r, experiment, children));
  const columns = new Set<string>([
    'run_id',
    'parent_run_id',
    'child_runs',
    'experiment',
    'status',
    'duration_sec',
  ]);
  for (const cells of all) for (const k of cells.keys()) columns.add(k);
  const rows: SourceRow[] = all.map((cells, i) => {
    const steps = new Map([...runs[i].history].map(([k, points]) => [k, stepHistory(points)]));
    return {
      line: i + 1,
      where: `run ${runs[i].runId}`,
      history: (column) => {
        const key = historyKeyOf(column);
        return key === undefined ? undefined : steps.get(key);
      },
      get: (column) =>
        cells.has(column) ? cells.get(column) : columns.has(column) ? null : undefined,
    };
  });
  // Errors name the experiment as Optuna's name the study: `mlruns#sweep-3:4 (run ab12)`.
  return {
    file: `${file}#${experiment.name}`,
    format: 'mlflow',
    label,
    columns,
    rows,
    problems: [],
  };
}
