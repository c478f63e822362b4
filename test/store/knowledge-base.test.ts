import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MetallmixError } from '../../src/core/index.ts';
import {
  SCHEMA_VERSION,
  importFiles,
  loadMapping,
  openKnowledgeBase,
} from '../../src/store/index.ts';
import { migrate } from '../../src/store/migrations.ts';
import { SMALL_CSV, SMALL_MAPPING, dumpTables, smallSource, tempDir, write } from './helpers.ts';

/** The small CSV source in a temp dir and an open knowledge base beside it, closed after the test. */
function smallKnowledgeBase(t: { after(fn: () => void): void }) {
  const dir = tempDir(t);
  const src = smallSource(dir);
  const file = path.join(dir, 'kb.sqlite');
  const kb = openKnowledgeBase(file);
  t.after(() => kb.close());
  return { dir, src, file, kb };
}

test('migrations: a version-1 knowledge base is upgraded in place, a newer one is refused', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'old.sqlite');
  const db = new Database(file);
  migrate(db, file, 1);
  db.prepare(
    'INSERT INTO records (id, dataset, model, status, source, body) VALUES (?, ?, ?, ?, ?, ?)',
  ).run(
    'abc',
    'derma',
    'resnet18',
    'finished',
    'x.csv',
    JSON.stringify({
      dataset: 'derma',
      model: 'resnet18',
      config: {},
      metrics: { accuracy: 0.5 },
      cost: {},
      status: 'finished',
      provenance: { source: 'x.csv' },
    }),
  );
  assert.equal(db.pragma('user_version', { simple: true }), 1);
  db.close();

  const kb = openKnowledgeBase(file);
  assert.equal(kb.records().length, 1);
  assert.equal(kb.records()[0].id, 'abc');
  kb.close();
  const after = new Database(file, { readonly: true });
  assert.equal(after.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.equal(after.pragma('journal_mode', { simple: true }), 'wal');
  const tables = (
    after.prepare(`SELECT name FROM sqlite_master WHERE type='table'`).all() as { name: string }[]
  ).map((r) => r.name);
  assert.ok(tables.includes('hyperparameters'));
  after.close();

  const newer = new Database(file);
  newer.pragma('user_version = 99');
  newer.close();
  assert.throws(
    () => openKnowledgeBase(file),
    (e: unknown) => e instanceof MetallmixError && /newer/.test(e.message),
  );
});

test('read-only and must-exist opens of a missing file fail with the path', (t) => {
  const file = path.join(tempDir(t), 'missing.sqlite');
  for (const options of [{ readonly: true }, { mustExist: true }])
    assert.throws(
      () => openKnowledgeBase(file, options),
      (e: unknown) => e instanceof MetallmixError && e.message.includes(file),
    );
});

test('import maps columns, converts units, drops inactive conditional values, joins profiles', (t) => {
  const { src, kb } = smallKnowledgeBase(t);
  const report = importFiles(kb, [src.csv], loadMapping(src.mapping));
  assert.equal(report.added, 3);
  assert.equal(report.duplicates, 0);
  assert.deepEqual(report.profiles, { added: 2, updated: 0, unchanged: 0 });
  assert.deepEqual(report.datasetsWithoutProfile, []);
  const [r1, r2] = kb.records({ dataset: 'derma' });
  assert.deepEqual(r1.config, { lr: 0.001, strategy: 'lp' });
  assert.deepEqual(r2.config, { lr: 0.01, strategy: 'partial', depth: 3 });
  assert.equal(r1.metrics.accuracy, 0.815);
  assert.equal(r2.cost.trainingTimeSec, 210);
  assert.equal(r1.provenance.runId, 'r1');
  assert.equal(r1.provenance.line, 2);
  assert.equal(kb.records({ model: 'vit', status: 'finished' }).length, 1);
  assert.equal(kb.records({ status: 'failed' }).length, 0);
  // Class statistics are completed from the class counts of the profile file.
  assert.equal(kb.datasetProfile('derma')?.imbalanceRatio, 1);
  assert.equal(kb.modelCards().length, 2);

  const space = kb.searchSpace();
  assert.deepEqual(space.parameters, [
    { name: 'lr', type: 'float', low: 0.0001, high: 0.01, log: true },
    { name: 'strategy', type: 'categorical', choices: ['lp', 'full', 'partial'] },
    {
      name: 'depth',
      type: 'int',
      low: 3,
      high: 3,
      log: false,
      condition: { parent: 'strategy', values: ['partial'] },
    },
  ]);
  const stats = kb.stats();
  assert.equal(stats.records, 3);
  assert.equal(stats.datasets, 2);
  assert.equal(stats.models, 2);
  assert.deepEqual(stats.byStatus, { finished: 3 });
  assert.deepEqual(stats.perDataset, [
    { dataset: 'blood', records: 1, models: 1 },
    { dataset: 'derma', records: 2, models: 1 },
  ]);
});

test('importing the same file twice adds nothing; the version changes iff content changes', (t) => {
  const { dir, src, file, kb } = smallKnowledgeBase(t);
  const mapping = loadMapping(src.mapping);
  const empty = kb.version();
  importFiles(kb, [src.csv], mapping);
  const v1 = kb.version();
  assert.notEqual(v1, empty);
  const before = dumpTables(file);
  const again = importFiles(kb, [src.csv], mapping);
  assert.equal(again.added, 0);
  assert.equal(again.duplicates, 3);
  assert.deepEqual(again.profiles, { added: 0, updated: 0, unchanged: 2 });
  assert.equal(dumpTables(file), before);
  assert.equal(kb.version(), v1);

  // A copy of the file elsewhere holds the same runs: still nothing new.
  const copy = write(dir, 'copy.csv', SMALL_CSV);
  assert.equal(importFiles(kb, [copy], mapping).added, 0);

  const reopened = openKnowledgeBase(file, { readonly: true });
  assert.equal(reopened.version(), v1);
  reopened.close();

  const more = write(dir, 'more.csv', `${SMALL_CSV}r9,blood,vit,0.001,lp,0,70,1,3\n`);
  assert.equal(importFiles(kb, [more], mapping).added, 1);
  const v2 = kb.version();
  assert.notEqual(v2, v1);
  write(dir, 'profiles.json', [
    { name: 'derma', task: 'multiclass', modality: 'dermoscopy', numInstances: 31, numClasses: 3 },
  ]);
  const report = importFiles(kb, [more], loadMapping(src.mapping));
  assert.equal(report.profiles.updated, 1);
  assert.notEqual(kb.version(), v2);
});

test('an invalid row fails the import with file, line, column and reason, and writes nothing', (t) => {
  const { dir, src, file, kb } = smallKnowledgeBase(t);
  importFiles(kb, [src.csv], loadMapping(src.mapping));
  const before = dumpTables(file);
  const version = kb.version();
  const bad = write(
    dir,
    'bad.csv',
    `${SMALL_CSV}r4,blood,vit,abc,full,0,90,10,2\nr5,blood,vit,0.1,full,0,190,10,2\nr6,blood,vit,0.1,half,0,90,10,2\nr7,blood,vit,0.1,full,0,90,10,2\n`,
  );
  assert.throws(
    () => importFiles(kb, [bad], loadMapping(src.mapping)),
    (e: unknown) =>
      e instanceof MetallmixError &&
      e.message.startsWith(`${bad}:5 column "lr": expected a number, got "abc"`) &&
      /and 2 more invalid rows/.test(e.message) &&
      /--skip-invalid/.test(e.message),
  );
  assert.equal(dumpTables(file), before);
  assert.equal(kb.version(), version);
});

test('a failure inside the write transaction rolls back the records already inserted', (t) => {
  const { dir, src, file, kb } = smallKnowledgeBase(t);
  importFiles(kb, [src.csv], loadMapping(src.mapping));
  const before = dumpTables(file);
  // lr is stored as float; a mapping that calls it categorical conflicts, after the new rows were inserted.
  const conflicting = {
    ...SMALL_MAPPING,
    hyperparameters: [{ name: 'lr', type: 'categorical' }],
  };
  const other = write(dir, 'conflict.json', conflicting);
  const rows = write(
    dir,
    'new.csv',
    'run,ds,model,lr,strategy,depth,acc,minutes,seed\nz1,new,vit,fast,lp,0,50,1,1\n',
  );
  assert.throws(
    () => importFiles(kb, [rows], loadMapping(other)),
    (e: unknown) =>
      e instanceof MetallmixError &&
      e.message.includes(other) &&
      /hyperparameters\.0\.type/.test(e.message),
  );
  assert.equal(dumpTables(file), before);
});

test('--skip-invalid imports the valid rows and reports every skipped row with its reason', (t) => {
  const { dir, src, kb } = smallKnowledgeBase(t);
  const bad = write(
    dir,
    'bad.csv',
    [
      'run,ds,model,lr,strategy,depth,acc,minutes,seed',
      'r1,derma,resnet18,0.001,lp,0,81.5,2,1',
      'r2,,resnet18,0.001,lp,0,81.5,2,1',
      'r3,derma,resnet18,-0.1,lp,0,81.5,2,1',
      'r4,derma,resnet18,0.1,half,0,81.5,2,1',
      'r5,derma,resnet18,0.1,partial,2.5,81.5,2,1',
      'r6,derma,resnet18,0.1,lp,0,181.5,2,1',
      'r7,derma,resnet18,0.1,lp,0,81.5,2',
      'r8,derma,resnet18,0.1,lp,0,81.5,2,1.5',
      '"r9',
      'multi-line id",derma,vit,0.1,lp,0,NaN,2,1',
      'r10,derma,vit,0.1,full,0,80,2,1',
      '',
    ].join('\n'),
  );
  const report = importFiles(kb, [bad], loadMapping(src.mapping), { skipInvalid: true });
  assert.equal(report.added, 3);
  assert.deepEqual(
    report.skipped.map((s) => [s.line, s.column]).sort((a, b) => Number(a[0]) - Number(b[0])),
    [
      [3, 'ds'],
      [4, 'lr'],
      [5, 'strategy'],
      [6, 'depth'],
      [7, 'acc'],
      [8, undefined],
      [9, 'seed'],
    ],
  );
  const reasons = Object.fromEntries(report.skipped.map((s) => [s.line, s.reason]));
  assert.match(reasons[3], /dataset is empty/);
  assert.match(reasons[4], /log scale must be > 0/);
  assert.match(reasons[5], /"half" is not one of/);
  assert.match(reasons[6], /expected an integer/);
  assert.match(reasons[7], /outside \[0, 1\].*percent/);
  assert.match(reasons[8], /8 cells, the header has 9/);
  assert.match(reasons[9], /seed must be an integer/);
  assert.ok(report.skipped.every((s) => s.file === bad));
  // The run whose id spans two lines starts at line 10; its NaN accuracy is "not logged".
  const multi = kb.records().find((r) => r.provenance.runId === 'r9\nmulti-line id');
  assert.equal(multi?.provenance.line, 10);
  assert.deepEqual(multi?.metrics, {});
});

test('bad mapping files fail with the mapping file, the field and the reason', (t) => {
  const dir = tempDir(t);
  const src = smallSource(dir);
  const cases: [string, object | string, RegExp][] = [
    [
      'typo.json',
      { ...SMALL_MAPPING, metric: {} },
      /invalid mapping file: .*Unrecognized key.*"metric"/,
    ],
    ['nometrics.json', { ...SMALL_MAPPING, metrics: {} }, /field "metrics".*at least one metric/],
    [
      'unit.json',
      { ...SMALL_MAPPING, metrics: { accuracy: { column: 'acc', unit: 'percents' } } },
      /metrics\.accuracy/,
    ],
    [
      'both.json',
      { ...SMALL_MAPPING, model: { column: 'model', value: 'x' } },
      /exactly one of "column" and "value"/,
    ],
    [
      'regex.json',
      { ...SMALL_MAPPING, dataset: { column: 'ds', pattern: '([' } },
      /field "dataset\.pattern".*regular expression/,
    ],
    [
      'parent.json',
      {
        ...SMALL_MAPPING,
        hyperparameters: [
          { name: 'depth', type: 'int', condition: { parent: 'nope', values: [1] } },
        ],
      },
      /hyperparameters\.0\.condition\.parent.*"nope"/,
    ],
    [
      'log.json',
      { ...SMALL_MAPPING, hyperparameters: [{ name: 'opt', type: 'categorical', log: true }] },
      /hyperparameters\.0\.log/,
    ],
    ['notjson.json', '{ "dataset": ', /not valid JSON/],
    [
      'profiles.json.bad',
      { ...SMALL_MAPPING, profiles: 'badprofiles.json' },
      /badprofiles\.json.*field "0\.numInstances"/,
    ],
  ];
  write(dir, 'badprofiles.json', [
    { name: 'x', task: 'multiclass', modality: 'xray', numInstances: -3, numClasses: 2 },
  ]);
  for (const [name, content, pattern] of cases) {
    const file = write(dir, name, content);
    assert.throws(
      () => loadMapping(file),
      (e: unknown) =>
        e instanceof MetallmixError &&
        (e.message.includes(file) || name === 'profiles.json.bad') &&
        pattern.test(e.message),
      name,
    );
  }
  // A column the mapping names but the file lacks fails before anything is read.
  const kb = openKnowledgeBase(path.join(dir, 'kb.sqlite'));
  t.after(() => kb.close());
  const missing = write(dir, 'missing.json', { ...SMALL_MAPPING, seed: 'random_seed' });
  assert.throws(
    () => importFiles(kb, [src.csv], loadMapping(missing)),
    (e: unknown) =>
      e instanceof MetallmixError &&
      e.message.startsWith(`${src.csv}:1 column "random_seed"`) &&
      /field "seed"/.test(e.message),
  );
});

test('JSONL: nested objects by dotted path or JSON path, absent keys are empty, bad lines reported', (t) => {
  const dir = tempDir(t);
  smallSource(dir);
  const jsonl = write(
    dir,
    'runs.jsonl',
    [
      JSON.stringify({
        id: 'a',
        data: { name: 'derma' },
        arch: 'vit',
        cfg: { lr: 0.01, opt: { name: 'adam' } },
        m: { acc: 0.7 },
      }),
      '',
      JSON.stringify({
        id: 'b',
        data: { name: 'derma' },
        arch: 'vit',
        cfg: { lr: 0.02, opt: { name: 'sgd' } },
      }),
      '{ not json',
      '[1, 2]',
      '',
    ].join('\n'),
  );
  const mapping = write(dir, 'jsonl.json', {
    dataset: 'data.name',
    model: 'arch',
    runId: 'id',
    metrics: { accuracy: 'm.acc' },
    hyperparameters: [
      { name: 'lr', column: 'cfg.lr', type: 'float', log: true },
      { name: 'opt', column: 'cfg', json: 'opt.name', type: 'categorical' },
    ],
  });
  const kb = openKnowledgeBase(path.join(dir, 'kb.sqlite'));
  t.after(() => kb.close());
  const report = importFiles(kb, [jsonl], loadMapping(mapping), { skipInvalid: true });
  assert.equal(report.files[0].format, 'jsonl');
  assert.equal(report.added, 2);
  assert.deepEqual(
    report.skipped.map((s) => s.line),
    [4, 5],
  );
  assert.match(report.skipped[0].reason, /not valid JSON/);
  const [a, b] = kb.records();
  assert.deepEqual(a.config, { lr: 0.01, opt: 'adam' });
  assert.deepEqual(b.metrics, {});
  assert.equal(b.provenance.line, 3);
});

test('row filters leave rows out without reporting them; datasets without a profile are listed', (t) => {
  const dir = tempDir(t);
  const src = smallSource(dir, `${SMALL_CSV}r4,chest,vit,0.001,lp,0,60,1,\n`, {
    ...SMALL_MAPPING,
    filters: [
      { column: 'model', op: 'in', value: ['resnet18', 'vit'] },
      { column: 'acc', op: '>=', value: 60 },
      { column: 'strategy', op: '!=', value: 'full' },
    ],
  });
  const kb = openKnowledgeBase(path.join(dir, 'kb.sqlite'));
  t.after(() => kb.close());
  const report = importFiles(kb, [src.csv], loadMapping(src.mapping));
  assert.deepEqual(
    [report.rows, report.added, report.filtered, report.skipped.length],
    [4, 3, 1, 0],
  );
  assert.deepEqual(
    kb.records().map((r) => r.provenance.runId),
    ['r1', 'r2', 'r4'],
  );
  assert.equal(kb.records()[2].seed, undefined);
  assert.deepEqual(report.datasetsWithoutProfile, ['chest']);
  assert.deepEqual(report.modelsWithoutCard, []);
});
