// TreeSHAP against XGBoost 1.7's own pred_contribs / pred_interactions on models it trained
// (hist, missing values, a categorical feature), read through our XGBoost JSON loader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { treeShap, treeShapInteractions } from '../../src/explain/index.ts';
import { loadModelFile } from '../../src/learn/xgboost-json.ts';
import { predictMargin } from '../../src/learn/predict.ts';
import { shapReference, skipWithoutXGBoost } from './shap-reference.ts';

for (const objective of ['reg:squarederror', 'binary:logistic']) {
  test(
    `TreeSHAP matches XGBoost pred_contribs and pred_interactions (${objective})`,
    { skip: skipWithoutXGBoost },
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'metallmix-shap-'));
      try {
        const ref = shapReference(dir, objective, 7);
        const model = loadModelFile(join(dir, 'model.json'));
        assert.ok(model.featureTypes.includes('c') && model.trees.some((t) => t.categories.size));
        const F = model.featureNames.length;
        const n = ref.X.length;
        const X = Float64Array.from(ref.X.flat(), (v) => v ?? NaN);
        assert.ok(X.some(Number.isNaN), 'the rows have missing values');

        const { bias, values } = treeShap(model, X, n);
        const margin = predictMargin(model, { data: X, numRows: n, numFeatures: F });
        let worst = 0;
        for (let r = 0; r < n; r++) {
          for (let f = 0; f < F; f++)
            worst = Math.max(worst, Math.abs(values[r * F + f] - ref.contribs[r][f]));
          worst = Math.max(worst, Math.abs(bias - ref.contribs[r][F]));
          const sum = values.subarray(r * F, (r + 1) * F).reduce((a, b) => a + b, bias);
          assert.ok(
            Math.abs(sum - margin[r]) <= 1e-6 * Math.max(1, Math.abs(margin[r])),
            `additivity row ${r}: ${sum} vs ${margin[r]}`,
          );
        }
        assert.ok(worst <= 1e-5, `largest |ours - XGBoost| of SHAP values: ${worst}`);

        const I = treeShapInteractions(model, X, n);
        const W = F + 1;
        worst = 0;
        for (let r = 0; r < n; r++)
          for (let i = 0; i < W; i++)
            for (let j = 0; j < W; j++)
              worst = Math.max(
                worst,
                Math.abs(I[r * W * W + i * W + j] - ref.interactions[r][i][j]),
              );
        assert.ok(worst <= 1e-5, `largest |ours - XGBoost| of interaction values: ${worst}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}
