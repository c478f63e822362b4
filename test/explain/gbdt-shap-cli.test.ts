// `metallmix gbdt shap` in-process, on a model trained by XGBoost, against XGBoost's own numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.ts';
import { shapReference, skipWithoutXGBoost } from './shap-reference.ts';

const maxDiff = (a: number[], b: number[]) =>
  a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

test(
  'gbdt shap prints XGBoost pred_contribs / pred_interactions for CSV rows; bad input is named',
  { skip: skipWithoutXGBoost },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'metallmix-shap-cli-'));
    try {
      const ref = shapReference(dir, 'reg:squarederror', 3);
      const names = ['lr', 'batch', 'model', 'size', 'epochs', 'wd'];
      const rows = ref.X.slice(0, 8);
      // Columns in another order plus one the model does not use: matched by name.
      const order = [5, 0, 3, 1, 4, 2];
      const csv = [
        ['note', ...order.map((i) => names[i])].join(','),
        ...rows.map((x) =>
          ['x', ...order.map((i) => (x[i] === null ? '' : String(x[i])))].join(','),
        ),
      ].join('\n');
      const data = join(dir, 'rows.csv');
      writeFileSync(data, `${csv}\n`);
      const model = join(dir, 'model.json');

      const res = await runCli(
        'gbdt',
        'shap',
        '--model',
        model,
        '--data',
        data,
        '--interactions',
        '--json',
      );
      assert.equal(res.code, 0, res.err);
      const out = JSON.parse(res.out) as {
        bias: number;
        features: string[];
        values: number[][];
        interactions: number[][][];
      };
      assert.deepEqual(out.features, names);
      assert.equal(out.values.length, rows.length);
      out.values.forEach((v, r) => {
        assert.ok(maxDiff(v, ref.contribs[r].slice(0, 6)) <= 1e-5, `row ${r} values`);
        assert.ok(Math.abs(out.bias - ref.contribs[r][6]) <= 1e-5, 'bias');
        out.interactions[r].forEach((line, i) =>
          assert.ok(maxDiff(line, ref.interactions[r][i].slice(0, 6)) <= 1e-5, `row ${r} I[${i}]`),
        );
      });

      const text = await runCli('gbdt', 'shap', '--model', model, '--data', data);
      assert.equal(text.code, 0, text.err);
      assert.match(text.out, /^bias -?\d+\.\d{4}; prediction margin = bias/);

      writeFileSync(data, `${names.join(',')}\n1,2,3,4,5,6\n1,2,abc,4,5,6\n`);
      const bad = await runCli('gbdt', 'shap', '--model', model, '--data', data, '--json');
      assert.equal(bad.code, 2);
      assert.match(bad.err, /rows\.csv:3 column "model": not a number: "abc"/);

      writeFileSync(data, `${names.join(',')}\n1,2,1.5,4,5,6\n`);
      const code = await runCli('gbdt', 'shap', '--model', model, '--data', data);
      assert.equal(code.code, 2);
      assert.match(
        code.err,
        /rows\.csv:2 column "model": categorical feature needs an integer code/,
      );

      writeFileSync(data, 'lr,batch\n1,2\n');
      const missing = await runCli('gbdt', 'shap', '--model', model, '--data', data);
      assert.equal(missing.code, 2);
      assert.match(missing.err, /rows\.csv:1: missing column "model"/);

      const noModel = await runCli(
        'gbdt',
        'shap',
        '--model',
        join(dir, 'nope.json'),
        '--data',
        data,
      );
      assert.equal(noModel.code, 2);
      assert.match(noModel.err, /nope\.json: cannot read model file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
