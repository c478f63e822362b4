// GBDT training and prediction: ours vs XGBoost 1.7 `hist` with nthread=1 on the same generated
// data (20 features, 5% missing) and parameters (300 trees, depth 6, eta 0.1). XGBoost is timed
// inside Python (xgb.train incl. its quantile sketch; data loading excluded); ours is timed
// around trainGBDT (incl. quantization). Both wall-clock and CPU time are printed: on a shared
// machine CPU time is the steadier comparison. Targets: training within 2x, RMSE within 1%.
// Run: node --import tsx bench/gbdt.ts [--rows 10000,100000,1000000]
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { trainGBDT } from '../src/learn/gbdt.ts';
import { predict } from '../src/learn/predict.ts';
import { runXGBoost, tempDir, xgboostMissing } from '../test/learn/xgb-reference.ts';
import { rmse, sliceRows, synthetic } from '../test/learn/synthetic.ts';

const arg = process.argv.indexOf('--rows');
const sizes = (arg > 0 ? process.argv[arg + 1] : '10000,100000').split(',').map(Number);
const params = { n_estimators: 300, max_depth: 6, eta: 0.1, seed: 1 };
const missing = xgboostMissing();
if (missing) {
  console.error(`bench/gbdt: ${missing}`);
  process.exit(1);
}

/** Wall-clock and CPU seconds of `fn`. */
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

const fmt = (s: number) => (s < 1 ? s.toFixed(3) : s.toFixed(2));
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

// Warm-up so that JIT compilation is not billed to the first size.
const warm = synthetic(2, { rows: 2000, missingRate: 0.05 });
predict(trainGBDT(warm, { ...params, n_estimators: 20 }), warm.X);

console.log(
  `load average at start: ${(await import('node:os'))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
for (const rows of sizes) {
  const testRows = Math.max(2000, Math.floor(rows / 10));
  const data = synthetic(rows, { rows: rows + testRows, missingRate: 0.05 });
  const train = sliceRows(data, 0, rows);
  const test = sliceRows(data, rows, rows + testRows);
  const peakBefore = process.resourceUsage().maxRSS * 1024;
  const fit = timed(() => trainGBDT(train, params));
  const peakAfterTraining = process.resourceUsage().maxRSS * 1024;
  const pred = timed(() => predict(fit.value, test.X));
  const oursRss = process.resourceUsage().maxRSS * 1024;

  const dir = tempDir();
  try {
    const ref = runXGBoost({
      dir,
      featureNames: data.featureNames,
      featureTypes: data.featureTypes,
      train,
      params,
      model: join(dir, 'xgb.json'),
      predict: test.X,
    });
    const ourRmse = rmse(pred.value, test.y);
    const refRmse = rmse(ref.prediction!, test.y);
    console.log(
      [
        `${rows} rows x 20 features, 300 trees depth 6 (held-out ${testRows} rows)`,
        `  training wall: ours ${fmt(fit.wall)} s, XGBoost ${fmt(ref.trainSeconds!)} s, ratio ${ratio(fit.wall, ref.trainSeconds!)} (target <= 2x)`,
        `  training CPU:  ours ${fmt(fit.cpu)} s, XGBoost ${fmt(ref.trainCpuSeconds!)} s, ratio ${ratio(fit.cpu, ref.trainCpuSeconds!)}`,
        `  predict wall:  ours ${fmt(pred.wall)} s, XGBoost ${fmt(ref.predictSeconds!)} s, ratio ${ratio(pred.wall, ref.predictSeconds!)}`,
        `  predict CPU:   ours ${fmt(pred.cpu)} s, XGBoost ${fmt(ref.predictCpuSeconds!)} s, ratio ${ratio(pred.cpu, ref.predictCpuSeconds!)}`,
        `  RMSE:          ours ${ourRmse.toFixed(4)}, XGBoost ${refRmse.toFixed(4)}, ratio ${(ourRmse / refRmse).toFixed(4)} (target <= 1.01)`,
        `  peak RSS:      ours ${mb(oursRss)} MB (this process so far, incl. data), XGBoost ${ref.peakRssMb.toFixed(0)} MB (python incl. data); training raised our peak by ${mb(peakAfterTraining - peakBefore)} MB`,
      ].join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
