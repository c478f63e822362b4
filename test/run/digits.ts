// The digits example as the end-to-end run tests use it: a user's data and cache folders of
// their own, the starter runs imported into the user's knowledge base, an image folder made from
// scikit-learn's digits, and the training command of examples/train_digits.py.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCliWith } from '../support/cli.ts';
import { PYTHON, tempDir, type TestContext } from './helpers.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

/** false, or why the digits tests cannot run here. */
export const skipDigits =
  existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import sklearn']).status === 0
    ? false
    : 'needs /usr/bin/python3 with scikit-learn (Debian python3-sklearn; scripts/install-system-deps.sh)';

export const DIGITS_COMMAND = `${PYTHON} ${path.join(EXAMPLES, 'train_digits.py')} --data {dataset_dir} --model {model} {args}`;

/** A user with the digits starter runs imported and an image folder named `folderName`. */
export async function digitsUser(t: TestContext, folderName: string) {
  const dir = tempDir(t);
  const env: Record<string, string | undefined> = {
    ...process.env,
    METALLMIX_DATA: path.join(dir, 'data'),
    METALLMIX_CACHE: path.join(dir, 'cache'),
  };
  delete env.METALLMIX_KB;
  const cli = (...args: string[]) => runCliWith({ env }, ...args);
  const folder = path.join(dir, folderName);
  const made = spawnSync(
    PYTHON,
    [path.join(EXAMPLES, 'digits', 'make_folder.py'), folder, '--per-class', '80', '--seed', '5'],
    { encoding: 'utf8' },
  );
  assert.equal(made.status, 0, made.stderr);
  const imported = await cli(
    'import',
    path.join(EXAMPLES, 'digits', 'runs.csv'),
    '--mapping',
    path.join(EXAMPLES, 'digits', 'mapping.json'),
    '--quiet',
  );
  assert.equal(imported.code, 0, imported.err);
  return { dir, env, cli, folder, runDir: path.join(dir, 'runs', 'digits') };
}
