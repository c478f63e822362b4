// GBDT training and prediction: ours vs XGBoost 1.7 `hist` on the same generated data (20
// features, 5% missing, held-out max(2000, rows/10) rows) and parameters (300 trees, depth 6,
// eta 0.1), each measurement in its own child process so that one side's data and heap never
// count in the other's peak memory. Run with --help for the flags; bench/README.md has figures.
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainGBDT } from '../src/learn/gbdt.ts';
import { predict } from '../src/learn/predict.ts';
import { PYTHON, XGB_REF_SCRIPT, xgboostMissing } from '../test/learn/xgb-reference.ts';
import { rmse, sliceRows, synthetic } from '../test/learn/synthetic.ts';

const HELP = `node --import tsx bench/gbdt.ts [--rows 10000,100000,1000000] [--repeats N]
       [--threads 1,2] [--csv [--csv-rows 1000000]]

--rows      data sizes (training rows); default 10000,100000,1000000
--repeats   child processes per configuration and size; default 3 up to 100k rows, 1 above
--threads   thread counts to run, for ours (nthread) and XGBoost alike; default 1,2
--csv       instead: peak memory and time of the CLI path, \`metallmix gbdt train --data x.csv\`,
            vs XGBoost reading the same CSV with np.loadtxt (--csv-rows rows x 20, default 1M)`;

const PARAMS = { n_estimators: 300, max_depth: 6, eta: 0.1, seed: 1 };
const SELF = fileURLToPath(import.meta.url);

interface MatrixFile {
  path: string;
  rows: number;
  cols: number;
}

interface ChildSpec {
  train: MatrixFile & { y: string };
  test: MatrixFile & { y: string };
  nthread: number;
}

/** What one child process measured. */
interface Run {
  trainWall: number;
  trainCpu: number;
  predictWall: number;
  predictCpu: number;
  rmse: number;
  peakRssMb: number;
}

function readF64(path: string): Float64Array {
  const buf = readFileSync(path);
  return new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
}

function writeF64(path: string, values: Float64Array): string {
  writeFileSync(path, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  return path;
}

/** Wall-clock and CPU seconds (all threads of the process) of `fn`. */
function timed<T>(fn: () => T): { value: T; wall: number; cpu: number } {
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const value = fn();
  const used = process.cpuUsage(cpu);
  return {
    value,
    wall: Number(process.hrtime.bigint() - start) / 1e9,
    cpu: (used.user + used.system) / 1e6,
  };
}

/** Child: our side of one measurement (data read from the files the parent wrote). */
function child(specPath: string): void {
  const spec = JSON.parse(readFileSync(specPath, 'utf8')) as ChildSpec;
  const params = spec.nthread > 1 ? { ...PARAMS, nthread: spec.nthread } : PARAMS;
  // Warm-up so that JIT compilation is not billed to the measurement.
  const warm = synthetic(2, { rows: 2000, missingRate: 0.05 });
  predict(trainGBDT(warm, { ...params, n_estimators: 20 }), warm.X);
  const load = (m: MatrixFile & { y: string }) => ({
    X: { data: readF64(m.path), numRows: m.rows, numFeatures: m.cols },
    y: readF64(m.y),
  });
  const train = load(spec.train);
  const test = load(spec.test);
  const fit = timed(() => trainGBDT(train, params));
  const pred = timed(() => predict(fit.value, test.X));
  const run: Run = {
    trainWall: fit.wall,
    trainCpu: fit.cpu,
    predictWall: pred.wall,
    predictCpu: pred.cpu,
    rmse: rmse(pred.value, test.y),
    peakRssMb: (process.resourceUsage().maxRSS * 1024) / 2 ** 20,
  };
  process.stdout.write(`${JSON.stringify(run)}\n`);
}

function spawnJson(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): unknown {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, env });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

function ours(specPath: string): Run {
  return spawnJson(process.execPath, ['--import', 'tsx', SELF, '--child', specPath]) as Run;
}

function xgboost(dir: string, spec: ChildSpec, yTest: Float64Array): Run {
  const names = Array.from({ length: spec.train.cols }, (_, j) => `x${j}`);
  const margin = join(dir, 'xgb.margin.f64');
  const pred = join(dir, 'xgb.pred.f64');
  const pySpec = {
    feature_names: names,
    feature_types: names.map(() => 'q'),
    model: join(dir, 'xgb.json'),
    nthread: spec.nthread,
    params: PARAMS,
    train: { path: spec.train.path, rows: spec.train.rows, cols: spec.train.cols, y: spec.train.y },
    predict: {
      path: spec.test.path,
      rows: spec.test.rows,
      cols: spec.test.cols,
      out: pred,
      margin_out: margin,
    },
  };
  const path = join(dir, `xgb-spec-${spec.nthread}.json`);
  writeFileSync(path, JSON.stringify(pySpec));
  // PASSIVE: idle OpenMP threads sleep instead of spinning (they would take the other core).
  const out = spawnJson(PYTHON, [XGB_REF_SCRIPT, path], {
    ...process.env,
    OMP_WAIT_POLICY: 'PASSIVE',
  }) as Record<string, number>;
  return {
    trainWall: out.train_seconds,
    trainCpu: out.train_cpu_seconds,
    predictWall: out.predict_seconds,
    predictCpu: out.predict_cpu_seconds,
    rmse: rmse(readF64(pred), yTest),
    peakRssMb: out.peak_rss_mb,
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (s: number) => (s < 10 ? s.toFixed(3) : s.toFixed(2));
/** "median [min-max]" of seconds. */
const spread = (xs: number[], f = fmt) =>
  xs.length === 1 ? f(xs[0]) : `${f(median(xs))} [${f(Math.min(...xs))}-${f(Math.max(...xs))}]`;
const ratio = (a: number[], b: number[], digits = 2) =>
  `${(median(a) / median(b)).toFixed(digits)}x`;

function benchSize(rows: number, repeats: number, threads: number[]): void {
  const testRows = Math.max(2000, Math.floor(rows / 10));
  const data = synthetic(rows, { rows: rows + testRows, missingRate: 0.05 });
  const train = sliceRows(data, 0, rows);
  const test = sliceRows(data, rows, rows + testRows);
  const dir = mkdtempSync(join(tmpdir(), 'metallmix-bench-gbdt-'));
  try {
    const F = data.X.numFeatures;
    const file = (name: string, X: Float64Array, y: Float64Array, n: number) => ({
      path: writeF64(join(dir, `${name}.X.f64`), X),
      y: writeF64(join(dir, `${name}.y.f64`), y),
      rows: n,
      cols: F,
    });
    const base = {
      train: file('train', train.X.data, train.y, rows),
      test: file('test', test.X.data, test.y, testRows),
    };
    const results = new Map<string, Run[]>();
    const failed = new Map<string, string>();
    const add = (key: string, run: () => Run) => {
      try {
        results.set(key, [...(results.get(key) ?? []), run()]);
      } catch (err) {
        failed.set(key, (err as Error).message.split('\n').slice(0, 3).join(' '));
      }
    };
    // Interleaved, so that a burst of load from other work hits every configuration alike.
    for (let rep = 0; rep < repeats; rep++)
      for (const t of threads) {
        const spec: ChildSpec = { ...base, nthread: t };
        const specPath = join(dir, `spec-${t}.json`);
        writeFileSync(specPath, JSON.stringify(spec));
        add(`ours${t}`, () => ours(specPath));
        add(`xgb${t}`, () => xgboost(dir, spec, test.y));
      }
    const col = (key: string, pick: (r: Run) => number) => (results.get(key) ?? []).map(pick);
    const both = (
      what: string,
      o: string,
      x: string,
      pick: (r: Run) => number,
      f = (v: number) => `${fmt(v)} s`,
      digits = 2,
    ) => {
      const a = col(o, pick);
      const b = col(x, pick);
      const show = (v: number[]) => (v.length ? spread(v, f) : 'n/a');
      const r = a.length && b.length ? `, ratio ${ratio(a, b, digits)}` : '';
      return `    ${what.padEnd(14)} ours ${show(a)}, XGBoost ${show(b)}${r}`;
    };
    const lines = [
      `${rows} rows x ${F} features, ${PARAMS.n_estimators} trees depth ${PARAMS.max_depth}, held-out ${testRows} rows; ${repeats} run(s) each, median [min-max]`,
    ];
    for (const t of threads) {
      const o = `ours${t}`;
      const x = `xgb${t}`;
      lines.push(`  nthread=${t}`);
      for (const key of [o, x])
        if (failed.has(key)) lines.push(`    ${key} failed: ${failed.get(key)}`);
      lines.push(
        both('training wall', o, x, (r) => r.trainWall),
        both('training CPU', o, x, (r) => r.trainCpu),
        both('predict wall', o, x, (r) => r.predictWall),
        both('predict CPU', o, x, (r) => r.predictCpu),
        both(
          'RMSE',
          o,
          x,
          (r) => r.rmse,
          (v) => v.toFixed(4),
          4,
        ),
        both(
          'peak RSS',
          o,
          x,
          (r) => r.peakRssMb,
          (v) => `${v.toFixed(0)} MB`,
        ),
      );
    }
    const [t0, t1] = [threads[0], threads[threads.length - 1]];
    const speedup = (who: string) => {
      const a = col(`${who}${t1}`, (r) => r.trainWall);
      const b = col(`${who}${t0}`, (r) => r.trainWall);
      return a.length && b.length ? ratio(a, b) : 'n/a';
    };
    if (threads.length > 1)
      lines.push(
        `  training wall nthread=${t1} / nthread=${t0}: ours ${speedup('ours')}, XGBoost ${speedup('xgb')}`,
      );
    console.log(lines.join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Peak RSS (MB) and wall seconds of a command, from GNU time. */
function timeV(cmd: string, args: string[]): { peakMb: number; wall: number; out: string } {
  const start = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-v', cmd, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' },
  });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr}`);
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)![1]);
  return { peakMb: kb / 1024, wall, out: r.stdout };
}

const XGB_CSV = `
import sys, numpy as np, xgboost as xgb
path, out = sys.argv[1], sys.argv[2]
data = np.loadtxt(path, delimiter=",", skiprows=1, converters=lambda s: float(s) if s else np.nan)
d = xgb.DMatrix(data[:, :-1], label=data[:, -1], nthread=1)
del data
bst = xgb.train(dict(tree_method="hist", max_depth=6, eta=0.1, seed=1, nthread=1), d, 300)
bst.save_model(out)
`;

function benchCsv(rows: number): void {
  const dir = mkdtempSync(join(tmpdir(), 'metallmix-bench-gbdt-csv-'));
  try {
    const data = synthetic(rows, { rows, missingRate: 0.05 });
    const F = data.X.numFeatures;
    const csv = join(dir, 'train.csv');
    const fd = openSync(csv, 'w');
    writeSync(fd, `${[...data.featureNames, 'y'].join(',')}\n`);
    const cell = (v: number) => (Number.isNaN(v) ? '' : String(Number(v.toPrecision(7))));
    for (let start = 0; start < rows; start += 10_000) {
      const lines: string[] = [];
      for (let r = start; r < Math.min(rows, start + 10_000); r++) {
        const cells = Array.from(data.X.data.subarray(r * F, (r + 1) * F), cell);
        cells.push(cell(data.y[r]));
        lines.push(cells.join(','));
      }
      writeSync(fd, `${lines.join('\n')}\n`);
    }
    closeSync(fd);
    const bytes = statSync(csv).size;
    const cli = fileURLToPath(new URL('../bin/metallmix.js', import.meta.url));
    const o = timeV(process.execPath, [
      cli,
      'gbdt',
      'train',
      '--data',
      csv,
      '--target',
      'y',
      '--params',
      JSON.stringify(PARAMS),
      '--out',
      join(dir, 'ours.json'),
      '--json',
    ]);
    const x = timeV(PYTHON, ['-c', XGB_CSV, csv, join(dir, 'xgb.json')]);
    console.log(
      [
        `CLI path: ${rows} rows x ${F} features + target as CSV (${(bytes / 2 ** 20).toFixed(0)} MB), ${PARAMS.n_estimators} trees depth ${PARAMS.max_depth}, one thread`,
        `  ours:    metallmix gbdt train --data train.csv (parse + train + save), GNU time`,
        `  XGBoost: np.loadtxt + DMatrix + xgb.train + save_model, GNU time`,
        `  peak RSS  ours ${o.peakMb.toFixed(0)} MB, XGBoost ${x.peakMb.toFixed(0)} MB, ratio ${(o.peakMb / x.peakMb).toFixed(2)}x`,
        `  wall      ours ${fmt(o.wall)} s, XGBoost ${fmt(x.wall)} s, ratio ${(o.wall / x.wall).toFixed(2)}x`,
      ].join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function main(): void {
  if (process.argv.includes('--help')) return console.log(HELP);
  const missing = xgboostMissing();
  if (missing) {
    console.error(`bench/gbdt: ${missing}`);
    process.exit(1);
  }
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  if (process.argv.includes('--csv')) return benchCsv(Number(flag('--csv-rows') ?? 1_000_000));
  console.log(
    [
      'Timed inside each child process, after loading its data from raw float64 files (not timed):',
      '  ours:    trainGBDT (quantile cuts, binning, worker start-up when nthread > 1, boosting),',
      '           after a 2000-row warm-up training (JIT); predict() on the held-out rows, one thread.',
      '  XGBoost: xgb.train (its quantile sketch and histogram index included; DMatrix from numpy',
      '           not timed); predict(output_margin=True) on the held-out rows with the same nthread.',
      '  CPU = user + system time of all threads; peak RSS = the child process (its data included).',
    ].join('\n'),
  );
  const sizes = (flag('--rows') ?? '10000,100000,1000000').split(',').map(Number);
  const threads = (flag('--threads') ?? '1,2').split(',').map(Number);
  for (const rows of sizes) {
    const repeats = Number(flag('--repeats') ?? (rows <= 100_000 ? 3 : 1));
    benchSize(rows, repeats, threads);
  }
}

if (process.argv[2] === '--child') child(process.argv[3]);
else main();
