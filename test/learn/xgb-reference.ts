// Runs real XGBoost 1.7 (Debian's python3-xgboost under /usr/bin/python3) on data written by
// the TypeScript side, for the reference tests and the benchmark.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Matrix } from '../../src/learn/matrix.ts';
import type { FeatureType } from '../../src/learn/tree-model.ts';

export const PYTHON = '/usr/bin/python3';
export const XGB_REF_SCRIPT = fileURLToPath(new URL('./xgb_ref.py', import.meta.url));

/** Why the reference is unusable here, or undefined when XGBoost 1.7 runs. */
export function xgboostMissing(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import xgboost; print(xgboost.__version__)'], {
    encoding: 'utf8',
  });
  if (r.status !== 0) return `XGBoost not importable by ${PYTHON}: ${r.stderr || r.error}`;
  return r.stdout.startsWith('1.7') ? undefined : `need XGBoost 1.7, found ${r.stdout.trim()}`;
}

const created: string[] = [];
process.on('exit', () => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

/** A scratch directory, removed when the process exits. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'metallmix-gbdt-'));
  created.push(dir);
  return dir;
}

function writeF64(path: string, values: Float64Array): string {
  writeFileSync(path, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  return path;
}

function readF64(path: string): Float64Array {
  const buf = readFileSync(path);
  return new Float64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

export interface ReferenceRun {
  dir: string;
  featureNames: string[];
  featureTypes: FeatureType[];
  /** Trains a new model into `model` when given; otherwise loads `model`. */
  train?: { X: Matrix; y: Float64Array; groups?: number[]; weights?: Float64Array };
  valid?: { X: Matrix; y: Float64Array };
  params?: Record<string, unknown>;
  model: string;
  predict?: Matrix;
  /** XGBoost threads (default 1); OMP_WAIT_POLICY=PASSIVE keeps idle OpenMP threads from spinning. */
  nthread?: number;
}

export interface ReferenceResult {
  trainSeconds?: number;
  trainCpuSeconds?: number;
  predictSeconds?: number;
  predictCpuSeconds?: number;
  peakRssMb: number;
  bestIteration?: number;
  margin?: Float64Array;
  prediction?: Float64Array;
}

export function runXGBoost(run: ReferenceRun): ReferenceResult {
  const { dir } = run;
  const mat = (name: string, X: Matrix) => ({
    path: writeF64(join(dir, `${name}.X.f64`), X.data),
    rows: X.numRows,
    cols: X.numFeatures,
  });
  const spec: Record<string, unknown> = {
    feature_names: run.featureNames,
    feature_types: run.featureTypes,
    model: run.model,
    nthread: run.nthread ?? 1,
  };
  if (run.train)
    spec.train = {
      ...mat('train', run.train.X),
      y: writeF64(join(dir, 'train.y.f64'), run.train.y),
      ...(run.train.groups ? { groups: run.train.groups } : {}),
      ...(run.train.weights
        ? { weights: writeF64(join(dir, 'train.w.f64'), run.train.weights) }
        : {}),
    };
  if (run.valid)
    spec.valid = {
      ...mat('valid', run.valid.X),
      y: writeF64(join(dir, 'valid.y.f64'), run.valid.y),
    };
  if (run.params) spec.params = run.params;
  if (run.predict)
    spec.predict = {
      ...mat('predict', run.predict),
      out: join(dir, 'pred.f64'),
      margin_out: join(dir, 'margin.f64'),
    };
  const specPath = join(dir, 'spec.json');
  writeFileSync(specPath, JSON.stringify(spec));
  const r = spawnSync(PYTHON, [XGB_REF_SCRIPT, specPath], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' },
  });
  if (r.status !== 0) throw new Error(`xgb_ref.py failed (${r.status}): ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  return {
    trainSeconds: out.train_seconds,
    trainCpuSeconds: out.train_cpu_seconds,
    predictSeconds: out.predict_seconds,
    predictCpuSeconds: out.predict_cpu_seconds,
    peakRssMb: out.peak_rss_mb,
    bestIteration: out.best_iteration,
    margin: run.predict ? readF64(join(dir, 'margin.f64')) : undefined,
    prediction: run.predict ? readF64(join(dir, 'pred.f64')) : undefined,
  };
}
