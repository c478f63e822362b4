// Which backend a locator opens, and which knowledge base a command reads and writes by default.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MetallmixError } from '../../src/core/index.ts';
import {
  BUILTIN_LABEL,
  USER_AND_BUILTIN,
  openKnowledgeBase,
  readLocator,
  writeLocator,
} from '../../src/store/index.ts';
import { tempDir } from './helpers.ts';

const RECORD = {
  dataset: 'derma',
  model: 'vit',
  config: {},
  metrics: { accuracy: 0.5 },
  cost: {},
  status: 'finished' as const,
  provenance: { source: 'x.csv', runId: 'r1' },
};

test('a file path and its file:// URL open the same SQLite knowledge base', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'kb.sqlite');
  const byUrl = await openKnowledgeBase(pathToFileURL(file).href, { mode: 'write' });
  t.after(() => byUrl.close());
  assert.equal(byUrl.backend, 'sqlite');
  assert.equal(byUrl.label, file);
  await byUrl.importBatch({ records: [RECORD] });
  assert.deepEqual(
    readdirSync(dir).filter((f) => !f.includes('-')),
    ['kb.sqlite'],
  );
  const byPath = await openKnowledgeBase(file, { mode: 'read' });
  t.after(() => byPath.close());
  assert.equal(await byPath.version(), await byUrl.version());
  assert.equal((await byPath.records()).length, 1);
});

test('a file:// URL is decoded: %20 and %23 name a space and a #', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'my runs', 'kb #1.sqlite');
  const kb = await openKnowledgeBase(pathToFileURL(file).href, { mode: 'write' });
  t.after(() => kb.close());
  assert.equal(kb.label, file);
  assert.ok(existsSync(file), `${file} was created`);
});

test('other URL schemes and empty locators are refused, naming the scheme, not the password', async () => {
  for (const mode of ['read', 'write'] as const) {
    await assert.rejects(
      openKnowledgeBase('mysql://alice:s3cret@db.example.org/kb', { mode }),
      (e: unknown) =>
        e instanceof MetallmixError &&
        e.location.field === 'kb' &&
        /no knowledge-base backend for "mysql:\/\/" locators/.test(e.message) &&
        /builtin, layered, sqlite, postgresql/.test(e.message) &&
        !e.message.includes('s3cret'),
    );
    for (const empty of ['', '  '])
      await assert.rejects(
        openKnowledgeBase(empty, { mode }),
        (e: unknown) => e instanceof MetallmixError && /locator is empty/.test(e.message),
      );
  }
});

test('builtin and builtin:medmnist open the read-only starter from the cache in the environment', async (t) => {
  const cache = tempDir(t);
  const env = { METALLMIX_CACHE: cache };
  let version: string | undefined;
  for (const locator of ['builtin', BUILTIN_LABEL]) {
    const kb = await openKnowledgeBase(locator, { mode: 'read', env });
    t.after(() => kb.close());
    assert.deepEqual([kb.label, kb.backend, kb.writable], [BUILTIN_LABEL, 'builtin', false]);
    assert.deepEqual(kb.indexLocation, {
      kind: 'file',
      path: path.join(cache, 'builtin-medmnist.vectors'),
    });
    version ??= await kb.version();
    assert.equal(await kb.version(), version);
    await assert.rejects(
      openKnowledgeBase(locator, { mode: 'write', env }),
      (e: unknown) =>
        e instanceof MetallmixError && e.location.field === 'kb' && /read-only/.test(e.message),
    );
  }
  assert.equal(readdirSync(cache).filter((f) => /^builtin-[0-9a-f]+\.sqlite$/.test(f)).length, 1);
});

test("reads use the given locator, else METALLMIX_KB, else the user's own over the built-in one", () => {
  assert.equal(readLocator('a.sqlite', { METALLMIX_KB: 'b.sqlite' }), 'a.sqlite');
  assert.equal(readLocator(undefined, { METALLMIX_KB: 'b.sqlite' }), 'b.sqlite');
  assert.equal(readLocator('', { METALLMIX_KB: 'b.sqlite' }), 'b.sqlite');
  assert.equal(readLocator(undefined, { METALLMIX_KB: '' }), USER_AND_BUILTIN);
  assert.equal(readLocator(undefined, {}), USER_AND_BUILTIN);
  // --no-builtin: the user's own alone; a named knowledge base is read as named either way.
  assert.equal(
    readLocator(undefined, { METALLMIX_DATA: '/data/mm' }, { builtin: false }),
    '/data/mm/kb.sqlite',
  );
  assert.equal(readLocator('a.sqlite', {}, { builtin: false }), 'a.sqlite');
});

test("writes use the given locator, else METALLMIX_KB, else the user's own, saying it defaulted", () => {
  const env = {
    HOME: '/home/u',
    METALLMIX_DATA: '/data/mm',
    XDG_DATA_HOME: '/xdg',
    METALLMIX_KB: 'b.sqlite',
  };
  assert.deepEqual(writeLocator('a.sqlite', env), { locator: 'a.sqlite', defaulted: false });
  assert.deepEqual(writeLocator(undefined, env), { locator: 'b.sqlite', defaulted: false });
  const { METALLMIX_KB: _kb, ...noKb } = env;
  assert.deepEqual(writeLocator('', noKb), { locator: '/data/mm/kb.sqlite', defaulted: true });
  const { METALLMIX_DATA: _data, ...xdg } = noKb;
  assert.deepEqual(writeLocator(undefined, xdg), {
    locator: '/xdg/metallmix/kb.sqlite',
    defaulted: true,
  });
  assert.deepEqual(writeLocator(undefined, { HOME: '/home/u', XDG_DATA_HOME: '' }), {
    locator: '/home/u/.local/share/metallmix/kb.sqlite',
    defaulted: true,
  });
});
