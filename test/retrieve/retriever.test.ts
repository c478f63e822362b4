import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EvidenceRef } from '../../src/core/index.ts';
import {
  MetaTextEmbedder,
  buildDocuments,
  openRetriever,
  profileMeta,
  toEvidenceRef,
} from '../../src/retrieve/index.ts';
import { INSIGHTS, PNEUMONIA_QUERY, PROFILES, syntheticRecords } from './fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'metallmix-retrieve-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const records = syntheticRecords(PROFILES, 30);
const kb = { profiles: PROFILES, records, insights: INSIGHTS, metric: 'accuracy', kbVersion: 'v1' };

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

test('hashed TF-IDF: similar texts score higher than unrelated ones', async () => {
  const corpus = [
    'chest x-ray pneumonia detection with resnet50 and a low learning rate',
    'pneumonia chest x-ray classification, densenet121 fine-tuned',
    'skin lesion dermoscopy images, melanoma versus nevus',
    'natural images of cats, dogs and cars at low resolution',
    'histopathology patches of lymph node tissue, tumor versus normal',
  ];
  const e = MetaTextEmbedder.fit({ profiles: PROFILES, texts: corpus });
  const [a, b, c, d] = await e.embed(corpus.slice(0, 4));
  assert.ok(dot(a, b) > 0.15, `similar: ${dot(a, b)}`);
  assert.ok(dot(a, b) > dot(a, c) + 0.15, `${dot(a, b)} vs ${dot(a, c)}`);
  assert.ok(dot(a, b) > dot(a, d) + 0.15, `${dot(a, b)} vs ${dot(a, d)}`);
  for (const v of [a, b, c, d]) assert.ok(Math.abs(dot(v, v) - 1) < 1e-5, 'unit length');
  assert.deepEqual((await e.embed([corpus[0]]))[0], a, 'deterministic');
});

test('default embedder: meta part follows the profile, id follows the knowledge base', async () => {
  const texts = buildDocuments({ ...kb }).map((d) => d.text);
  const e = MetaTextEmbedder.fit({ profiles: PROFILES, texts });
  assert.equal(MetaTextEmbedder.fit({ profiles: PROFILES, texts }).id, e.id);
  assert.notEqual(MetaTextEmbedder.fit({ profiles: PROFILES.slice(1), texts }).id, e.id);
  assert.notEqual(MetaTextEmbedder.fit({ profiles: PROFILES, texts: texts.slice(1) }).id, e.id);
  const [xray, q, natural] = await e.embed(
    ['', '', ''],
    [profileMeta(PROFILES[0]), profileMeta(PNEUMONIA_QUERY), profileMeta(PROFILES[1])],
  );
  assert.ok(dot(q, xray) > 0.8, `query vs small chest x-ray: ${dot(q, xray)}`);
  assert.ok(dot(q, natural) < 0.2, `query vs large natural: ${dot(q, natural)}`);
});

test('the nearest dataset to a pneumonia-like profile is the small chest X-ray set', async () => {
  const { retriever, rebuilt } = await openRetriever({ ...kb, cachePath: join(dir, 'kb.vectors') });
  assert.equal(rebuilt, true);
  const hits = await retriever.retrieve(PNEUMONIA_QUERY, { k: 3 });
  const datasets = hits.filter((h) => h.kind === 'dataset');
  const runs = hits.filter((h) => h.kind === 'run');
  assert.equal(datasets[0].id, 'dataset:chest-xray-small');
  assert.ok(
    datasets.every((h) => h.id !== 'dataset:natural-large'),
    JSON.stringify(datasets.map((h) => h.id)),
  );
  assert.ok(datasets[0].similarity > datasets[1].similarity);
  assert.equal(runs.length, 3);
  const near = new Set(datasets.map((h) => h.dataset));
  assert.ok(
    runs.every((h) => near.has(h.dataset)),
    'runs come from the datasets shown',
  );
  assert.equal(runs[0].dataset, 'chest-xray-small');
  assert.ok(runs[0].model && runs[0].config && runs[0].outcome?.value);
  for (const h of hits) assert.ok(EvidenceRef.safeParse(toEvidenceRef(h)).success);
});

test('kinds, filters and excluded datasets; a second open loads the saved index', async () => {
  const { retriever, rebuilt } = await openRetriever({ ...kb, cachePath: join(dir, 'kb.vectors') });
  assert.equal(rebuilt, false);
  const insights = await retriever.retrieve(PNEUMONIA_QUERY, { k: 2, kinds: ['insight'] });
  assert.deepEqual(
    insights.map((h) => h.kind),
    ['insight', 'insight'],
  );
  assert.equal(insights[0].id, 'insight:lr-low', 'the X-ray insight matches an X-ray profile best');
  const natural = await retriever.retrieve(PNEUMONIA_QUERY, {
    k: 10,
    filter: { modality: 'natural' },
  });
  assert.ok(natural.length > 0 && natural.every((h) => h.dataset?.startsWith('natural-')));
  const heldOut = await retriever.retrieve(PNEUMONIA_QUERY, {
    k: 10,
    kinds: ['dataset', 'run', 'insight'],
    filter: { excludeDatasets: ['chest-xray-small'] },
  });
  assert.ok(heldOut.every((h) => h.dataset !== 'chest-xray-small'));
  assert.ok(
    heldOut.some((h) => h.kind === 'insight'),
    'insights are not filtered by dataset',
  );
  const vit = await retriever.retrieve(PNEUMONIA_QUERY, {
    k: 2,
    kinds: ['run'],
    filter: { model: 'vit_small' },
  });
  assert.ok(vit.length === 2 && vit.every((h) => h.model === 'vit_small'));
  const other = await openRetriever({ ...kb, metric: 'loss', cachePath: join(dir, 'kb.vectors') });
  assert.equal(other.rebuilt, true, 'another metric rebuilds the documents');
  assert.match(other.notices[0], /documents built for \{"metric":"accuracy"/);
  const text = await retriever.retrieveText('dermoscopy skin lesions melanoma', {
    k: 1,
    kinds: ['dataset'],
  });
  assert.equal(text[0].id, 'dataset:skin-lesions');
});
