// SHAP values for 10k rows x 20 features on a 300-tree depth-6 model trained by XGBoost:
// our treeShap vs XGBoost pred_contribs with nthread=1 (timed inside Python). Target: within 2x.
// Run: node --import tsx bench/shap.ts [rows]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { treeShap } from '../src/explain/index.ts';
import { ShapWalker } from '../src/explain/path-walk.ts';
import { prepareModel } from '../src/explain/prepared-model.ts';
import { loadModelFile } from '../src/learn/xgboost-json.ts';

const rows = Number(process.argv[2] ?? 10_000);
const dir = mkdtempSync(join(tmpdir(), 'metallmix-bench-shap-'));
try {
  const script = fileURLToPath(new URL('./shap_xgboost.py', import.meta.url));
  const xgb = JSON.parse(
    execFileSync('/usr/bin/python3', [script, dir, String(rows)], { encoding: 'utf8' }),
  ) as { seconds: number; cpu: number; rows: number; features: number };
  const model = loadModelFile(join(dir, 'model.json'));
  const buf = readFileSync(join(dir, 'rows.f64'));
  const X = new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
  treeShap(model, X.subarray(0, 20 * xgb.features), 20); // warm-up (JIT, per-tree preparation)
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const { bias, values } = treeShap(model, X, rows);
  const cpuUsed = process.cpuUsage(cpuStart);
  const ours = Number(process.hrtime.bigint() - start) / 1e9;
  const oursCpu = (cpuUsed.user + cpuUsed.system) / 1e6;

  // The plain recursive walk (used for small batches and interaction values), on a tenth of the
  // rows, for reference: treeShap switches to per-leaf tables when a batch is large.
  const walkRows = Math.max(1, Math.floor(rows / 10));
  const prepared = prepareModel(model);
  const walker = new ShapWalker(prepared.pathSize);
  const rounded = X.map(Math.fround);
  const phi = new Float64Array(walkRows * xgb.features);
  const walkStart = process.cpuUsage();
  for (const tree of prepared.trees)
    for (let r = 0; r < walkRows; r++)
      walker.run(tree, rounded, r * xgb.features, phi, r * xgb.features, 0, -1);
  const walkUsed = process.cpuUsage(walkStart);
  const walkCpu = ((walkUsed.user + walkUsed.system) / 1e6) * (rows / walkRows);

  const refBuf = readFileSync(join(dir, 'contribs100.f64'));
  const ref = new Float64Array(refBuf.buffer, refBuf.byteOffset, refBuf.byteLength / 8);
  const F = xgb.features;
  let worst = 0;
  for (let r = 0; r < 100; r++) {
    for (let f = 0; f < F; f++)
      worst = Math.max(worst, Math.abs(values[r * F + f] - ref[r * (F + 1) + f]));
    worst = Math.max(worst, Math.abs(bias - ref[r * (F + 1) + F]));
  }
  // CPU time is the fairer figure on a shared machine; wall time is printed too.
  console.log(
    `SHAP ${rows} rows x ${F} features, ${model.trees.length} trees depth 6 (target: ratio <= 2x)\n` +
      `  CPU  ours ${oursCpu.toFixed(2)} s, XGBoost nthread=1 ${xgb.cpu.toFixed(2)} s, ` +
      `ratio ${(oursCpu / xgb.cpu).toFixed(2)}x\n` +
      `  wall ours ${ours.toFixed(2)} s, XGBoost nthread=1 ${xgb.seconds.toFixed(2)} s, ` +
      `ratio ${(ours / xgb.seconds).toFixed(2)}x\n` +
      `  CPU  plain recursive walk (extrapolated from ${walkRows} rows) ${walkCpu.toFixed(2)} s, ` +
      `ratio ${(walkCpu / xgb.cpu).toFixed(2)}x\n` +
      `  max |ours - XGBoost| on the first 100 rows: ${worst.toExponential(1)}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
