import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { importFiles, loadMapping } from '../../src/store/index.ts';
import { tempDir, writableKb, write } from './helpers.ts';

// A hand-made W&B run-table export with the quirks of real ones: a config column holding JSON
// (one cell as a Python repr), names shared by a config and a summary column ("loss", "epoch"),
// empty summary cells for a crashed run, NaN summaries, a note spanning two lines, a running run.
const EXPORT = [
  '"Name","State","Notes","Runtime","config","lr","loss","epoch","dataset","model","epoch","loss","eval_top1","GPU Type"',
  '"run-1","finished","-","120","{""optimizer"": {""name"": ""adam"", ""betas"": [0.9, 0.999]}}","0.001","ce","50","mtlbm/micro/set0/BCT","resnet18","49","0.51","87.5","RTX"',
  '"run-2","crashed","a note',
  'over two lines","15","{""optimizer"": {""name"": ""sgd"", ""betas"": null}}","0.01","ce","50","mtlbm/micro/set0/BCT","resnet18","","","",""',
  `"run-3","finished","-","60","{'optimizer': {'name': 'adam', 'betas': [0.9, 0.99]}}","0.1","focal","50","mtlbm/micro/set1/PNU","vit","12","0.9","40","RTX"`,
  '"run-4","running","-","5","{}","0.1","ce","50","mtlbm/micro/set1/PNU","vit","","","",""',
  '"run-5","finished","-","60","{""optimizer"": {""name"": ""adam""}}","0.1","ce","50","mtlbm/micro/set1/PNU","vit","49","NaN","NaN",""',
  '',
].join('\n');

const MAPPING = {
  format: 'wandb',
  dataset: { column: 'dataset', pattern: '([^/]+)$' },
  model: 'model',
  metrics: { accuracy: { column: 'eval_top1', unit: 'percent' }, loss: 'loss#2' },
  cost: {
    trainingTimeSec: 'Runtime',
    epochs: { column: 'epoch#2', offset: 1 },
    hardware: 'GPU Type',
  },
  runId: 'Name',
  status: {
    column: 'State',
    map: { finished: 'finished', crashed: 'failed', running: 'skip' },
    finishedOnlyIf: [{ column: 'epoch#2', op: '==', value: 49 }],
  },
  hyperparameters: [
    { name: 'lr', type: 'float', log: true },
    { name: 'loss_fn', column: 'loss', type: 'categorical' },
    { name: 'epochs', column: 'epoch', type: 'int' },
    { name: 'optimizer', column: 'config', json: 'optimizer.name', type: 'categorical' },
    { name: 'beta2', column: 'config', json: 'optimizer.betas.1', type: 'float' },
  ],
};

test('W&B export: JSON cells, duplicated config/summary names, crashed and running runs', async (t) => {
  const dir = tempDir(t);
  const csv = write(dir, 'export.csv', EXPORT);
  const kb = await writableKb(t, path.join(dir, 'kb.sqlite'));
  const report = await importFiles(kb, [csv], loadMapping(write(dir, 'mapping.json', MAPPING)));
  assert.deepEqual(
    { rows: report.rows, added: report.added, filtered: report.filtered, skipped: report.skipped },
    { rows: 5, added: 4, filtered: 1, skipped: [] },
  );
  const byRun = Object.fromEntries((await kb.records()).map((r) => [r.provenance.runId, r]));
  assert.deepEqual(Object.keys(byRun).sort(), ['run-1', 'run-2', 'run-3', 'run-5']);

  const r1 = byRun['run-1'];
  assert.equal(r1.dataset, 'BCT');
  assert.equal(r1.status, 'finished');
  assert.deepEqual(r1.metrics, { accuracy: 0.875, loss: 0.51 });
  assert.deepEqual(r1.config, {
    lr: 0.001,
    loss_fn: 'ce',
    epochs: 50,
    optimizer: 'adam',
    beta2: 0.999,
  });
  assert.deepEqual(r1.cost, { trainingTimeSec: 120, epochs: 50, hardware: 'RTX' });

  const r2 = byRun['run-2'];
  assert.equal(r2.status, 'failed');
  assert.deepEqual(r2.metrics, {});
  assert.deepEqual(r2.config, { lr: 0.01, loss_fn: 'ce', epochs: 50, optimizer: 'sgd' });
  assert.equal(r2.provenance.line, 3);

  const r3 = byRun['run-3'];
  assert.equal(r3.provenance.line, 5);
  assert.equal(r3.dataset, 'PNU');
  assert.equal(r3.status, 'stopped', 'finished in W&B but only 13 of 50 epochs');
  assert.deepEqual(r3.config, {
    lr: 0.1,
    loss_fn: 'focal',
    epochs: 50,
    optimizer: 'adam',
    beta2: 0.99,
  });

  const r5 = byRun['run-5'];
  assert.equal(r5.status, 'finished');
  assert.deepEqual(r5.metrics, {}, 'NaN summaries are not logged metrics');
  assert.equal(r5.cost.hardware, undefined);
});

test('W&B export without a status rule uses W&B states; an unknown state is an invalid row', async (t) => {
  const dir = tempDir(t);
  const { status: _status, ...mapping } = MAPPING;
  const csv = write(dir, 'export.csv', EXPORT.replace('"run-5","finished"', '"run-5","preempted"'));
  const kb = await writableKb(t, path.join(dir, 'kb.sqlite'));
  const report = await importFiles(kb, [csv], loadMapping(write(dir, 'mapping.json', mapping)), {
    skipInvalid: true,
  });
  assert.deepEqual(
    (await kb.records()).map((r) => [r.provenance.runId, r.status]),
    [
      ['run-1', 'finished'],
      ['run-2', 'failed'],
      ['run-3', 'finished'],
    ],
  );
  assert.equal(report.skipped.length, 1);
  assert.equal(report.skipped[0].line, 7);
  assert.equal(report.skipped[0].column, 'State');
  assert.match(report.skipped[0].reason, /status "preempted" is not in the mapping's status\.map/);
});
