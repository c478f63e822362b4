// Reads an MLflow file store (the `mlruns/` directory MLflow's FileStore writes): one folder per
// experiment with its meta.yaml and tags/, one folder per run with meta.yaml (status as
// MLflow's RunStatus integer, times in ms), params/ and tags/ (one file per key, the value as
// its text) and metrics/ (one file per key, a line "timestamp value step" per logged value);
// keys with slashes are nested folders. Deleted experiments (.trash) and runs are left out, as
// MLflow's default view does.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { MetallmixError } from '../core/index.ts';
import { readUtf8File } from '../core/files.ts';
import {
  RUN_STATUS_NAMES,
  latestOf,
  mlflowTable,
  parseMetricValue,
  type MetricPoint,
  type MlflowExperiment,
  type MlflowRun,
} from './mlflow.ts';
import { withSharedColumns, type SourceTable } from './source-table.ts';

/** Folders of an experiment that are not runs. */
const NOT_RUNS = new Set(['tags', 'datasets', 'traces']);

function readYaml(file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = parseYaml(readUtf8File(file, 'the MLflow metadata file'));
  } catch (err) {
    if (err instanceof MetallmixError) throw err;
    throw new MetallmixError(`not valid YAML: ${(err as Error).message}`, {
      location: { file },
      cause: err,
    });
  }
  if (!value || typeof value !== 'object')
    throw new MetallmixError('expected a YAML mapping', { location: { file } });
  return value as Record<string, unknown>;
}

function subdirs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** Every file under `dir` by key (its path relative to `dir`, with slashes). */
function keyedFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  const walk = (sub: string) => {
    for (const e of readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${e.name}` : e.name;
      if (e.isDirectory()) walk(rel);
      else out.set(rel, path.join(dir, rel));
    }
  };
  walk('');
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** A param or tag file's text; MLflow writes it without a newline, a hand-made one may add one. */
const valueOf = (file: string) =>
  readUtf8File(file, 'an MLflow param or tag file').replace(/\r?\n$/, '');

function readMetric(file: string): MetricPoint[] {
  const points: MetricPoint[] = [];
  readUtf8File(file, 'an MLflow metric file')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (line.trim() === '') return;
      const parts = line.trim().split(/\s+/);
      const [ts, text = '', st = '0'] = parts;
      const timestamp = Number(ts);
      const value = parseMetricValue(text);
      const step = Number(st);
      const valid =
        (parts.length === 2 || parts.length === 3) &&
        Number.isInteger(timestamp) &&
        Number.isInteger(step) &&
        (!Number.isNaN(value) || /^nan$/i.test(text));
      if (!valid)
        throw new MetallmixError(`expected "timestamp value step", got ${JSON.stringify(line)}`, {
          location: { file, line: i + 1 },
        });
      points.push({ timestamp, value, step });
    });
  return points;
}

const millis = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;

function readRun(dir: string, experimentId: string): MlflowRun | undefined {
  const metaFile = path.join(dir, 'meta.yaml');
  if (!existsSync(metaFile)) return undefined;
  const meta = readYaml(metaFile);
  if (meta.lifecycle_stage === 'deleted') return undefined;
  const runId = String(meta.run_id ?? meta.run_uuid ?? path.basename(dir));
  const code = typeof meta.status === 'number' ? meta.status : 1;
  const status = RUN_STATUS_NAMES[code];
  if (!status)
    throw new MetallmixError(`unknown run status ${JSON.stringify(meta.status)}`, {
      location: { file: metaFile, field: 'status' },
    });
  const values = (sub: string) =>
    new Map([...keyedFiles(path.join(dir, sub))].map(([k, f]) => [k, valueOf(f)]));
  const history = new Map(
    [...keyedFiles(path.join(dir, 'metrics'))].map(([k, f]) => [k, readMetric(f)]),
  );
  const latest = new Map<string, MetricPoint>();
  for (const [k, points] of history) {
    const p = latestOf(points);
    if (p) latest.set(k, p);
  }
  return {
    runId,
    runName: typeof meta.run_name === 'string' && meta.run_name ? meta.run_name : undefined,
    experimentId,
    status,
    userId: typeof meta.user_id === 'string' ? meta.user_id : undefined,
    startTime: millis(meta.start_time),
    endTime: millis(meta.end_time),
    params: values('params'),
    tags: values('tags'),
    latest,
    history,
  };
}

/** Whether `dir` looks like an MLflow file store: a folder whose experiments have meta.yaml. */
export function isMlflowFileStore(dir: string): boolean {
  try {
    if (!statSync(dir).isDirectory()) return false;
    return subdirs(dir).some((e) => {
      const meta = path.join(dir, e, 'meta.yaml');
      return (
        existsSync(meta) && /experiment_id/.test(readUtf8File(meta, 'the MLflow metadata file'))
      );
    });
  } catch {
    return false;
  }
}

/** One table per active experiment, in experiment-id order. */
export function readMlflowFileStore(dir: string): SourceTable[] {
  if (!isMlflowFileStore(dir))
    throw new MetallmixError(
      'not an MLflow file store: expected experiment folders with meta.yaml (the mlruns/ directory)',
      { location: { file: dir } },
    );
  const root = path.resolve(dir);
  const tables: SourceTable[] = [];
  for (const name of subdirs(root)) {
    const metaFile = path.join(root, name, 'meta.yaml');
    if (name.startsWith('.') || !existsSync(metaFile)) continue;
    const meta = readYaml(metaFile);
    if (meta.experiment_id === undefined || meta.lifecycle_stage === 'deleted') continue;
    const experiment: MlflowExperiment = {
      id: String(meta.experiment_id),
      name: String(meta.name ?? name),
      tags: new Map(
        [...keyedFiles(path.join(root, name, 'tags'))].map(([k, f]) => [k, valueOf(f)]),
      ),
    };
    const runs = subdirs(path.join(root, name))
      .filter((r) => !NOT_RUNS.has(r))
      .map((r) => readRun(path.join(root, name, r), experiment.id))
      .filter((r): r is MlflowRun => r !== undefined)
      .sort((a, b) => (a.startTime ?? 0) - (b.startTime ?? 0) || (a.runId < b.runId ? -1 : 1));
    if (runs.length === 0) continue;
    tables.push(mlflowTable(dir, `mlflow:${root}#${experiment.name}`, experiment, runs));
  }
  return withSharedColumns(tables);
}
