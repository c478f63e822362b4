// The HTTP API against a real server on 127.0.0.1: the same answers as the library, errors that
// name the field and the reason, 413 and 429, a bench job with server-sent progress while the
// server keeps answering, the generated OpenAPI document, auth and the access log.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  BenchParams,
  RecommendRequest,
  bench,
  recommend,
  type Recommendation,
} from '../../src/index.ts';
import { startServer } from '../../src/server/server.ts';
import { getJson, postJson, readEvents, testServer, type TestServer } from './helpers.ts';

const EXAMPLE = JSON.parse(
  readFileSync(new URL('../../examples/chest-xray-small.json', import.meta.url), 'utf8'),
);

/** What may differ between two answers to the same request: timings and cache use. */
function comparable(rec: Recommendation) {
  const { timingsMs: _t, counters: _c, ...rest } = rec;
  return rest;
}

describe('the HTTP API', () => {
  let server: TestServer;
  before(async () => {
    server = await testServer({ maxJsonBytes: 64 * 1024, maxJobs: 1 });
  });
  after(async () => {
    await server?.stop();
  });

  test('health answers', async () => {
    const res = await fetch(`${server.url}/v1/health`);
    assert.equal(res.status, 200);
    const body: any = await res.json();
    assert.equal(body.status, 'ok');
    assert.equal(body.jobsRunning, 0);
  });

  test('POST /v1/recommend answers what the library answers for the same request', async () => {
    const request = { objective: 'balanced' as const, budgetMinutes: 3, topK: 4, seed: 1 };
    const first = await postJson(`${server.url}/v1/recommend`, { profile: EXAMPLE, ...request });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    // The first answer also says that it built the retrieval index; the second is as any later one.
    const res = await postJson(`${server.url}/v1/recommend`, { profile: EXAMPLE, ...request });
    const direct = await recommend({ dataset: { profile: EXAMPLE }, env: server.env, ...request });
    assert.deepEqual(comparable(res.body), comparable(direct));
    assert.equal(res.body.topK.length, 4);
    assert.equal(res.body.budgetMinutes, 3);
  });

  test('a budget no candidate meets is data in a 200, as in recommend --json', async () => {
    const res = await postJson(`${server.url}/v1/recommend`, {
      profile: EXAMPLE,
      budgetMinutes: 0.001,
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.unmet[0].constraint, 'budget');
    assert.equal(res.body.budgetPick, null);
  });

  test('a 400 names the field and the reason, like the CLI', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ profile: EXAMPLE, topK: 0 }, 'topK', /too small/i],
      [{ profile: { ...EXAMPLE, numInstances: -3 } }, 'profile.numInstances', /too small/i],
      [{ profile: { ...EXAMPLE, modality: 'radar' } }, 'profile.modality', /xray/],
      [{ profile: EXAMPLE, objective: 'cheapest' }, 'objective', /balanced/],
      [{ profile: EXAMPLE, topk: 3 }, 'topk', /unrecognized key: "topk"/i],
      [{ objective: 'best' }, 'profile', /expected object/i],
    ];
    for (const [body, field, reason] of cases) {
      const res = await postJson(`${server.url}/v1/recommend`, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.field, field);
      assert.match(res.body.error.reason, reason);
      assert.ok(res.body.error.message.startsWith(`field "${field}": `), res.body.error.message);
    }
    const query = await fetch(`${server.url}/v1/kb/records?datset=bloodmnist`);
    assert.equal(query.status, 400);
    assert.equal(((await query.json()) as { error: { field: string } }).error.field, 'datset');
    const notJson = await postJson(`${server.url}/v1/recommend`, '{"profile": ');
    assert.equal(notJson.status, 400);
    assert.match(notJson.body.error.message, /not valid JSON/);
  });

  test('a library error (unknown model) is a 400 naming its field', async () => {
    const res = await postJson(`${server.url}/v1/recommend`, {
      profile: EXAMPLE,
      models: ['no-such-model'],
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.field, 'models');
    assert.match(res.body.error.message, /no-such-model/);
  });

  test('a known path asked with another method is a 405 with Allow; an unknown path a 404', async () => {
    const get = await fetch(`${server.url}/v1/recommend`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    assert.match(
      ((await get.json()) as { error: { message: string } }).error.message,
      /GET is not a method of \/v1\/recommend: use POST/,
    );
    const job = await fetch(`${server.url}/v1/jobs/job-1`, { method: 'PUT' });
    assert.equal(job.status, 405);
    assert.equal(job.headers.get('allow'), 'GET, DELETE');
    assert.equal(
      (await fetch(`${server.url}/v1/recommend`, { method: 'POST', body: '{}' })).status,
      400,
    );
    assert.equal((await fetch(`${server.url}/v1/nothing`)).status, 404);
  });

  test('413 for a body over the limit', async () => {
    const big = { profile: { ...EXAMPLE, source: 'x'.repeat(100 * 1024) } };
    const res = await postJson(`${server.url}/v1/recommend`, big);
    assert.equal(res.status, 413);
    assert.match(res.body.error.message, /larger than 64 KiB/);
  });

  test('records are filtered and paged', async () => {
    const page = await getJson(`${server.url}/v1/kb/records?dataset=bloodmnist&offset=30&limit=5`);
    assert.equal(page.total, 32);
    assert.equal(page.records.length, 2);
    assert.ok(page.records.every((r: { dataset: string }) => r.dataset === 'bloodmnist'));
    const bad = await fetch(`${server.url}/v1/kb/records?limit=0`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as any).error.field, 'limit');
    const kb = await getJson(`${server.url}/v1/kb`);
    assert.equal(kb.records, 320);
    assert.equal(kb.counts.length, 40);
    assert.deepEqual(
      kb.space.parameters.map((p: { name: string }) => p.name),
      ['strategy', 'unfreeze_pct', 'direction'],
    );
  });

  test('export hands back the files of recommend --export', async () => {
    const rec = await postJson(`${server.url}/v1/recommend`, { profile: EXAMPLE });
    const res = await postJson(`${server.url}/v1/export`, {
      recommendation: rec.body,
      format: 'optuna',
      name: 'first.py',
    });
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.files.map((f: { name: string }) => f.name),
      ['first.py'],
    );
    assert.match(res.body.files[0].content, /enqueue_trial/);
    // A format of two files names the second from the first, as the CLI does.
    const two = await postJson(`${server.url}/v1/export`, {
      recommendation: rec.body,
      format: 'configspace',
    });
    assert.equal(two.status, 200);
    assert.deepEqual(
      two.body.files.map((f: { name: string }) => f.name),
      ['metallmix-configspace.json', 'metallmix-configspace.initial-design.json'],
    );
  });

  test('a bench job reports progress as events, ends with the library bench report, and 429s a second one', async () => {
    const params = {
      methods: ['random', 'single-best'],
      datasets: ['bloodmnist', 'breastmnist'],
      seeds: 2,
    };
    const start = await postJson(`${server.url}/v1/bench`, params);
    assert.equal(start.status, 202);
    assert.equal(start.headers.get('location'), `/v1/jobs/${start.body.id}`);
    const second = await postJson(`${server.url}/v1/bench`, params);
    assert.equal(second.status, 429);
    assert.ok(Number(second.headers.get('retry-after')) > 0);
    // The event loop is free while the bench runs on its worker thread.
    const health = await fetch(`${server.url}/v1/health`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as any).jobsRunning, 1);
    const events = await readEvents(`${server.url}/v1/jobs/${start.body.id}/events`);
    const last = events.at(-1)!;
    assert.equal(last.event, 'end');
    assert.equal(last.data.status, 'succeeded');
    const progress = events.filter((e) => e.event === 'progress' && e.data.progress);
    assert.ok(progress.length >= 1, 'progress events');
    assert.equal(progress.at(-1)!.data.progress.total, 2);
    const direct = await bench({ ...params, env: server.env });
    const strip = (r: typeof direct) =>
      r.methods.map((m) => ({
        name: m.name,
        meanRegret: m.meanRegret,
        picks: m.perDataset.map((d) => d.pick),
      }));
    assert.deepEqual(strip(last.data.result), strip(direct));
    const job = await getJson(`${server.url}/v1/jobs/${start.body.id}`);
    assert.equal(job.status, 'succeeded');
    assert.equal(job.result.datasets, 2);
    assert.equal((await fetch(`${server.url}/v1/jobs/job-999`)).status, 404);
  });

  test('DELETE cancels a running bench job and ends its event stream', async () => {
    const start = await postJson(`${server.url}/v1/bench`, { seeds: 50 });
    assert.equal(start.status, 202);
    const stream = readEvents(`${server.url}/v1/jobs/${start.body.id}/events`);
    const res = await fetch(`${server.url}/v1/jobs/${start.body.id}`, { method: 'DELETE' });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as any).status, 'cancelled');
    const events = await stream;
    assert.equal(events.at(-1)!.event, 'end');
    assert.equal(events.at(-1)!.data.status, 'cancelled');
    assert.equal((await getJson(`${server.url}/v1/health`)).jobsRunning, 0);
  });

  test('a bench request with a bad method is a 400; a failing job reports the field', async () => {
    const bad = await postJson(`${server.url}/v1/bench`, { seeds: 0 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.field, 'seeds');
    const job = await postJson(`${server.url}/v1/bench`, { methods: ['nope'] });
    assert.equal(job.status, 202);
    const events = await readEvents(`${server.url}/v1/jobs/${job.body.id}/events`);
    const end = events.at(-1)!.data;
    assert.equal(end.status, 'failed');
    assert.equal(end.error.status, 400);
    assert.equal(end.error.field, 'methods');
  });

  test('the OpenAPI document is generated from the schemas that validate the requests', async () => {
    const doc = await getJson(`${server.url}/v1/openapi.json`);
    assert.equal(doc.openapi, '3.1.0');
    const { $schema: _s, ...recommendSchema } = z.toJSONSchema(RecommendRequest, { io: 'input' });
    assert.deepEqual(
      doc.paths['/v1/recommend'].post.requestBody.content['application/json'].schema,
      recommendSchema,
    );
    const { $schema: _b, ...benchSchema } = z.toJSONSchema(BenchParams, { io: 'input' });
    assert.deepEqual(
      doc.paths['/v1/bench'].post.requestBody.content['application/json'].schema,
      benchSchema,
    );
    for (const p of [
      '/v1/profile',
      '/v1/kb',
      '/v1/kb/records',
      '/v1/import',
      '/v1/jobs/{id}',
      '/v1/jobs/{id}/events',
      '/v1/health',
    ])
      assert.ok(doc.paths[p], p);
    assert.deepEqual(
      doc.paths['/v1/kb/records'].get.parameters.map((p: { name: string }) => p.name),
      ['dataset', 'model', 'status', 'offset', 'limit'],
    );
    assert.equal(doc.security, undefined, 'no auth, no security requirement');
  });

  test('access log lines are in the common log format', () => {
    const line = server.log.find((l) => l.includes('/v1/health'))!;
    assert.match(
      line,
      /^127\.0\.0\.1 - - \[\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/v1\/health HTTP\/1\.1" 200 \d+ [\d.]+ms$/,
    );
  });

  test('/ says how to build the page when it is not built', async () => {
    const other = await testServer({ webRoot: server.dir });
    try {
      const res = await fetch(`${other.url}/`);
      assert.equal(res.status, 503);
      assert.match(await res.text(), /npm run build:web/);
    } finally {
      await other.stop();
    }
  });
});

describe('binding and auth', () => {
  test('binding beyond loopback needs a token or an explicit no-auth', async () => {
    await assert.rejects(
      startServer({ host: '0.0.0.0', port: 0 }),
      (err: Error & { location?: { field?: string } }) => {
        assert.match(err.message, /--token/);
        assert.equal(err.location?.field, 'host');
        return true;
      },
    );
    await assert.rejects(startServer({ port: 0, token: 'short' }), /16 characters/);
  });

  test('with a token every route but health and the document needs it; the token is never logged', async () => {
    const token = 'correct-horse-battery-staple';
    const server = await testServer({ token });
    try {
      assert.equal((await fetch(`${server.url}/v1/health`)).status, 200);
      assert.equal((await fetch(`${server.url}/v1/openapi.json`)).status, 200);
      const none = await fetch(`${server.url}/v1/kb`);
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer');
      const wrong = await fetch(`${server.url}/v1/kb`, {
        headers: { authorization: 'Bearer correct-horse-battery-stapler' },
      });
      assert.equal(wrong.status, 401);
      const right = await fetch(`${server.url}/v1/kb`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(right.status, 200);
      const rec = await postJson(`${server.url}/v1/recommend`, { profile: EXAMPLE });
      assert.equal(rec.status, 401);
      const doc = await getJson(`${server.url}/v1/openapi.json`);
      assert.deepEqual(doc.security, [{ bearer: [] }]);
      assert.deepEqual(doc.paths['/v1/health'].get.security, []);
      // A client that puts the token in the URL instead of the header.
      assert.equal((await fetch(`${server.url}/v1/kb?access_token=${token}`)).status, 401);
      assert.ok(
        server.log.some((l) => l.includes('/v1/kb?access_token=[token]')),
        server.log.join('\n'),
      );
      assert.ok(server.log.length >= 6);
      assert.ok(server.log.every((l) => !l.includes(token)));
    } finally {
      await server.stop();
    }
  });
});
