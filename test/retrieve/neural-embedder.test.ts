import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode, MetallmixError } from '../../src/core/index.ts';
import { NeuralEmbedder, defaultModelDir, openRetriever } from '../../src/retrieve/index.ts';
import { INSIGHTS, PNEUMONIA_QUERY, PROFILES, syntheticRecords } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'metallmix-retrieve-neural-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The real model when its optional packages load; otherwise the reason to skip. */
async function loadOrSkipReason(): Promise<NeuralEmbedder | string> {
  try {
    return await NeuralEmbedder.load();
  } catch (err) {
    return `neural embedder unavailable: ${(err as Error).message}`;
  }
}
const loaded = await loadOrSkipReason();
const skip = typeof loaded === 'string' ? loaded : false;

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

test('the local Universal Sentence Encoder embeds by meaning', { skip }, async () => {
  const e = loaded as NeuralEmbedder;
  assert.equal(e.dim, 512);
  assert.match(e.id, /^neural:use\/[0-9a-f]{12}$/);
  const [xray, lung, cat] = await e.embed([
    'chest x-ray pneumonia',
    'lung radiograph infection',
    'a photo of a cat',
  ]);
  assert.ok(dot(xray, lung) > dot(xray, cat) + 0.2, `${dot(xray, lung)} vs ${dot(xray, cat)}`);
  assert.ok(Math.abs(dot(xray, xray) - 1) < 1e-4);
  const { retriever } = await openRetriever({
    profiles: PROFILES,
    records: syntheticRecords(PROFILES, 10),
    insights: INSIGHTS,
    metric: 'accuracy',
    kbVersion: 'v1',
    embedder: e,
  });
  const hits = await retriever.retrieve(PNEUMONIA_QUERY, { k: 1, kinds: ['dataset'] });
  assert.equal(hits[0].id, 'dataset:chest-xray-small');
});

test('a model directory without the model files names the path and the files', async (t) => {
  const empty = join(dir, 'empty-model');
  await assert.rejects(
    NeuralEmbedder.load({ modelDir: empty }),
    (e: unknown) =>
      e instanceof MetallmixError &&
      e.exitCode === ExitCode.unavailable &&
      e.message ===
        `${empty}: model directory lacks model.json, vocab.json (looked for model.json, vocab.json)`,
  );
  let packageDir: string;
  try {
    packageDir = defaultModelDir();
  } catch (err) {
    return t.skip(`shard check needs the model package: ${(err as Error).message}`);
  }
  // With a manifest present, the weight shards it lists are looked for too.
  const partial = mkdtempSync(join(dir, 'partial-'));
  copyFileSync(join(packageDir, 'model.json'), join(partial, 'model.json'));
  const manifest = JSON.parse(readFileSync(join(partial, 'model.json'), 'utf8'));
  const shards = (manifest.weightsManifest as { paths: string[] }[]).flatMap((g) => g.paths);
  await assert.rejects(
    NeuralEmbedder.load({ modelDir: partial }),
    (e: unknown) =>
      e instanceof MetallmixError && e.message.includes(`lacks vocab.json, ${shards.join(', ')}`),
  );
});
