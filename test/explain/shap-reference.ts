// XGBoost's own SHAP numbers for the TreeSHAP tests: xgboost_shap_reference.py trains a small model
// into a directory and writes the rows, pred_contribs and pred_interactions beside it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./xgboost_shap_reference.py', import.meta.url));
const hasXGBoost =
  spawnSync('/usr/bin/python3', ['-c', 'import xgboost'], { encoding: 'utf8' }).status === 0;

/** The `skip` option of a test that needs XGBoost. */
export const skipWithoutXGBoost = hasXGBoost
  ? false
  : 'xgboost is not installed for /usr/bin/python3';

export interface Reference {
  X: (number | null)[][];
  margin: number[];
  contribs: number[][];
  interactions: number[][][];
}

/** Trains XGBoost's model into `dir` (as model.json) and returns its reference numbers. */
export function shapReference(dir: string, objective: string, seed: number): Reference {
  const run = spawnSync('/usr/bin/python3', [script, dir, objective, String(seed)], {
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Reference;
}
