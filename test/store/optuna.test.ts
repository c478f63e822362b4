import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { MetallmixError } from '../../src/core/index.ts';
import {
  decodeDistribution,
  decodeParamValue,
  importFiles,
  loadMapping,
  openKnowledgeBase,
  searchSpaceOf,
  statsOf,
  type KnowledgeBase,
} from '../../src/store/index.ts';
import { tempDir, writableKb, write } from './helpers.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./fixtures/make_optuna_study.py', import.meta.url));

/** The search space of everything `kb` holds. */
async function searchSpace(kb: KnowledgeBase) {
  const s = await kb.snapshot();
  return searchSpaceOf(s.hyperparameters, s.records);
}

/** A real Optuna storage made by fixtures/make_optuna_study.py, or why there is none. */
function optunaStudy(storage: string): PyTrial[] | string {
  if (!existsSync(PYTHON)) return `${PYTHON} is absent`;
  try {
    return JSON.parse(
      execFileSync(PYTHON, [SCRIPT, storage], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ) as PyTrial[];
  } catch (err) {
    return `cannot run Optuna through ${PYTHON}: ${(err as Error).message.split('\n')[0]}`;
  }
}

interface PyTrial {
  number: number;
  state: string;
  params: Record<string, string | number>;
  value: number | null;
}

const MAPPING = {
  format: 'optuna',
  study: 'derma-search',
  dataset: 'user_attrs.dataset',
  model: 'params.model',
  metrics: { accuracy: 'value' },
  cost: { trainingTimeSec: 'user_attrs.train_seconds' },
  runId: 'run_id',
};

test('decodes current and pre-3.0 Optuna distributions', () => {
  assert.deepEqual(
    decodeDistribution(
      '{"name": "FloatDistribution", "attributes": {"step": null, "low": 1e-05, "high": 0.1, "log": true}}',
    ),
    { type: 'float', low: 1e-5, high: 0.1, log: true, step: undefined },
  );
  assert.deepEqual(
    decodeDistribution(
      '{"name": "LogUniformDistribution", "attributes": {"low": 1e-05, "high": 0.1}}',
    ),
    {
      type: 'float',
      low: 1e-5,
      high: 0.1,
      log: true,
    },
  );
  assert.equal(
    decodeDistribution('{"name": "UniformDistribution", "attributes": {"low": 0, "high": 1}}').log,
    false,
  );
  assert.equal(
    decodeDistribution(
      '{"name": "DiscreteUniformDistribution", "attributes": {"low": 0, "high": 1, "q": 0.1}}',
    ).step,
    0.1,
  );
  assert.deepEqual(
    decodeDistribution(
      '{"name": "IntUniformDistribution", "attributes": {"low": 1, "high": 9, "step": 2}}',
    ),
    {
      type: 'int',
      low: 1,
      high: 9,
      log: false,
      step: 2,
    },
  );
  assert.equal(
    decodeDistribution(
      '{"name": "IntLogUniformDistribution", "attributes": {"low": 1, "high": 64, "step": 1}}',
    ).log,
    true,
  );
  const cat = decodeDistribution(
    '{"name": "CategoricalDistribution", "attributes": {"choices": ["a", 3, true]}}',
  );
  assert.deepEqual(
    [0, 1, 2].map((i) => decodeParamValue(cat, i)),
    ['a', 3, true],
  );
  assert.equal(decodeParamValue({ type: 'int', log: false }, 66.0), 66);
  assert.throws(() => decodeParamValue(cat, 5), /out of range/);
});

test('imports a study created by real Optuna: typed parameters, states, values, curves', async (t) => {
  const dir = tempDir(t);
  const storage = path.join(dir, 'optuna.db');
  const trials = optunaStudy(storage);
  if (typeof trials === 'string') return t.skip(trials);
  const mapping = loadMapping(write(dir, 'mapping.json', MAPPING));
  const kb = await writableKb(t, path.join(dir, 'kb.sqlite'));
  const report = await importFiles(kb, [storage], mapping);
  assert.equal(report.files[0].format, 'optuna');
  assert.equal(report.added, 10);
  const stats = statsOf(await kb.snapshot());
  assert.deepEqual(stats.byStatus, { finished: 6, stopped: 2, failed: 2 });
  assert.deepEqual(stats.bySource, { [`optuna:${storage}#derma-search`]: 10 });

  const records = await kb.records();
  for (const trial of trials) {
    const r = records.find((x) => x.provenance.runId === `derma-search#${trial.number}`);
    assert.ok(r, `trial ${trial.number}`);
    const { model, ...config } = trial.params;
    assert.equal(r.model, model);
    assert.equal(r.dataset, 'dermamnist');
    assert.deepEqual(r.config, config);
    assert.equal(
      r.status,
      { COMPLETE: 'finished', PRUNED: 'stopped', FAIL: 'failed' }[trial.state],
    );
    assert.deepEqual(r.metrics, trial.value === null ? {} : { accuracy: trial.value });
    assert.equal(r.cost.trainingTimeSec, 100 + trial.number);
    assert.deepEqual(
      r.curve?.map((p) => p.epoch),
      [0, 1, 2],
    );
    assert.ok(Math.abs((r.curve?.[2].metrics.accuracy ?? 0) - 0.7) < 1e-12);
  }

  const space = Object.fromEntries((await searchSpace(kb)).parameters.map((p) => [p.name, p]));
  assert.deepEqual(Object.keys(space).sort(), ['batch_size', 'drop', 'lr', 'momentum', 'opt']);
  assert.equal(space.lr.type, 'float');
  assert.ok(space.lr.type === 'float' && space.lr.log);
  assert.ok(space.batch_size.type === 'int' && space.batch_size.log);
  assert.ok(
    space.opt.type === 'categorical' && space.opt.choices.every((c) => c === 'sgd' || c === 'adam'),
  );

  // The same storage written with the pre-3.0 distribution names decodes to the same records.
  const old = path.join(dir, 'old.db');
  copyFileSync(storage, old);
  const db = new Database(old);
  db.prepare(
    `UPDATE trial_params SET distribution_json = '{"name": "LogUniformDistribution", "attributes": {"low": 1e-05, "high": 0.1}}' WHERE param_name = 'lr'`,
  ).run();
  db.prepare(
    `UPDATE trial_params SET distribution_json = '{"name": "IntLogUniformDistribution", "attributes": {"low": 16, "high": 256, "step": 1}}' WHERE param_name = 'batch_size'`,
  ).run();
  db.close();
  const kbOld = await writableKb(t, path.join(dir, 'kb-old.sqlite'));
  await importFiles(kbOld, [old], mapping);
  assert.deepEqual(
    (await kbOld.records()).map((r) => r.id),
    records.map((r) => r.id),
  );
  assert.deepEqual(await searchSpace(kbOld), await searchSpace(kb));

  // An undecodable distribution makes that trial invalid, named by its trial number.
  const weird = path.join(dir, 'weird.db');
  copyFileSync(storage, weird);
  const wdb = new Database(weird);
  const trialId = (
    wdb.prepare(`SELECT trial_id FROM trials WHERE number = 2`).get() as { trial_id: number }
  ).trial_id;
  wdb
    .prepare(
      `UPDATE trial_params SET distribution_json = '{"name": "WeirdDistribution", "attributes": {}}' WHERE param_name = 'drop' AND trial_id = ?`,
    )
    .run(trialId);
  wdb.close();
  const kbWeird = await writableKb(t, path.join(dir, 'kb-weird.sqlite'));
  await assert.rejects(
    importFiles(kbWeird, [weird], mapping),
    (e: unknown) =>
      e instanceof MetallmixError &&
      e.message.startsWith(
        `${weird}:${trialId} column "params.drop": trial 2: unknown Optuna distribution "WeirdDistribution"`,
      ),
  );
  const partial = await importFiles(kbWeird, [weird], mapping, { skipInvalid: true });
  assert.deepEqual([partial.rows, partial.added, partial.skipped.length], [10, 9, 1]);

  // Without a study name the whole storage is imported: a study lacking the column (another
  // study has) that gives the dataset has trials without one, which fails the import, located at
  // FILE#STUDY; a wrong name lists the studies.
  const { study: _study, ...noStudy } = MAPPING;
  const unnamed = loadMapping(write(dir, 'nostudy.json', noStudy));
  await assert.rejects(
    importFiles(kb, [storage], unnamed),
    (e: unknown) =>
      e instanceof MetallmixError &&
      e.location.file === `${storage}#other` &&
      e.location.column === 'user_attrs.dataset' &&
      /trial 0: dataset is empty/.test(e.message),
  );
  await assert.rejects(
    importFiles(kb, [storage], unnamed, { study: 'nope' }),
    (e: unknown) => e instanceof MetallmixError && /no study named "nope"/.test(e.message),
  );
  assert.equal((await importFiles(kb, [storage], unnamed, { study: 'derma-search' })).added, 0);
});

test('an Optuna storage given as a knowledge base is refused, named, and left untouched', async (t) => {
  const dir = tempDir(t);
  const storage = path.join(dir, 'optuna.db');
  const trials = optunaStudy(storage);
  if (typeof trials === 'string') return t.skip(trials);
  const bytes = readFileSync(storage);
  for (const mode of ['read', 'write'] as const)
    await assert.rejects(
      openKnowledgeBase(storage, { mode }),
      (e: unknown) =>
        e instanceof MetallmixError &&
        e.location.file === storage &&
        /^.*not a metallmix knowledge base: an SQLite database with tables .*\(an Optuna storage: import it with `metallmix import FILE --format optuna`\)$/.test(
          e.message,
        ),
      mode,
    );
  assert.deepEqual(readFileSync(storage), bytes);
});

test('a file that is not an Optuna storage is reported as such', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'not-optuna.db');
  new Database(file).exec('CREATE TABLE x (a)');
  const kb = await writableKb(t, path.join(dir, 'kb.sqlite'));
  await assert.rejects(
    importFiles(kb, [file], loadMapping(write(dir, 'm.json', MAPPING))),
    (e: unknown) =>
      e instanceof MetallmixError && e.message.startsWith(`${file}: not an Optuna storage`),
  );
});
