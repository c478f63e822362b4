// Whole Optuna storages: one import of a storage with a study per dataset, made by real Optuna
// 3.1 (fixtures/make_optuna_storage.py); the study name or a study user attribute gives the
// dataset, and --study still selects one study.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { importFiles, loadMapping, statsOf } from '../../src/store/index.ts';
import { readSources } from '../../src/store/sources.ts';
import { runCliWith } from '../support/cli.ts';
import {
  tempDir,
  writableKb,
  write,
  OPTUNA_FIXTURE_MAPPING,
  OPTUNA_FIXTURE_SCRIPT,
} from './helpers.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = OPTUNA_FIXTURE_SCRIPT;

interface PyTrial {
  number: number;
  state: string;
  params: { model: string; lr: number; epochs: number };
  value: number | null;
}

function optunaStorage(file: string): Record<string, PyTrial[]> | string {
  if (!existsSync(PYTHON)) return `${PYTHON} is absent`;
  try {
    return JSON.parse(
      execFileSync(PYTHON, [SCRIPT, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    );
  } catch (err) {
    return `cannot run Optuna through ${PYTHON}: ${(err as Error).message.split('\n')[0]}`;
  }
}

const MAPPING = OPTUNA_FIXTURE_MAPPING;

test('one import takes a whole storage: a study per dataset, from a study attribute or its name', async (t) => {
  const dir = tempDir(t);
  const storage = path.join(dir, 'optuna.db');
  const studies = optunaStorage(storage);
  if (typeof studies === 'string') return t.skip(studies);
  const names = Object.keys(studies);
  assert.deepEqual(names, ['dermamnist', 'bloodmnist', 'run-7']);

  const tables = await readSources(storage, 'optuna');
  assert.deepEqual(
    tables.map((tb) => [
      tb.file,
      tb.rows[0].get('study_user_attrs.dataset'),
      tb.rows[0].get('direction'),
    ]),
    [
      [`${storage}#dermamnist`, 'dermamnist', 'MAXIMIZE'],
      [`${storage}#bloodmnist`, 'bloodmnist', 'MAXIMIZE'],
      [`${storage}#run-7`, 'pathmnist', 'MAXIMIZE'],
    ],
  );

  const kb = await writableKb(t, path.join(dir, 'kb.sqlite'));
  const report = await importFiles(kb, [storage], loadMapping(write(dir, 'm.json', MAPPING)));
  const all = Object.values(studies).flat();
  assert.equal(report.rows, all.length);
  assert.equal(report.added, all.length);
  const snapshot = await kb.snapshot();
  const stats = statsOf(snapshot);
  assert.deepEqual(
    stats.perDataset.map((d) => [d.dataset, d.records]),
    [
      ['bloodmnist', studies.bloodmnist.length],
      ['dermamnist', studies.dermamnist.length],
      ['pathmnist', studies['run-7'].length],
    ],
  );
  assert.deepEqual(stats.byStatus, {
    finished: all.filter((x) => x.state === 'COMPLETE').length,
    stopped: all.filter((x) => x.state === 'PRUNED').length,
  });
  // Every trial as Optuna reports it, under its study's dataset and run id.
  for (const [name, trials] of Object.entries(studies))
    for (const trial of trials) {
      const r = snapshot.records.find((x) => x.provenance.runId === `${name}#${trial.number}`);
      assert.ok(r, `${name}#${trial.number}`);
      assert.equal(r.model, trial.params.model);
      assert.deepEqual(r.config, { lr: trial.params.lr, epochs: trial.params.epochs });
      if (trial.value !== null) assert.equal(r.metrics.accuracy, trial.value);
      assert.equal(r.provenance.source, `optuna:${storage}#${name}`);
    }
  assert.deepEqual(
    snapshot.hyperparameters.map((h) => [h.name, h.type, h.log]),
    [
      ['lr', 'float', true],
      ['epochs', 'int', false],
    ],
  );
  assert.equal((await importFiles(kb, [storage], loadMapping(path.join(dir, 'm.json')))).added, 0);

  // The study name as the dataset, and --study selecting one study, through the CLI.
  const byName = write(dir, 'by-name.json', { ...MAPPING, dataset: 'study' });
  const env = { ...process.env, METALLMIX_CACHE: path.join(dir, 'cache') };
  const one = await runCliWith(
    { env },
    'import',
    storage,
    '--mapping',
    byName,
    '--study',
    'run-7',
    '--kb',
    path.join(dir, 'one.sqlite'),
    '--json',
    '--quiet',
  );
  assert.equal(one.code, 0, one.err);
  assert.equal(JSON.parse(one.out).added, studies['run-7'].length);
  const whole = await runCliWith(
    { env },
    'import',
    storage,
    '--mapping',
    byName,
    '--kb',
    path.join(dir, 'one.sqlite'),
    '--json',
    '--quiet',
  );
  assert.equal(JSON.parse(whole.out).added, studies.dermamnist.length + studies.bloodmnist.length);
  const stats2 = await runCliWith(
    { env },
    'kb',
    'stats',
    '--kb',
    path.join(dir, 'one.sqlite'),
    '--json',
  );
  assert.deepEqual(
    JSON.parse(stats2.out).perDataset.map((d: { dataset: string }) => d.dataset),
    ['bloodmnist', 'dermamnist', 'run-7'],
  );
});

test('a parameter one study never suggested is not set in its trials, not a missing column', async (t) => {
  if (!existsSync(PYTHON)) return t.skip(`${PYTHON} is absent`);
  const dir = tempDir(t);
  const storage = path.join(dir, 'optuna.db');
  // Two studies of real Optuna; only "derma" tunes a weight decay.
  const script = `
import optuna, sys
optuna.logging.set_verbosity(optuna.logging.WARNING)
for name, decay in [("derma", True), ("blood", False)]:
    s = optuna.create_study(study_name=name, storage=sys.argv[1], sampler=optuna.samplers.RandomSampler(seed=1), direction="maximize")
    def objective(trial):
        trial.suggest_categorical("model", ["resnet18"])
        trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        if decay:
            trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True)
        return 0.5 + 0.1 * trial.number
    s.optimize(objective, n_trials=2)
`;
  try {
    execFileSync(PYTHON, ['-c', script, `sqlite:///${storage}`], { stdio: 'ignore' });
  } catch (err) {
    return t.skip(`cannot run Optuna through ${PYTHON}: ${(err as Error).message.split('\n')[0]}`);
  }
  const mapping = (column: string) =>
    loadMapping(
      write(dir, `${column}.json`, {
        format: 'optuna',
        dataset: 'study',
        model: 'params.model',
        metrics: { accuracy: 'value' },
        runId: 'run_id',
        hyperparameters: [
          { name: 'lr', column: 'params.lr', type: 'float', log: true },
          { name: 'weight_decay', column, type: 'float', log: true },
        ],
      }),
    );
  const kb = await writableKb(t, path.join(dir, 'kb.sqlite'));
  const report = await importFiles(kb, [storage], mapping('params.weight_decay'));
  assert.equal(report.added, 4);
  const records = (await kb.snapshot()).records;
  assert.deepEqual(records.map((r) => [r.dataset, 'weight_decay' in r.config]).sort(), [
    ['blood', false],
    ['blood', false],
    ['derma', true],
    ['derma', true],
  ]);
  // A column that no study has is still the mapping's mistake.
  await assert.rejects(
    importFiles(kb, [storage], mapping('params.weight_decai')),
    /names a column that is not in this source/,
  );
});
