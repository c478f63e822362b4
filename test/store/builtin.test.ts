import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAggregateTable } from '../../scripts/build-starter-kb.ts';
import { MetallmixError } from '../../src/core/index.ts';
import {
  BUILTIN_LABEL,
  openKnowledgeBase,
  readLocator,
  searchSpaceOf,
  statsOf,
} from '../../src/store/index.ts';
import { openBuiltinKnowledgeBase } from '../../src/store/builtin.ts';
import { SHARED, tempDir } from './helpers.ts';

const BUILTIN = fileURLToPath(new URL('../../src/store/builtin.ts', import.meta.url));
const TABLE = fileURLToPath(new URL('../../data/builtin/medmnist-aggregate.csv', import.meta.url));

const images = (dir: string) =>
  existsSync(dir) ? readdirSync(dir).filter((f) => /^builtin-[0-9a-f]+\.sqlite$/.test(f)) : [];

test('the built-in knowledge base loads the committed aggregate table with counts and stds', async (t) => {
  const cache = tempDir(t);
  const kb = await openBuiltinKnowledgeBase(cache);
  t.after(() => kb.close());
  assert.deepEqual([kb.label, kb.backend, kb.writable], [BUILTIN_LABEL, 'builtin', false]);
  const snapshot = await kb.snapshot();
  const stats = statsOf(snapshot);
  assert.deepEqual([stats.records, stats.datasets, stats.models], [320, 10, 4]);
  const records = await kb.records();
  assert.deepEqual(records, snapshot.records);
  assert.ok(
    records.every(
      (r) => r.count === 10 && r.std?.accuracy !== undefined && r.status === 'finished',
    ),
  );
  const cell = records.find(
    (r) =>
      r.dataset === 'bloodmnist' &&
      r.model === 'densenet121' &&
      r.config.strategy === 'partial' &&
      r.config.unfreeze_pct === 20 &&
      r.config.direction === 'end',
  );
  // Checked with pandas on the source: mean/std (ddof 1) over the 10 seeds of this configuration.
  assert.deepEqual(cell?.metrics, { accuracy: 0.982432, auc: 0.999197, f1: 0.983088 });
  assert.equal(cell?.std?.accuracy, 0.001197);
  assert.equal(cell?.cost.trainingTimeSec, 325.68);
  assert.equal(cell?.cost.epochs, 22.2);
  assert.equal(snapshot.profiles.length, 10);
  assert.equal(snapshot.models.length, 4);
  assert.deepEqual(
    searchSpaceOf(snapshot.hyperparameters, snapshot.records).parameters.map((p) => p.name),
    ['strategy', 'unfreeze_pct', 'direction'],
  );

  // Stable version: the same in a second handle, from the cache file in another process, and
  // through the locator a command reads without --kb or METALLMIX_KB.
  const version = await kb.version();
  assert.equal(stats.version, version);
  const again = await openBuiltinKnowledgeBase(cache);
  assert.equal(await again.version(), version);
  await again.close();
  assert.equal(images(cache).length, 1);
  const child = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `import('${BUILTIN}').then(async (b) => console.log(await (await b.openBuiltinKnowledgeBase(${JSON.stringify(cache)})).version()))`,
    ],
    { encoding: 'utf8' },
  ).trim();
  assert.equal(child, version);
  // No knowledge base of the user's own (METALLMIX_DATA has none): the built-in one as it is.
  const env = { METALLMIX_CACHE: cache, METALLMIX_DATA: cache };
  const resolved = await openKnowledgeBase(readLocator(undefined, env), { mode: 'read', env });
  t.after(() => resolved.close());
  assert.equal(resolved.label, BUILTIN_LABEL);
  assert.equal(await resolved.version(), version);
});

test('the built-in knowledge base refuses imports and changes nothing', async (t) => {
  const cache = tempDir(t);
  const kb = await openBuiltinKnowledgeBase(cache);
  t.after(() => kb.close());
  const before = JSON.stringify(await kb.snapshot());
  const image = readFileSync(path.join(cache, images(cache)[0]));
  await assert.rejects(
    kb.importBatch({
      records: [
        {
          dataset: 'bloodmnist',
          model: 'vit',
          config: {},
          metrics: { accuracy: 0.5 },
          cost: {},
          status: 'finished',
          provenance: { source: 'x.csv' },
        },
      ],
    }),
    (e: unknown) =>
      e instanceof MetallmixError &&
      e.location.file === BUILTIN_LABEL &&
      /read-only/.test(e.message),
  );
  assert.equal(JSON.stringify(await kb.snapshot()), before);
  assert.deepEqual(readFileSync(path.join(cache, images(cache)[0])), image);
  await kb.close();
  await kb.close();
});

test('the image is cached in METALLMIX_CACHE, else $XDG_CACHE_HOME/metallmix, else ~/.cache/metallmix', async (t) => {
  const dir = tempDir(t);
  const cases = [
    {
      env: { METALLMIX_CACHE: path.join(dir, 'mm'), XDG_CACHE_HOME: path.join(dir, 'no') },
      at: 'mm',
    },
    {
      env: { XDG_CACHE_HOME: path.join(dir, 'xdg'), HOME: path.join(dir, 'no') },
      at: 'xdg/metallmix',
    },
    { env: { HOME: path.join(dir, 'home') }, at: 'home/.cache/metallmix' },
  ];
  const versions = new Set<string>();
  for (const { env, at } of cases) {
    const kb = await openKnowledgeBase('builtin', { mode: 'read', env });
    versions.add(await kb.version());
    assert.deepEqual(kb.indexLocation, {
      kind: 'file',
      path: path.join(dir, at, 'builtin-medmnist.vectors'),
    });
    await kb.close();
    assert.equal(images(path.join(dir, at)).length, 1, at);
  }
  assert.equal(versions.size, 1);
  assert.deepEqual(images(path.join(dir, 'no')), []);
  assert.ok(!existsSync(path.join(dir, 'no')));
});

test('an unwritable cache directory costs only the rebuild', async (t) => {
  const parent = tempDir(t);
  // A file where the cache directory should be: nothing can be created under it, even as root.
  const blocked = path.join(parent, 'file');
  execFileSync('touch', [blocked]);
  chmodSync(blocked, 0o444);
  const kb = await openBuiltinKnowledgeBase(path.join(blocked, 'cache'));
  t.after(() => kb.close());
  assert.equal((await kb.records()).length, 320);
});

test('a corrupt cached image is rebuilt instead of failing every read', async (t) => {
  const cache = tempDir(t);
  await (await openBuiltinKnowledgeBase(cache)).close();
  const image = path.join(cache, images(cache)[0]);
  writeFileSync(image, 'not a database\n'.repeat(100));
  // A new process: this one keeps the image it read in memory.
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `import('${BUILTIN}').then(async (b) => console.log((await (await b.openBuiltinKnowledgeBase(${JSON.stringify(cache)})).records()).length))`,
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  ).trim();
  assert.equal(out, '320');
});

const source = path.join(
  fileURLToPath(SHARED),
  'medmnist-finetune-strategies',
  'all_datasets_summary.csv',
);
test(
  'the committed aggregate table is what scripts/build-starter-kb.ts derives from the study',
  { skip: existsSync(source) ? false : `${source} is absent` },
  async () => {
    const { csv, rows } = await buildAggregateTable(source);
    assert.equal(rows, 320);
    assert.equal(csv, readFileSync(TABLE, 'utf8'));
  },
);
