import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MetallmixError } from '../../src/core/index.ts';
import {
  SCHEMA_VERSION,
  importFiles,
  loadMapping,
  openKnowledgeBase,
  searchSpaceOf,
  statsOf,
} from '../../src/store/index.ts';
import { migrate } from '../../src/store/sqlite/migrations.ts';
import {
  SMALL_CSV,
  SMALL_MAPPING,
  dumpTables,
  smallSource,
  tempDir,
  writableKb,
  write,
  type TestContext,
} from './helpers.ts';

/** The small CSV source in a temp dir and an open knowledge base beside it, closed after the test. */
async function smallKnowledgeBase(t: TestContext) {
  const dir = tempDir(t);
  const src = smallSource(dir);
  const file = path.join(dir, 'kb.sqlite');
  const kb = await writableKb(t, file);
  return { dir, src, file, kb };
}

/** A version-1 knowledge base (before declared hyperparameters) holding one record. */
function versionOneKnowledgeBase(file: string): void {
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
}

/** Whether `e` is a MetallmixError naming `file` and matching `pattern`. */
const refusal = (file: string, pattern: RegExp) => (e: unknown) =>
  e instanceof MetallmixError && e.location.file === file && pattern.test(e.message);

test('migrations: a version-1 knowledge base is upgraded in place, a newer one is refused', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'old.sqlite');
  versionOneKnowledgeBase(file);

  const kb = await openKnowledgeBase(file, { mode: 'write' });
  const records = await kb.records();
  assert.equal(records.length, 1);
  assert.equal(records[0].id, 'abc');
  await kb.close();
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
  await assert.rejects(
    openKnowledgeBase(file, { mode: 'write' }),
    (e: unknown) => e instanceof MetallmixError && /newer/.test(e.message),
  );
});

test('a read-mode open of a missing file fails with the path and creates nothing', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'sub', 'missing.sqlite');
  await assert.rejects(
    openKnowledgeBase(file, { mode: 'read' }),
    (e: unknown) =>
      e instanceof MetallmixError &&
      e.message.includes(file) &&
      /no knowledge base/.test(e.message),
  );
  assert.deepEqual(readdirSync(dir), []);
});

test('a read-mode open never migrates: an old or a newer schema is refused, the file untouched', async (t) => {
  const dir = tempDir(t);
  const old = path.join(dir, 'old.sqlite');
  versionOneKnowledgeBase(old);
  const oldBytes = readFileSync(old);
  await assert.rejects(
    openKnowledgeBase(old, { mode: 'read' }),
    refusal(old, /schema version 1 needs migrating to 3/),
  );
  assert.deepEqual(readFileSync(old), oldBytes);
  assert.deepEqual(readdirSync(dir), ['old.sqlite']);

  const newer = path.join(dir, 'newer.sqlite');
  await (await openKnowledgeBase(newer, { mode: 'write' })).close();
  const db = new Database(newer);
  db.pragma('user_version = 99');
  db.close();
  const newerBytes = readFileSync(newer);
  await assert.rejects(openKnowledgeBase(newer, { mode: 'write' }), refusal(newer, /newer/));
  await assert.rejects(openKnowledgeBase(newer, { mode: 'read' }), refusal(newer, /99/));
  assert.deepEqual(readFileSync(newer), newerBytes);
});

test('a read-mode open of a newer knowledge base says to upgrade metallmix, as a write-mode open does', async (t) => {
  const file = path.join(tempDir(t), 'newer.sqlite');
  await (await openKnowledgeBase(file, { mode: 'write' })).close();
  const db = new Database(file);
  db.pragma('user_version = 99');
  db.close();
  await assert.rejects(
    openKnowledgeBase(file, { mode: 'read' }),
    refusal(file, /newer than this metallmix knows.*upgrade metallmix/),
  );
});

test('files that are not a metallmix knowledge base are refused in both modes, untouched', async (t) => {
  const dir = tempDir(t);
  const other = path.join(dir, 'other.sqlite');
  const db = new Database(other);
  db.exec('CREATE TABLE runs (a); CREATE TABLE notes (b)');
  db.close();
  const text = write(dir, 'notes.txt', 'not a database at all, just some text\n'.repeat(20));
  const empty = write(dir, 'empty.sqlite', '');
  const bytes = (f: string) => readFileSync(f).toString('base64');
  const before = [other, text, empty].map(bytes);
  for (const mode of ['read', 'write'] as const) {
    await assert.rejects(
      openKnowledgeBase(other, { mode }),
      refusal(other, /not a metallmix knowledge base: an SQLite database with tables runs, notes/),
      mode,
    );
    await assert.rejects(
      openKnowledgeBase(text, { mode }),
      refusal(text, /not a metallmix knowledge base/),
      mode,
    );
  }
  await assert.rejects(
    openKnowledgeBase(empty, { mode: 'read' }),
    refusal(empty, /not a metallmix knowledge base \(an empty SQLite file\)/),
  );
  assert.deepEqual([other, text, empty].map(bytes), before);
  assert.deepEqual(readdirSync(dir).sort(), ['empty.sqlite', 'notes.txt', 'other.sqlite']);
});

test('a read-mode open leaves the file byte-identical and refuses to import', async (t) => {
  const { src, file, kb } = await smallKnowledgeBase(t);
  await importFiles(kb, [src.csv], loadMapping(src.mapping));
  await kb.close();
  const bytes = readFileSync(file);
  const tables = dumpTables(file);
  const ro = await openKnowledgeBase(file, { mode: 'read' });
  t.after(() => ro.close());
  assert.equal(ro.writable, false);
  assert.equal(ro.backend, 'sqlite');
  assert.equal(ro.label, file);
  assert.deepEqual(ro.indexLocation, { kind: 'file', path: `${file}.vectors` });
  assert.equal((await ro.snapshot()).records.length, 3);
  await assert.rejects(
    importFiles(ro, [src.csv], loadMapping(src.mapping)),
    refusal(file, /opened read-only/),
  );
  await ro.close();
  assert.deepEqual(readFileSync(file), bytes);
  assert.equal(dumpTables(file), tables);
});

test('import maps columns, converts units, drops inactive conditional values, joins profiles', async (t) => {
  const { src, kb } = await smallKnowledgeBase(t);
  const report = await importFiles(kb, [src.csv], loadMapping(src.mapping));
  assert.equal(report.added, 3);
  assert.equal(report.duplicates, 0);
  assert.deepEqual(report.profiles, { added: 2, updated: 0, unchanged: 0 });
  assert.deepEqual(report.datasetsWithoutProfile, []);
  const [r1, r2] = await kb.records({ dataset: 'derma' });
  assert.deepEqual(r1.config, { lr: 0.001, strategy: 'lp' });
  assert.deepEqual(r2.config, { lr: 0.01, strategy: 'partial', depth: 3 });
  assert.equal(r1.metrics.accuracy, 0.815);
  assert.equal(r2.cost.trainingTimeSec, 210);
  assert.equal(r1.provenance.runId, 'r1');
  assert.equal(r1.provenance.line, 2);
  assert.equal((await kb.records({ model: 'vit', status: 'finished' })).length, 1);
  assert.equal((await kb.records({ status: 'failed' })).length, 0);
  const snapshot = await kb.snapshot();
  // Class statistics are completed from the class counts of the profile file.
  assert.equal(snapshot.profiles.find((p) => p.name === 'derma')?.imbalanceRatio, 1);
  assert.equal(snapshot.models.length, 2);

  const space = searchSpaceOf(snapshot.hyperparameters, snapshot.records);
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
  const stats = statsOf(snapshot);
  assert.equal(stats.version, await kb.version());
  assert.equal(stats.records, 3);
  assert.equal(stats.datasets, 2);
  assert.equal(stats.models, 2);
  assert.deepEqual(stats.byStatus, { finished: 3 });
  assert.deepEqual(stats.perDataset, [
    { dataset: 'blood', records: 1, models: 1 },
    { dataset: 'derma', records: 2, models: 1 },
  ]);
});

test('importing the same file twice adds nothing; the version changes iff content changes', async (t) => {
  const { dir, src, file, kb } = await smallKnowledgeBase(t);
  const mapping = loadMapping(src.mapping);
  const empty = await kb.version();
  await importFiles(kb, [src.csv], mapping);
  const v1 = await kb.version();
  assert.notEqual(v1, empty);
  const before = dumpTables(file);
  const again = await importFiles(kb, [src.csv], mapping);
  assert.equal(again.added, 0);
  assert.equal(again.duplicates, 3);
  assert.deepEqual(again.profiles, { added: 0, updated: 0, unchanged: 2 });
  assert.equal(dumpTables(file), before);
  assert.equal(await kb.version(), v1);
  assert.equal(again.version, v1);

  // A copy of the file elsewhere holds the same runs: still nothing new.
  const copy = write(dir, 'copy.csv', SMALL_CSV);
  assert.equal((await importFiles(kb, [copy], mapping)).added, 0);
  assert.equal(dumpTables(file), before);

  const reopened = await openKnowledgeBase(file, { mode: 'read' });
  assert.equal(await reopened.version(), v1);
  await reopened.close();

  const more = write(dir, 'more.csv', `${SMALL_CSV}r9,blood,vit,0.001,lp,0,70,1,3\n`);
  assert.equal((await importFiles(kb, [more], mapping)).added, 1);
  const v2 = await kb.version();
  assert.notEqual(v2, v1);
  write(dir, 'profiles.json', [
    { name: 'derma', task: 'multiclass', modality: 'dermoscopy', numInstances: 31, numClasses: 3 },
  ]);
  const report = await importFiles(kb, [more], loadMapping(src.mapping));
  assert.equal(report.profiles.updated, 1);
  const v3 = await kb.version();
  assert.notEqual(v3, v2);

  // The version also covers declarations: a mapping that changes a parameter's scale (same
  // type) changes it, with no record, profile or card changed.
  const linear = write(dir, 'linear.json', {
    ...SMALL_MAPPING,
    hyperparameters: [
      { name: 'lr', type: 'float', log: false },
      ...SMALL_MAPPING.hyperparameters.slice(1),
    ],
  });
  // A changed declaration is an explicit migration: refused, then done with redeclare.
  await assert.rejects(
    importFiles(kb, [more], loadMapping(linear)),
    (e: unknown) =>
      e instanceof MetallmixError &&
      e.message.includes(linear) &&
      /hyperparameters\.0\.log/.test(e.message) &&
      /--redeclare/.test(e.message),
  );
  assert.equal(await kb.version(), v3);
  const redeclared = await importFiles(kb, [more], loadMapping(linear), { redeclare: true });
  assert.deepEqual([redeclared.added, redeclared.profiles.updated], [0, 0]);
  assert.notEqual(await kb.version(), v3);
  const s = await kb.snapshot();
  assert.deepEqual(s.hyperparameters[0], { name: 'lr', type: 'float', log: false });
  assert.deepEqual(searchSpaceOf(s.hyperparameters, s.records).parameters[0], {
    name: 'lr',
    type: 'float',
    low: 0.0001,
    high: 0.01,
    log: false,
  });
});

test('an invalid row fails the import with file, line, column and reason, and writes nothing', async (t) => {
  const { dir, src, file, kb } = await smallKnowledgeBase(t);
  await importFiles(kb, [src.csv], loadMapping(src.mapping));
  const before = dumpTables(file);
  const version = await kb.version();
  const bad = write(
    dir,
    'bad.csv',
    `${SMALL_CSV}r4,blood,vit,abc,full,0,90,10,2\nr5,blood,vit,0.1,full,0,190,10,2\nr6,blood,vit,0.1,half,0,90,10,2\nr7,blood,vit,0.1,full,0,90,10,2\n`,
  );
  await assert.rejects(
    importFiles(kb, [bad], loadMapping(src.mapping)),
    (e: unknown) =>
      e instanceof MetallmixError &&
      e.message.startsWith(`${bad}:5 column "lr": expected a number, got "abc"`) &&
      /and 2 more invalid rows/.test(e.message) &&
      /--skip-invalid/.test(e.message),
  );
  assert.equal(dumpTables(file), before);
  assert.equal(await kb.version(), version);
});

test('a failure inside the write transaction rolls back the records already inserted', async (t) => {
  const { dir, src, file, kb } = await smallKnowledgeBase(t);
  await importFiles(kb, [src.csv], loadMapping(src.mapping));
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
  await assert.rejects(
    importFiles(kb, [rows], loadMapping(other)),
    (e: unknown) =>
      e instanceof MetallmixError &&
      e.message.includes(other) &&
      /hyperparameters\.0\.type/.test(e.message),
  );
  assert.equal(dumpTables(file), before);
});

test('--skip-invalid imports the valid rows and reports every skipped row with its reason', async (t) => {
  const { dir, src, kb } = await smallKnowledgeBase(t);
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
  const report = await importFiles(kb, [bad], loadMapping(src.mapping), { skipInvalid: true });
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
  const multi = (await kb.records()).find((r) => r.provenance.runId === 'r9\nmulti-line id');
  assert.equal(multi?.provenance.line, 10);
  assert.deepEqual(multi?.metrics, {});
});

test('bad mapping files fail with the mapping file, the field and the reason', async (t) => {
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
  const kb = await writableKb(t, path.join(dir, 'kb.sqlite'));
  const missing = write(dir, 'missing.json', { ...SMALL_MAPPING, seed: 'random_seed' });
  await assert.rejects(
    importFiles(kb, [src.csv], loadMapping(missing)),
    (e: unknown) =>
      e instanceof MetallmixError &&
      e.message.startsWith(`${src.csv}:1 column "random_seed"`) &&
      /field "seed"/.test(e.message),
  );
});

test('JSONL: nested objects by dotted path or JSON path, absent keys are empty, bad lines reported', async (t) => {
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
  const kb = await writableKb(t, path.join(dir, 'kb.sqlite'));
  const report = await importFiles(kb, [jsonl], loadMapping(mapping), { skipInvalid: true });
  assert.equal(report.files[0].format, 'jsonl');
  assert.equal(report.added, 2);
  assert.deepEqual(
    report.skipped.map((s) => s.line),
    [4, 5],
  );
  assert.match(report.skipped[0].reason, /not valid JSON/);
  const [a, b] = await kb.records();
  assert.deepEqual(a.config, { lr: 0.01, opt: 'adam' });
  assert.deepEqual(b.metrics, {});
  assert.equal(b.provenance.line, 3);
});

test('row filters leave rows out without reporting them; datasets without a profile are listed', async (t) => {
  const dir = tempDir(t);
  const src = smallSource(dir, `${SMALL_CSV}r4,chest,vit,0.001,lp,0,60,1,\n`, {
    ...SMALL_MAPPING,
    filters: [
      { column: 'model', op: 'in', value: ['resnet18', 'vit'] },
      { column: 'acc', op: '>=', value: 60 },
      { column: 'strategy', op: '!=', value: 'full' },
    ],
  });
  const kb = await writableKb(t, path.join(dir, 'kb.sqlite'));
  const report = await importFiles(kb, [src.csv], loadMapping(src.mapping));
  assert.deepEqual(
    [report.rows, report.added, report.filtered, report.skipped.length],
    [4, 3, 1, 0],
  );
  const records = await kb.records();
  assert.deepEqual(
    records.map((r) => r.provenance.runId),
    ['r1', 'r2', 'r4'],
  );
  assert.equal(records[2].seed, undefined);
  assert.deepEqual(report.datasetsWithoutProfile, ['chest']);
  assert.deepEqual(report.modelsWithoutCard, []);
});
