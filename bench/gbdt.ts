// GBDT training and prediction: ours vs XGBoost 1.7 `hist` with nthread=1 on the same generated
// data (20 features, 5% missing) and parameters (300 trees, depth 6, eta 0.1). XGBoost is timed
// inside Python (xgb.train incl. its quantile sketch; data loading excluded); ours is timed
// around trainGBDT (incl. quantization). Targets: training within 2x, held-out RMSE within 1%.
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

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

// Warm-up so that JIT compilation is not billed to the first size.
trainGBDT(synthetic(2, { rows: 2000, missingRate: 0.05 }), { ...params, n_estimators: 20 });

for (const rows of sizes) {
  const testRows = Math.max(2000, Math.floor(rows / 10));
  const data = synthetic(rows, { rows: rows + testRows, missingRate: 0.05 });
  const train = sliceRows(data, 0, rows);
  const test = sliceRows(data, rows, rows + testRows);
  const heapBefore = process.memoryUsage().heapUsed;

  let start = process.hrtime.bigint();
  const model = trainGBDT(train, params);
  const trainSec = seconds(start);
  const heapAfter = process.memoryUsage().heapUsed;
  start = process.hrtime.bigint();
  const pred = predict(model, test.X);
  const predictSec = seconds(start);
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
    const ourRmse = rmse(pred, test.y);
    const refRmse = rmse(ref.prediction!, test.y);
    console.log(
      [
        `${rows} rows x 20 features, 300 trees depth 6 (held-out ${testRows} rows)`,
        `  training:   ours ${trainSec.toFixed(2)} s, XGBoost ${ref.trainSeconds!.toFixed(2)} s, ratio ${(trainSec / ref.trainSeconds!).toFixed(2)}x (target <= 2x)`,
        `  prediction: ours ${predictSec.toFixed(3)} s, XGBoost ${ref.predictSeconds!.toFixed(3)} s, ratio ${(predictSec / ref.predictSeconds!).toFixed(2)}x`,
        `  RMSE:       ours ${ourRmse.toFixed(4)}, XGBoost ${refRmse.toFixed(4)}, ratio ${(ourRmse / refRmse).toFixed(4)} (target <= 1.01)`,
        `  peak RSS:   ours ${mb(oursRss)} MB (whole process so far, incl. data), XGBoost ${ref.peakRssMb.toFixed(0)} MB (python process incl. data); our training heap growth ${mb(heapAfter - heapBefore)} MB`,
      ].join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
