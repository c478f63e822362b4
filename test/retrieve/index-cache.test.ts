import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MetaTextEmbedder,
  buildDocuments,
  indexPathFor,
  openOrBuildIndex,
  type Embedder,
  type EvidenceDocument,
} from '../../src/retrieve/index.ts';
import { INSIGHTS, PROFILES, syntheticRecords } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'metallmix-retrieve-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const docs = buildDocuments({
  profiles: PROFILES,
  records: syntheticRecords(PROFILES, 30),
  insights: INSIGHTS,
  metric: 'accuracy',
});
const embedder = MetaTextEmbedder.fit({ profiles: PROFILES, texts: docs.map((d) => d.text) });

/** Opens the index of `docs` at `cachePath`, version v1; `options` change what differs. */
const open = (
  cachePath: string | undefined,
  options: Partial<Parameters<typeof openOrBuildIndex>[0]> = {},
) => openOrBuildIndex({ cachePath, kbVersion: 'v1', embedder, documents: () => docs, ...options });

/** Counts how often the documents are asked for: a fresh index must not ask. */
function counted(): { calls: number; documents: () => EvidenceDocument[] } {
  const c = { calls: 0, documents: () => (c.calls++, docs) };
  return c;
}

test('builds once, then loads the saved index without rebuilding', async () => {
  const cachePath = indexPathFor(join(dir, 'kb.sqlite'));
  assert.equal(cachePath, join(dir, 'kb.sqlite.vectors'));
  const first = counted();
  const a = await open(cachePath, { documents: first.documents });
  assert.equal(a.rebuilt, true);
  assert.equal(first.calls, 1);
  assert.match(a.notices[0], /no index file yet/);
  const second = counted();
  const b = await open(cachePath, { documents: second.documents });
  assert.equal(b.rebuilt, false);
  assert.equal(second.calls, 0);
  assert.deepEqual(b.notices, []);
  assert.deepEqual(b.documents, docs);
  const [q] = await embedder.embed([docs[0].text], [docs[0].meta]);
  assert.deepEqual(await b.index.search(q, 5), await a.index.search(q, 5));
  assert.equal((await b.index.search(q, 1))[0].id, docs[0].id);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
  );
});

test('a new knowledge-base version or embedder id triggers a rebuild', async () => {
  const cachePath = join(dir, 'stale.vectors');
  await open(cachePath);
  const newVersion = await open(cachePath, { kbVersion: 'v2' });
  assert.equal(newVersion.rebuilt, true);
  assert.match(newVersion.notices[0], /built for knowledge base version v1, now v2/);
  const other = MetaTextEmbedder.fit(
    { profiles: PROFILES, texts: docs.map((d) => d.text) },
    { textDim: 128 },
  );
  assert.notEqual(other.id, embedder.id);
  const newEmbedder = await open(cachePath, { kbVersion: 'v2', embedder: other });
  assert.equal(newEmbedder.rebuilt, true);
  assert.match(newEmbedder.notices[0], /built with embedder metatext-v1\/t512/);
  assert.equal(newEmbedder.index.dim, other.dim);
  const again = await open(cachePath, { kbVersion: 'v2', embedder: other });
  assert.equal(again.rebuilt, false);
});

test('a corrupt or truncated file is rebuilt, never an error', async () => {
  const cachePath = join(dir, 'corrupt.vectors');
  await open(cachePath);
  const bytes = readFileSync(cachePath);
  for (const content of [
    Buffer.from('garbage'),
    bytes.subarray(0, bytes.length / 2),
    Buffer.alloc(0),
  ]) {
    writeFileSync(cachePath, content);
    const opened = await open(cachePath);
    assert.equal(opened.rebuilt, true);
    assert.match(opened.notices[0], /not a valid vector index/);
    assert.equal(opened.index.size, docs.length);
  }
  const healed = await open(cachePath);
  assert.equal(healed.rebuilt, false, 'the rebuilt file was saved');
});

test('an unwritable cache path leaves a notice and a working index', async () => {
  const cachePath = join(dir, 'no-such-dir', 'kb.vectors');
  const opened = await open(cachePath);
  assert.equal(opened.rebuilt, true);
  assert.match(
    opened.notices[1],
    /could not save vector index .*no-such-dir.*rebuilt on every run/,
  );
  assert.equal(opened.index.size, docs.length);
});

test('an embedder that returns wrong dimensions is caught', async () => {
  const broken: Embedder = {
    id: 'broken',
    dim: 4,
    embed: async (t) => t.map(() => new Float32Array(3)),
  };
  await assert.rejects(open(undefined, { embedder: broken }), /has 3 dims, the index 4/);
});
