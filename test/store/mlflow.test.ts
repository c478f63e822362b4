// MLflow import: a file store written in MLflow's documented layout, and a tracking server on
// 127.0.0.1 speaking the documented REST protocol (contract test), through one mapping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { ExitCode, MetallmixError, type ExperimentRecord } from '../../src/core/index.ts';
import {
  detectFormat,
  importFiles,
  loadMapping,
  recordId,
  searchSpaceOf,
  statsOf,
} from '../../src/store/index.ts';
import { readSources } from '../../src/store/sources.ts';
import { runCliWith } from '../support/cli.ts';
import { EXPERIMENTS, startMlflowServer, writeFileStore } from './fixtures/mlflow-fixture.ts';
import { tempDir, writableKb, write } from './helpers.ts';

const MAPPING = {
  format: 'mlflow',
  dataset: 'experiment',
  model: 'params.model',
  metrics: {
    accuracy: 'metrics_best.val_acc',
    loss: 'metrics_min.val_loss',
    final_accuracy: 'metrics.val_acc',
  },
  cost: {
    trainingTimeSec: 'duration_sec',
    epochs: { column: 'metrics_step.val_acc', offset: 1 },
  },
  seed: 'params.seed',
  runId: 'run_id',
  hyperparameters: [
    { name: 'lr', column: 'params.lr', type: 'float', log: true },
    { name: 'batch_size', column: 'params.batch_size', type: 'int', log: true },
    { name: 'optimizer', column: 'params.optimizer', type: 'categorical' },
    { name: 'pretrained', column: 'params.pretrained', type: 'bool' },
  ],
};

/**
 * The learning curves by run: [step, val_acc, val_loss] at each step of the histories. Of two
 * val_acc values at one step the later one counts; a NaN loss leaves the loss out of its step.
 */
const CURVES: Record<string, [number, number, number?][]> = {
  a1a1a1: [
    [0, 0.6, 0.9],
    [1, 0.8, 0.5],
    [2, 0.75, 0.55],
  ],
  a2a2a2: [[0, 0.4, 1.2]],
  a3a3a3: [
    [0, 0.5, 0.8],
    [1, 0.65],
  ],
  b1b1b1: [[4, 0.91, 0.3]],
  b2b2b2: [[0, 0.85, 0.4]],
};

/** The records the fixture gives through MAPPING, worked out by hand from fixtures/mlflow-fixture.ts. */
function expected(source: (experiment: string) => string): ExperimentRecord[] {
  const rec = (
    dataset: string,
    runId: string,
    line: number,
    model: string,
    config: ExperimentRecord['config'],
    metrics: Record<string, number>,
    cost: ExperimentRecord['cost'],
    seed: number,
    status: ExperimentRecord['status'],
  ): ExperimentRecord => ({
    dataset,
    model,
    config,
    metrics,
    cost,
    seed,
    status,
    provenance: { source: source(dataset), runId, line },
    curve: CURVES[runId].map(([epoch, accuracy, loss]) => ({
      epoch,
      metrics: { accuracy, ...(loss !== undefined ? { loss } : {}), final_accuracy: accuracy },
    })),
  });
  const cfg = (lr: number, batch_size: number, optimizer: string, pretrained: boolean) => ({
    lr,
    batch_size,
    optimizer,
    pretrained,
  });
  return [
    // Best val_acc 0.8 at step 1, latest 0.75 at step 2 (3 epochs), min loss 0.5; 600.5 s.
    rec(
      'dermamnist',
      'a1a1a1',
      1,
      'resnet18',
      cfg(0.001, 64, 'adam', true),
      { accuracy: 0.8, loss: 0.5, final_accuracy: 0.75 },
      { trainingTimeSec: 600.5, epochs: 3 },
      1,
      'finished',
    ),
    rec(
      'dermamnist',
      'a2a2a2',
      2,
      'vit_small',
      cfg(0.01, 32, 'sgd', false),
      { accuracy: 0.4, loss: 1.2, final_accuracy: 0.4 },
      { trainingTimeSec: 60, epochs: 1 },
      2,
      'failed',
    ),
    // Two values at step 1: the later timestamp (0.65) is the latest, 0.7 the best; NaN loss skipped. KILLED.
    rec(
      'dermamnist',
      'a3a3a3',
      3,
      'resnet18',
      cfg(0.0001, 128, 'adam', true),
      { accuracy: 0.7, loss: 0.8, final_accuracy: 0.65 },
      { trainingTimeSec: 30, epochs: 2 },
      3,
      'stopped',
    ),
    rec(
      'bloodmnist',
      'b1b1b1',
      1,
      'vit_small',
      cfg(0.0003, 16, 'adamw', true),
      { accuracy: 0.91, loss: 0.3, final_accuracy: 0.91 },
      { trainingTimeSec: 120, epochs: 5 },
      1,
      'finished',
    ),
    // No end time: no training time.
    rec(
      'bloodmnist',
      'b2b2b2',
      2,
      'resnet18',
      cfg(0.003, 16, 'sgd', false),
      { accuracy: 0.85, loss: 0.4, final_accuracy: 0.85 },
      { epochs: 1 },
      2,
      'finished',
    ),
  ];
}

const byRunId = (rs: readonly ExperimentRecord[]) =>
  [...rs].sort((a, b) => (a.provenance.runId! < b.provenance.runId! ? -1 : 1));

test('an MLflow file store: experiments, params, metric histories, tags, status, training time', async (t) => {
  const dir = tempDir(t);
  const root = writeFileStore(path.join(dir, 'mlruns'));
  const mapping = loadMapping(write(dir, 'mapping.json', MAPPING));
  assert.equal(detectFormat(root), 'mlflow');
  const kb = await writableKb(t, path.join(dir, 'kb.sqlite'));
  const report = await importFiles(kb, [root], mapping);
  // 4 runs of dermamnist (the deleted one is not read), 2 of bloodmnist; the RUNNING one is left out.
  assert.deepEqual(
    [report.rows, report.added, report.filtered, report.duplicates, report.skipped.length],
    [6, 5, 1, 0, 0],
  );
  const snapshot = await kb.snapshot();
  const records = snapshot.records.map(({ id: _id, ...r }) => r);
  assert.deepEqual(byRunId(records), byRunId(expected((e) => `mlflow:${root}#${e}`)));
  assert.deepEqual(statsOf(snapshot).byStatus, { finished: 3, failed: 1, stopped: 1 });
  assert.deepEqual(
    searchSpaceOf(snapshot.hyperparameters, snapshot.records).parameters.map((p) => [
      p.name,
      p.type,
    ]),
    [
      ['lr', 'float'],
      ['batch_size', 'int'],
      ['optimizer', 'categorical'],
      ['pretrained', 'bool'],
    ],
  );
  assert.equal((await importFiles(kb, [root], mapping)).added, 0, 'a re-import adds nothing');

  // The virtual columns, including a nested metric key, experiment tags and the run name.
  const [derma, blood] = await readSources(root, 'mlflow');
  assert.equal(derma.rows[0].get('run_name'), 'bold-fox-1');
  assert.equal(derma.rows[0].get('experiment_tags.owner'), 'lab');
  assert.equal(derma.rows[0].get('tags.mlflow.user'), 'ann');
  assert.equal(derma.rows[0].get('start_time'), 1_700_000_000_000);
  assert.equal(blood.rows[0].get('metrics.train/loss'), 0.25);
  assert.equal(
    blood.rows[1].get('metrics.train/loss'),
    null,
    'a metric another run lacks is empty',
  );
  assert.equal(blood.rows[0].get('metrics.nope'), undefined);
  assert.equal(derma.rows[2].get('metrics_best.val_loss'), 0.8, 'losses are minimised');

  // A malformed metric line is an error naming the file and line.
  appendFileSync(path.join(root, '102', 'b1b1b1', 'metrics', 'val_acc'), '12 0.5 1 extra\n');
  await assert.rejects(
    importFiles(kb, [root], mapping),
    (e: unknown) =>
      e instanceof MetallmixError &&
      e.location.file === path.join(root, '102', 'b1b1b1', 'metrics', 'val_acc') &&
      e.location.line === 2,
  );
  const notAStore = path.join(dir, 'empty');
  mkdirSync(notAStore);
  await assert.rejects(
    importFiles(kb, [notAStore], mapping),
    (e: unknown) => e instanceof MetallmixError && /not an MLflow file store/.test(e.message),
  );
});

test('an MLflow tracking server over REST: paging, metric histories, bearer token, the same records', async (t) => {
  const dir = tempDir(t);
  const root = writeFileStore(path.join(dir, 'mlruns'));
  const token = 'tok-123';
  const server = await startMlflowServer({ pageSize: 2, token });
  t.after(() => server.close());
  const mapping = loadMapping(write(dir, 'mapping.json', MAPPING));
  const kb = await writableKb(t, path.join(dir, 'kb.sqlite'));
  const env = { MLFLOW_TRACKING_TOKEN: token };
  assert.equal(detectFormat(server.url), 'mlflow');
  const report = await importFiles(kb, [server.url], mapping, { env });
  assert.deepEqual([report.rows, report.added, report.filtered], [6, 5, 1]);
  const records = (await kb.snapshot()).records.map(({ id: _id, ...r }) => r);
  assert.deepEqual(byRunId(records), byRunId(expected((e) => `mlflow:${server.url}#${e}`)));

  // The protocol as documented: POST JSON searches, page tokens followed, histories by GET.
  const calls = (p: string) => server.requests.filter((r) => r.path === `/api/2.0/mlflow/${p}`);
  const experimentPages = calls('experiments/search');
  assert.ok(
    experimentPages.every((r) => r.method === 'POST' && r.body?.view_type === 'ACTIVE_ONLY'),
  );
  assert.equal(experimentPages.length, 2, '3 active experiments in pages of 2');
  assert.ok(typeof experimentPages[1].body?.page_token === 'string');
  const runPages = calls('runs/search');
  assert.ok(runPages.every((r) => r.method === 'POST' && Array.isArray(r.body?.experiment_ids)));
  assert.deepEqual(
    runPages.map((r) => [
      (r.body?.experiment_ids as string[])[0],
      r.body?.page_token !== undefined,
    ]),
    [
      ['0', false],
      ['101', false],
      ['101', true],
      ['102', false],
    ],
  );
  const histories = calls('metrics/get-history');
  assert.ok(histories.every((r) => r.method === 'GET'));
  assert.deepEqual(
    [...new Set(histories.map((r) => r.query.metric_key))].sort(),
    ['val_acc', 'val_loss'],
    'only the metrics the mapping reads (train/loss is not fetched)',
  );
  assert.equal(
    histories.filter((r) => r.query.run_id === 'a1a1a1' && r.query.metric_key === 'val_acc').length,
    2,
    'a history of 3 values in pages of 2',
  );
  assert.ok(server.requests.every((r) => r.authorization === `Bearer ${token}`));

  // The same runs from the file store are the same records.
  const fromFiles = await importFiles(kb, [root], mapping);
  assert.equal(fromFiles.added, 0);
  assert.equal(fromFiles.duplicates, 5);
  assert.deepEqual(new Set(records.map(recordId)), new Set(expected(() => 'x').map(recordId)));
});

test('MLflow REST failures: refused credentials, an unreachable server, no password shown', async (t) => {
  const dir = tempDir(t);
  const server = await startMlflowServer({ token: 'right' });
  t.after(() => server.close());
  const mapping = write(dir, 'mapping.json', MAPPING);
  const kb = path.join(dir, 'kb.sqlite');
  const withPassword = server.url.replace('://', '://ann:s3cret@');
  const refused = await runCliWith(
    { env: { ...process.env, METALLMIX_CACHE: dir } },
    'import',
    withPassword,
    '--mapping',
    mapping,
    '--kb',
    kb,
  );
  assert.equal(refused.code, ExitCode.unavailable);
  assert.match(refused.err, /answered 401 UNAUTHENTICATED: credentials required/);
  assert.match(refused.err, /ann:\*\*\*@127\.0\.0\.1/);
  assert.ok(!refused.err.includes('s3cret'));
  assert.match(server.requests[0].authorization ?? '', /^Basic /);
  // A server that takes the basic credentials: the report shows the URL with the password masked.
  const open = await startMlflowServer();
  t.after(() => open.close());
  const accepted = await runCliWith(
    { env: { ...process.env, METALLMIX_CACHE: dir } },
    'import',
    open.url.replace('://', '://ann:s3cret@'),
    '--mapping',
    mapping,
    '--kb',
    kb,
    '--json',
  );
  assert.equal(accepted.code, 0, accepted.err);
  assert.ok(!`${accepted.out}${accepted.err}`.includes('s3cret'), accepted.out);
  assert.match(JSON.parse(accepted.out).files[0].file, /^http:\/\/ann:\*\*\*@127\.0\.0\.1/);
  const gone = await startMlflowServer();
  await gone.close();
  const unreachable = gone.url;
  const down = await runCliWith(
    { env: { ...process.env, METALLMIX_CACHE: dir } },
    'import',
    unreachable,
    '--mapping',
    mapping,
    '--kb',
    kb,
  );
  assert.equal(down.code, ExitCode.unavailable);
  assert.match(down.err, /cannot reach the MLflow tracking server: ECONNREFUSED/);
});

test('MLflow: a param one experiment never logged is not set there; a column no experiment has fails', async (t) => {
  const dir = tempDir(t);
  // Only dermamnist's first run logs a weight decay; bloodmnist's runs never do.
  const experiments = EXPERIMENTS.map((e) => ({
    ...e,
    runs: e.runs.map((r) =>
      r.id === 'a1a1a1' ? { ...r, params: { ...r.params, weight_decay: '0.0001' } } : r,
    ),
  }));
  const root = writeFileStore(path.join(dir, 'mlruns'), experiments);
  const server = await startMlflowServer({ experiments });
  t.after(() => server.close());
  const withDecay = {
    ...MAPPING,
    hyperparameters: [
      ...MAPPING.hyperparameters,
      { name: 'weight_decay', column: 'params.weight_decay', type: 'float' },
    ],
  };
  const mapping = loadMapping(write(dir, 'mapping.json', withDecay));
  for (const source of [root, server.url]) {
    const kb = await writableKb(
      t,
      path.join(dir, `kb-${source === root ? 'files' : 'rest'}.sqlite`),
    );
    const report = await importFiles(kb, [source], mapping);
    assert.equal(report.added, 5, source);
    const decay = Object.fromEntries(
      (await kb.snapshot()).records.map((r) => [r.provenance.runId, r.config.weight_decay]),
    );
    assert.deepEqual(decay, {
      a1a1a1: 0.0001,
      a2a2a2: undefined,
      a3a3a3: undefined,
      b1b1b1: undefined,
      b2b2b2: undefined,
    });
    assert.deepEqual(
      (await kb.snapshot()).records
        .filter((r) => 'weight_decay' in r.config)
        .map((r) => r.provenance.runId),
      ['a1a1a1'],
      'not set is absent from the config, never null',
    );
  }
  const typo = loadMapping(
    write(dir, 'typo.json', {
      ...MAPPING,
      hyperparameters: [{ name: 'wd', column: 'params.weight_decai', type: 'float' }],
    }),
  );
  const kb = await writableKb(t, path.join(dir, 'kb-typo.sqlite'));
  await assert.rejects(
    importFiles(kb, [root], typo),
    (e: unknown) =>
      e instanceof MetallmixError &&
      e.location.column === 'params.weight_decai' &&
      // The experiment is named, as an Optuna storage's study is.
      /#[^#]+$/.test(e.location.file ?? '') &&
      /names a column that is not in this source/.test(e.message),
  );
});

test('a sweep’s parent run is found by child_runs and left out by a filter, from the file store and the server alike', async (t) => {
  const dir = tempDir(t);
  // Experiment 101 gets a parent run with no params; two of its runs name it as their parent.
  const experiments = EXPERIMENTS.map((e) =>
    e.id !== '101'
      ? e
      : {
          ...e,
          runs: [
            {
              id: 'p0p0p0',
              name: 'sweep',
              status: 3,
              start: 1_700_000_000_000 - 10,
              end: 1_700_000_900_000,
              params: {},
              tags: {},
              metrics: {},
            },
            ...e.runs.map((r, i) =>
              i < 2 ? { ...r, tags: { ...r.tags, 'mlflow.parentRunId': 'p0p0p0' } } : r,
            ),
          ],
        },
  );
  const root = writeFileStore(path.join(dir, 'mlruns'), experiments);
  const server = await startMlflowServer({ experiments });
  t.after(() => server.close());
  const [table] = await readSources(root, 'mlflow', {});
  const cells = table.rows.map((r) => [
    r.get('run_id'),
    r.get('child_runs'),
    r.get('parent_run_id'),
  ]);
  assert.deepEqual(cells.slice(0, 3), [
    ['p0p0p0', 2, null],
    ['a1a1a1', 0, 'p0p0p0'],
    ['a2a2a2', 0, 'p0p0p0'],
  ]);
  // Without the filter the parent is a row without a model, which fails the import.
  const kb = await writableKb(t, path.join(dir, 'kb.sqlite'));
  await assert.rejects(
    importFiles(kb, [root], loadMapping(write(dir, 'plain.json', MAPPING))),
    (e: unknown) => {
      assert.ok(e instanceof MetallmixError);
      assert.match(e.message, /model/);
      return true;
    },
  );
  const filtered = loadMapping(
    write(dir, 'filtered.json', {
      ...MAPPING,
      filters: [{ column: 'child_runs', op: '==', value: 0 }],
    }),
  );
  const fromFiles = await importFiles(kb, [root], filtered);
  assert.deepEqual([fromFiles.rows, fromFiles.added, fromFiles.filtered], [7, 5, 2]);
  const other = await writableKb(t, path.join(dir, 'kb-rest.sqlite'));
  const fromServer = await importFiles(other, [server.url], filtered);
  assert.deepEqual([fromServer.rows, fromServer.added, fromServer.filtered], [7, 5, 2]);
  const ids = async (k: typeof kb) =>
    (await k.snapshot()).records.map((r) => r.provenance.runId).sort();
  assert.deepEqual(await ids(other), await ids(kb));
  assert.ok(!(await ids(kb)).includes('p0p0p0'));
});
