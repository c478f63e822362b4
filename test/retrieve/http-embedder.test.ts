import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExitCode, MetallmixError } from '../../src/core/index.ts';
import { HttpEmbedder, openRetriever } from '../../src/retrieve/index.ts';
import { hash32 } from '../../src/retrieve/text-hashing.ts';
import { INSIGHTS, PNEUMONIA_QUERY, PROFILES, syntheticRecords } from './fixtures.ts';

// A real /embeddings server on 127.0.0.1: deterministic 16-dim vectors from the words of each
// input, returned in reverse order with their indexes (as servers may), unnormalized.
const DIM = 16;
const requests: {
  path: string;
  auth?: string;
  body: { model: string; input: string[]; encoding_format?: string };
}[] = [];
let mode: 'ok' | 'error' | 'garbage' | 'short' | 'hang' = 'ok';
let server: Server;
let baseUrl: string;

function vectorOf(text: string): number[] {
  const v = new Array(DIM).fill(0);
  for (const w of text.toLowerCase().split(/\W+/).filter(Boolean)) v[hash32(w) % DIM] += 3;
  return v;
}

async function readBody(req: IncomingMessage): Promise<string> {
  let s = '';
  for await (const chunk of req) s += chunk;
  return s;
}

before(async () => {
  server = createServer(async (req, res) => {
    const body = JSON.parse(await readBody(req));
    requests.push({ path: req.url!, auth: req.headers.authorization, body });
    if (mode === 'hang') return; // never answers
    if (mode === 'error') return void res.writeHead(500).end('model not loaded');
    res.writeHead(200, { 'content-type': 'application/json' });
    if (mode === 'garbage') return void res.end('{"data": [{"embedding": "nope"}]}');
    const inputs: string[] = body.input;
    const data = inputs.map((t, index) => ({
      object: 'embedding',
      index,
      embedding: mode === 'short' ? [1] : vectorOf(t),
    }));
    res.end(JSON.stringify({ object: 'list', model: body.model, data: data.reverse() }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
});
after(() => server.closeAllConnections() ?? server.close());

test('speaks the /embeddings protocol: model, input, batches, order, unit vectors', async () => {
  mode = 'ok';
  requests.length = 0;
  const e = await HttpEmbedder.connect({
    baseUrl,
    model: 'nomic-embed-text',
    apiKey: 'sk-test',
    batchSize: 2,
  });
  assert.equal(e.dim, DIM);
  assert.equal(e.id, `http:${baseUrl.replace(/\/$/, '')}/embeddings#nomic-embed-text`);
  const texts = ['chest x-ray', 'skin lesion', 'chest x-ray', 'natural images', 'x-ray'];
  const vectors = await e.embed(texts);
  assert.equal(requests.length, 1 + 3, 'one probe, then batches of 2');
  for (const r of requests) {
    assert.equal(r.path, '/v1/embeddings');
    assert.equal(r.auth, 'Bearer sk-test');
    assert.equal(r.body.model, 'nomic-embed-text');
    assert.equal(r.body.encoding_format, 'float');
  }
  assert.deepEqual(
    requests.slice(1).flatMap((r) => r.body.input),
    texts,
  );
  assert.deepEqual(vectors[0], vectors[2], 'reordered by index');
  for (const v of vectors) assert.ok(Math.abs(v.reduce((s, x) => s + x * x, 0) - 1) < 1e-5);
});

test('an HTTP embedder drives retrieval end to end', async () => {
  mode = 'ok';
  const embedder = await HttpEmbedder.connect({ baseUrl, model: 'm' });
  const records = syntheticRecords(PROFILES, 10);
  const { retriever } = await openRetriever({
    profiles: PROFILES,
    records,
    insights: INSIGHTS,
    metric: 'accuracy',
    kbVersion: 'v1',
    embedder,
  });
  const hits = await retriever.retrieve(PNEUMONIA_QUERY, { k: 2 });
  assert.equal(hits.filter((h) => h.kind === 'dataset').length, 2);
  assert.ok(hits.every((h) => Number.isFinite(h.similarity) && h.text.length > 0));
});

function isUnavailable(pattern: RegExp) {
  return (e: unknown) =>
    e instanceof MetallmixError && e.exitCode === ExitCode.unavailable && pattern.test(e.message);
}

test('unreachable endpoint: MetallmixError (unavailable) naming the URL', async () => {
  // A port that was just free: listen on an ephemeral port, then close it.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const url = `http://127.0.0.1:${port}/v1/embeddings`;
  await assert.rejects(
    HttpEmbedder.connect({ baseUrl: `http://127.0.0.1:${port}/v1`, model: 'm' }),
    (e: unknown) =>
      isUnavailable(/unreachable \(ECONNREFUSED\)/)(e) &&
      (e as Error).message.startsWith(`embedding endpoint ${url} (model m): `),
  );
});

test('server errors, malformed answers and timeouts name the URL and the reason', async () => {
  mode = 'error';
  await assert.rejects(
    HttpEmbedder.connect({ baseUrl, model: 'm', apiKey: 'sk-secret' }),
    (e: unknown) =>
      isUnavailable(/\/v1\/embeddings \(model m\): HTTP 500: model not loaded/)(e) &&
      !(e as Error).message.includes('sk-secret'),
  );
  mode = 'garbage';
  await assert.rejects(
    HttpEmbedder.connect({ baseUrl, model: 'm' }),
    isUnavailable(/field "data\[0\]\.embedding" is not a list of numbers/),
  );
  mode = 'ok';
  const e = await HttpEmbedder.connect({ baseUrl, model: 'm' });
  mode = 'short';
  await assert.rejects(
    e.embed(['a']),
    isUnavailable(/returned 1 dimensions for text 0, earlier 16/),
  );
  mode = 'hang';
  await assert.rejects(
    HttpEmbedder.connect({ baseUrl, model: 'm', timeoutMs: 200 }),
    isUnavailable(/no answer within 200 ms/),
  );
});
