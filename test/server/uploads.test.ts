// Uploads over HTTP against a real server: an image folder as a zip or a tar.gz, a manifest with
// the archive of its images, past runs with their mapping, and what is refused (entries outside
// the archive, bodies and archives over the limits), with the upload's own names in the errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { zipSync } from 'fflate';
import * as tar from 'tar';
import { profileImageFolder } from '../../src/profile/index.ts';
import { png } from '../profile/images.ts';
import { getJson, postForm, testServer, type TestServer } from './helpers.ts';

const file = (bytes: Uint8Array | string, name: string) => new File([bytes], name);

/** An ImageFolder `cells/` with three classes of small PNGs, as files and as archive entries. */
function folder(): Record<string, Uint8Array> {
  const entries: Record<string, Uint8Array> = {};
  const sizes = { healthy: 6, infected: 4, unclear: 2 };
  for (const [label, n] of Object.entries(sizes))
    for (let i = 0; i < n; i++) entries[`cells/${label}/${i}.png`] = png(32 + i, 24, 0);
  return entries;
}

describe('uploads', () => {
  let server: TestServer;
  let work: string;
  before(async () => {
    server = await testServer({ maxUploadBytes: 256 * 1024 });
    work = mkdtempSync(path.join(tmpdir(), 'metallmix-upload-test-'));
    for (const [name, bytes] of Object.entries(folder())) {
      mkdirSync(path.dirname(path.join(work, name)), { recursive: true });
      writeFileSync(path.join(work, name), bytes);
    }
  });
  after(async () => {
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('a zip of an image folder profiles as the folder does', async () => {
    const form = new FormData();
    form.set('archive', file(zipSync(folder()), 'cells.zip'));
    form.set('modality', 'microscopy');
    const res = await postForm(`${server.url}/v1/profile`, form);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const direct = await profileImageFolder(path.join(work, 'cells'), { modality: 'microscopy' });
    assert.deepEqual(res.body.profile, direct.profile);
    assert.equal(res.body.profile.name, 'cells');
    assert.equal(res.body.counts.images, 12);
  });

  test('a tar.gz of the same folder gives the same profile', async () => {
    const archive = path.join(work, 'cells.tar.gz');
    await tar.c({ gzip: true, cwd: work, file: archive }, ['cells']);
    const form = new FormData();
    form.set('archive', file(readFileSync(archive), 'cells.tar.gz'));
    const res = await postForm(`${server.url}/v1/profile`, form);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.profile.numInstances, 12);
    assert.deepEqual(res.body.profile.classCounts, { healthy: 6, infected: 4, unclear: 2 });
  });

  test('a manifest with the archive of its images gets a recommendation', async () => {
    const manifest = [
      'path,label,split',
      ...Object.keys(folder()).map(
        (p, i) => `${p.replace(/^cells\//, '')},${p.split('/')[1]},${i % 3 ? 'train' : 'test'}`,
      ),
    ].join('\n');
    const form = new FormData();
    form.set('manifest', file(manifest, 'labels.csv'));
    form.set('archive', file(zipSync(folder()), 'cells.zip'));
    form.set('options', JSON.stringify({ objective: 'fastest', topK: 2, modality: 'microscopy' }));
    const res = await postForm(`${server.url}/v1/recommend`, form);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.profile.name, 'labels');
    assert.equal(res.body.profile.numInstances, 12);
    assert.equal(res.body.profile.modality, 'microscopy');
    assert.equal(res.body.objective, 'fastest');
    assert.equal(res.body.topK.length, 2);
  });

  test('a bad value in the options of an upload is a 400 naming options.FIELD', async () => {
    const form = new FormData();
    form.set('archive', file(zipSync(folder()), 'cells.zip'));
    form.set('options', JSON.stringify({ topK: 'five' }));
    const res = await postForm(`${server.url}/v1/recommend`, form);
    assert.equal(res.status, 400);
    assert.equal(res.body.error.field, 'options.topK');
  });

  test('a manifest with a bad row is a 400 naming the upload, the line and the column', async () => {
    const form = new FormData();
    form.set('manifest', file('path,label\n0.png,\n', 'labels.csv'));
    form.set('archive', file(zipSync(folder()), 'cells.zip'));
    const res = await postForm(`${server.url}/v1/profile`, form);
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /^labels\.csv:2 column "label": empty label/);
    assert.ok(!res.body.error.message.includes(tmpdir()), res.body.error.message);
  });

  test('an archive entry outside the archive is refused, and nothing is written', async () => {
    const form = new FormData();
    form.set('archive', file(zipSync({ ...folder(), '../escape.png': png(8, 8) }), 'evil.zip'));
    const res = await postForm(`${server.url}/v1/profile`, form);
    assert.equal(res.status, 400);
    assert.equal(res.body.error.field, 'archive');
    assert.match(res.body.error.message, /"\.\.\/escape\.png" points outside the archive/);
  });

  test('413 for an upload over the limit and for an archive that unpacks past it', async () => {
    const big = new FormData();
    big.set('archive', file(new Uint8Array(300 * 1024), 'big.zip'));
    const res = await postForm(`${server.url}/v1/profile`, big);
    assert.equal(res.status, 413);
    assert.match(res.body.error.message, /larger than 256 KiB/);
    // 2 MiB of zeros deflate to a few KiB, past the 1 MiB this server unpacks.
    const bomb = new FormData();
    bomb.set(
      'archive',
      file(zipSync({ 'cells/a/zeros.bin': new Uint8Array(2 ** 21) }), 'zeros.zip'),
    );
    const unpacked = await postForm(`${server.url}/v1/profile`, bomb);
    assert.equal(unpacked.status, 413);
    assert.match(
      unpacked.body.error.message,
      /^zeros\.zip: the archive unpacks to more than 1 MiB/,
    );
  });

  test('a profile upload without a dataset names the field', async () => {
    const res = await postForm(`${server.url}/v1/profile`, new FormData());
    assert.equal(res.status, 400);
    assert.equal(res.body.error.field, 'archive');
  });
});

describe('import over HTTP', () => {
  test("past runs and their mapping go into the server's knowledge base", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'metallmix-import-test-'));
    const kb = path.join(dir, 'runs.sqlite');
    const server = await testServer({ kb });
    try {
      const digits = (name: string) =>
        file(readFileSync(new URL(`../../examples/digits/${name}`, import.meta.url)), name);
      const form = new FormData();
      form.set('files', digits('runs.csv'));
      form.set('mapping', digits('mapping.json'));
      form.append('attachments', digits('profiles.json'));
      form.append('attachments', digits('models.json'));
      const res = await postForm(`${server.url}/v1/import`, form);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.defaultedKnowledgeBase, false);
      const stats = await getJson(`${server.url}/v1/kb`);
      assert.equal(stats.records, 200);
      assert.equal(stats.datasets, 10);
      const again = await postForm(`${server.url}/v1/import`, form);
      assert.equal(again.status, 200);
      assert.equal((await getJson(`${server.url}/v1/kb`)).records, 200, 'a re-import adds nothing');
      const noMapping = new FormData();
      noMapping.set('files', digits('runs.csv'));
      const bad = await postForm(`${server.url}/v1/import`, noMapping);
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.field, 'mapping');
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
