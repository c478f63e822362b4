// Imports the two public meta-datasets in ../shared/metadata with the shipped mappings and checks
// counts verified by hand with pandas (/usr/bin/python3):
//   d = pd.read_csv('all_datasets_summary.csv'); len(d), d.test_f1_macro.notna().sum(), d.test_acc.sum()
//   q = pd.concat([pd.read_csv('AFT-MC-00.csv'), pd.read_csv('AFT-MC-01.csv')])
//   f = q[(q.State == 'finished') & (q.epoch == 49)]; len(f), (q.State == 'crashed').sum(), ...
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importFiles, loadMapping, searchSpaceOf, statsOf } from '../../src/store/index.ts';
import { SHARED, tempDir, writableKb } from './helpers.ts';

const shared = fileURLToPath(SHARED);
const MEDMNIST = path.join(shared, 'medmnist-finetune-strategies', 'all_datasets_summary.csv');
const QUICKTUNE = ['AFT-MC-00.csv', 'AFT-MC-01.csv'].map((f) =>
  path.join(shared, 'quicktune-metaalbum-micro-wandb', f),
);
const DATA = fileURLToPath(new URL('../../data/', import.meta.url));
const absent = [MEDMNIST, ...QUICKTUNE].find((f) => !existsSync(f));
const skip = absent ? `${absent} is absent (public data lives in ../shared/metadata)` : false;

test(
  'MedMNIST study: 3,200 finished runs, 10 datasets x 4 backbones x 8 strategies x 10 seeds',
  { skip },
  async (t) => {
    const kb = await writableKb(t, path.join(tempDir(t), 'kb.sqlite'));
    const report = await importFiles(
      kb,
      [MEDMNIST],
      loadMapping(path.join(DATA, 'medmnist', 'mapping.json')),
    );
    assert.deepEqual(
      {
        rows: report.rows,
        added: report.added,
        skipped: report.skipped.length,
        filtered: report.filtered,
      },
      { rows: 3200, added: 3200, skipped: 0, filtered: 0 },
    );
    assert.deepEqual(report.datasetsWithoutProfile, []);
    assert.deepEqual(report.modelsWithoutCard, []);
    const snapshot = await kb.snapshot();
    const stats = statsOf(snapshot);
    assert.deepEqual([stats.records, stats.datasets, stats.models], [3200, 10, 4]);
    assert.deepEqual(stats.byStatus, { finished: 3200 });
    assert.ok(stats.perDataset.every((d) => d.records === 320 && d.models === 4));
    const records = snapshot.records;
    assert.deepEqual(await kb.records(), records);
    assert.equal(
      records.filter(
        (r) => r.config.strategy === 'partial' && typeof r.config.unfreeze_pct === 'number',
      ).length,
      2400,
    );
    assert.ok(
      records
        .filter((r) => r.config.strategy !== 'partial')
        .every((r) => Object.keys(r.config).length === 1),
    );
    assert.equal(
      records.filter((r) => r.metrics.auc !== undefined).length,
      3200,
      'macro AUC stands in for ChestMNIST',
    );
    assert.equal(records.filter((r) => r.metrics.f1 !== undefined).length, 2880);
    const accSum = records.reduce((s, r) => s + r.metrics.accuracy, 0);
    assert.ok(Math.abs(accSum - 2687.039066313975) < 1e-6, String(accSum));
    const configs = new Set(
      records.map((r) => `${r.dataset}|${r.model}|${JSON.stringify(r.config)}`),
    );
    assert.equal(configs.size, 320);
    assert.equal(snapshot.profiles.find((p) => p.name === 'chestmnist')?.task, 'multilabel');
    assert.deepEqual(
      searchSpaceOf(snapshot.hyperparameters, records).parameters.map((p) => p.name),
      ['strategy', 'unfreeze_pct', 'direction'],
    );
  },
);

test('Quick-Tune W&B exports: 2,000 runs, 977 finished all 50 epochs', { skip }, async (t) => {
  const kb = await writableKb(t, path.join(tempDir(t), 'kb.sqlite'));
  const mapping = loadMapping(path.join(DATA, 'quicktune', 'mapping.json'));
  const report = await importFiles(kb, QUICKTUNE, mapping);
  assert.deepEqual(
    report.files.map((f) => [f.rows, f.added, f.skipped]),
    [
      [1000, 1000, 0],
      [1000, 1000, 0],
    ],
  );
  assert.deepEqual(report.datasetsWithoutProfile, []);
  assert.deepEqual(report.modelsWithoutCard, []);
  const snapshot = await kb.snapshot();
  const stats = statsOf(snapshot);
  assert.deepEqual([stats.records, stats.datasets, stats.models], [2000, 30, 24]);
  assert.deepEqual(stats.byStatus, { finished: 977, failed: 89, stopped: 934 });
  const finished = await kb.records({ status: 'finished' });
  assert.ok(finished.every((r) => r.cost.epochs === 50));
  const meanAcc = finished.reduce((s, r) => s + r.metrics.accuracy, 0) / finished.length;
  assert.ok(Math.abs(meanAcc - 0.3124255912614615) < 1e-9, String(meanAcc));
  assert.equal(
    finished.reduce((s, r) => s + (r.cost.trainingTimeSec ?? 0), 0),
    811495,
  );
  const perDataset = [];
  for (const d of ['BCT', 'PLT_VIL', 'SPT'])
    perDataset.push((await kb.records({ dataset: d, status: 'finished' })).length);
  assert.deepEqual(perDataset, [26, 47, 20]);
  assert.equal(snapshot.records.filter((r) => r.metrics.accuracy !== undefined).length, 1456);
  assert.equal(snapshot.profiles.find((p) => p.name === 'PNU')?.numClasses, 19);
  assert.equal(searchSpaceOf(snapshot.hyperparameters, snapshot.records).parameters.length, 32);
  const again = await importFiles(kb, QUICKTUNE, mapping);
  assert.equal(again.added, 0, 'a second import adds nothing');
  assert.equal(again.version, snapshot.version);
});
