// Type reconciliation across sources (issue 15 item 6) on storages made by real Optuna 3.1: a
// categorical of batch sizes meets an int that another source stored on a log scale, and a rule
// names a parameter only some studies of a storage suggest.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { importFiles, loadMapping } from '../../src/store/index.ts';
import { tempDir, writableKb, write } from './helpers.ts';

const PYTHON = '/usr/bin/python3';

/** An Optuna storage with one study per entry; a study suggests batch_size when its flag is set. */
function optunaStorage(t: TestContext, file: string, studies: [string, boolean][]): boolean {
  if (!existsSync(PYTHON)) {
    t.skip(`${PYTHON} is absent`);
    return false;
  }
  const script = `
import json, optuna, sys
optuna.logging.set_verbosity(optuna.logging.WARNING)
for name, batch in json.loads(sys.argv[2]):
    s = optuna.create_study(study_name=name, storage=sys.argv[1], sampler=optuna.samplers.RandomSampler(seed=3), direction="maximize")
    def objective(trial):
        trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        if batch:
            trial.suggest_categorical("batch_size", [16, 32, 64])
        return 0.5 + 0.1 * trial.number
    s.optimize(objective, n_trials=2)
`;
  try {
    execFileSync(PYTHON, ['-c', script, `sqlite:///${file}`, JSON.stringify(studies)], {
      stdio: 'ignore',
    });
    return true;
  } catch (err) {
    t.skip(`cannot run Optuna through ${PYTHON}: ${(err as Error).message.split('\n')[0]}`);
    return false;
  }
}

/** A knowledge base holding one CSV run whose batch_size is a log-scaled int. */
async function kbWithLogBatchSize(t: TestContext, dir: string) {
  const kb = await writableKb(t, path.join(dir, 'kb.sqlite'));
  const csv = write(dir, 'bs.csv', 'run,ds,model,bs,acc\nb1,derma,vit,32,71\n');
  const mapping = write(dir, 'bs.json', {
    dataset: 'ds',
    model: 'model',
    metrics: { accuracy: { column: 'acc', unit: 'percent' } },
    runId: 'run',
    hyperparameters: [{ name: 'batch_size', column: 'bs', type: 'int', log: true }],
  });
  await importFiles(kb, [csv], loadMapping(mapping));
  return kb;
}

const optunaMapping = (dir: string, reconcile?: object) =>
  loadMapping(
    write(dir, 'optuna.json', {
      format: 'optuna',
      dataset: 'study',
      model: { value: 'resnet18' },
      metrics: { accuracy: 'value' },
      ...(reconcile ? { reconcile } : {}),
    }),
  );

test('a reconcile rule gives the scale of the stored int: the error names the rule with "log", and the rule imports', async (t) => {
  const dir = tempDir(t);
  const storage = path.join(dir, 'optuna.db');
  if (!optunaStorage(t, storage, [['blood', true]])) return;
  const kb = await kbWithLogBatchSize(t, dir);
  const before = (await kb.snapshot()).version;

  await assert.rejects(
    importFiles(kb, [storage], optunaMapping(dir)),
    /"batch_size" is categorical here but already stored as int: add "reconcile": \{ "batch_size": \{ "type": "int", "log": true \} \}/,
  );
  // The short form reads the values as int but keeps the categorical's (linear) scale.
  await assert.rejects(
    importFiles(kb, [storage], optunaMapping(dir, { batch_size: 'int' })),
    /linear here, log scale when stored.*"reconcile": \{ "batch_size": \{ "type": "int", "log": true \} \}/,
  );
  assert.equal((await kb.snapshot()).version, before, 'a failed import changes nothing');

  const report = await importFiles(
    kb,
    [storage],
    optunaMapping(dir, { batch_size: { type: 'int', log: true } }),
  );
  assert.equal(report.added, 2);
  const snap = await kb.snapshot();
  const blood = snap.records.filter((r) => r.dataset === 'blood');
  assert.equal(blood.length, 2);
  for (const r of blood) {
    assert.equal(typeof r.config.batch_size, 'number');
    assert.ok([16, 32, 64].includes(r.config.batch_size as number));
  }
  const declared = snap.hyperparameters.find((h) => h.name === 'batch_size');
  assert.equal(declared?.type, 'int');
  assert.equal(declared?.log, true);
});

test('a reconcile rule may name a parameter only some studies of a storage suggest, but not one none does', async (t) => {
  const dir = tempDir(t);
  const storage = path.join(dir, 'optuna.db');
  const studies: [string, boolean][] = [
    ['blood', true],
    ['derma', false],
  ];
  if (!optunaStorage(t, storage, studies)) return;
  const kb = await kbWithLogBatchSize(t, dir);
  const before = (await kb.snapshot()).version;

  await assert.rejects(
    importFiles(
      kb,
      [storage],
      optunaMapping(dir, { batch_size: { type: 'int', log: true }, momentum: 'float' }),
    ),
    (err: Error & { location?: { field?: string } }) => {
      assert.match(err.message, /reconcile names "momentum", which is not a hyperparameter/);
      assert.equal(err.location?.field, 'reconcile.momentum');
      return true;
    },
  );
  assert.equal((await kb.snapshot()).version, before);

  const report = await importFiles(
    kb,
    [storage],
    optunaMapping(dir, { batch_size: { type: 'int', log: true } }),
  );
  assert.equal(report.added, 4);
  const { records } = await kb.snapshot();
  const byDataset = (d: string) => records.filter((r) => r.model === 'resnet18' && r.dataset === d);
  assert.ok(byDataset('blood').every((r) => typeof r.config.batch_size === 'number'));
  assert.ok(byDataset('derma').every((r) => !('batch_size' in r.config)));
  assert.equal(byDataset('derma').length, 2);
});

test('"log" in a reconcile rule applies to numbers only', async (t) => {
  const dir = tempDir(t);
  const storage = path.join(dir, 'optuna.db');
  if (!optunaStorage(t, storage, [['blood', true]])) return;
  const kb = await writableKb(t, path.join(dir, 'kb.sqlite'));
  await assert.rejects(
    importFiles(kb, [storage], optunaMapping(dir, { batch_size: { type: 'bool', log: true } })),
    /"log" applies to float and int, not to bool/,
  );
});
