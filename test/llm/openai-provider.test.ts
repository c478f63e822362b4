import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ExitCode, MetallmixError } from '../../src/core/errors.ts';
import { jsonSchemaOf } from '../../src/core/json-schema.ts';
import { Rng } from '../../src/core/rng.ts';
import { OpenAICompatibleModel } from '../../src/llm/providers/openai.ts';
import { backoffDelayMs, parseRetryAfter, type RetryPolicy } from '../../src/llm/retry.ts';
import {
  completion,
  failure,
  refusedBaseUrl,
  startFakeOpenAIServer,
  type FakeOpenAIServer,
} from './fake-openai-server.ts';

const KEY = 'sk-test-secret-4242';
const FAST_RETRY: RetryPolicy = { maxRetries: 2, baseDelayMs: 20, maxDelayMs: 80 };
const proposalSchema = { name: 'LlmProposal', jsonSchema: jsonSchemaOf('LlmProposal') };
const messages = [
  { role: 'system' as const, content: 'You recommend fine-tuning configurations.' },
  { role: 'user' as const, content: 'Dataset: chest x-ray, 2 classes.' },
];
const proposal = {
  model: 'resnet50',
  hyperparameters: { lr: 0.001, optimizer: 'adam', pretrained: true },
  expectedMetric: 0.91,
  expectedTrainingTimeSec: 1200,
  justification: 'run:42 reached 0.92 on a similar dataset',
  citedEvidence: ['run:42'],
  confidence: 'medium',
};

function modelFor(
  server: { baseUrl: string },
  extra: Partial<ConstructorParameters<typeof OpenAICompatibleModel>[0]> = {},
) {
  return new OpenAICompatibleModel({
    baseUrl: server.baseUrl,
    model: 'fake-model',
    apiKey: KEY,
    retry: FAST_RETRY,
    timeoutMs: 5000,
    ...extra,
  });
}

/** Runs `fn`, which must reject with an unavailable MetallmixError; returns it. */
async function unavailableError(fn: () => Promise<unknown>): Promise<MetallmixError> {
  const err = await fn().then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof MetallmixError, `expected MetallmixError, got ${String(err)}`);
  assert.equal(err.exitCode, ExitCode.unavailable);
  assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
  assert.ok(!err.message.includes(KEY), 'the API key never appears in an error');
  return err;
}

describe('OpenAI-compatible provider against a local server', () => {
  let server: FakeOpenAIServer;
  beforeEach(async () => (server = await startFakeOpenAIServer()));
  afterEach(() => server.close());

  test('sends messages, schema, seed, temperature, max_tokens and the key; parses the answer', async () => {
    server.enqueue(
      completion(JSON.stringify(proposal), { model: 'served-model', completionTokens: 55 }),
    );
    const model = modelFor(server, { temperature: 0.2, seed: 11, maxTokens: 300 });
    const result = await model.generate({ messages, schema: proposalSchema, seed: 7 });

    const req = server.chatRequests().at(-1)!;
    assert.equal(req.method, 'POST');
    assert.equal(req.headers.authorization, `Bearer ${KEY}`);
    assert.equal(req.body.model, 'fake-model');
    assert.deepEqual(req.body.messages, messages);
    assert.equal(req.body.seed, 7, 'the request seed wins over the configured one');
    assert.equal(req.body.temperature, 0.2);
    assert.equal(req.body.max_tokens, 300);
    assert.deepEqual(req.body.response_format, {
      type: 'json_schema',
      json_schema: { name: 'LlmProposal', schema: proposalSchema.jsonSchema, strict: false },
    });
    assert.deepEqual(result.json, proposal);
    assert.equal(result.text, JSON.stringify(proposal));
    assert.equal(result.model, 'served-model');
    assert.deepEqual(result.usage, { promptTokens: 11, completionTokens: 55 });
    assert.ok(result.latencyMs > 0);
    assert.equal(model.id, `openai:fake-model@${server.baseUrl}`);
  });

  test('asks for strict mode only when the schema is closed; omits what is not set', async () => {
    server.enqueue(completion('{"a":"x"}'), completion('plain text'));
    const closed = {
      type: 'object',
      properties: { a: { type: 'string' } },
      required: ['a'],
      additionalProperties: false,
    };
    const model = modelFor(server, { apiKey: undefined });
    const withSchema = await model.generate({
      messages,
      schema: { name: 'A', jsonSchema: closed },
    });
    const plain = await model.generate({ messages });
    assert.deepEqual(withSchema.json, { a: 'x' });
    assert.equal(plain.json, undefined, 'no schema, no parsing');
    const [strictReq, plainReq] = server.chatRequests();
    assert.equal(strictReq.body.response_format.json_schema.strict, true);
    for (const key of ['seed', 'temperature', 'max_tokens', 'response_format'])
      assert.ok(!(key in plainReq.body), `${key} omitted`);
  });

  test('invalid JSON comes back as text without json; a fenced block is unwrapped', async () => {
    server.enqueue(
      completion('{"model": "resnet50", oops'),
      completion('```json\n{"ok": true}\n```'),
    );
    const model = modelFor(server);
    const broken = await model.generate({ messages, schema: proposalSchema });
    assert.equal(broken.text, '{"model": "resnet50", oops');
    assert.equal(broken.json, undefined);
    const fenced = await model.generate({ messages, schema: proposalSchema });
    assert.deepEqual(fenced.json, { ok: true });
  });

  test('retries 429 (honouring Retry-After) and 500, then succeeds', async () => {
    for (const first of [failure(429, 'slow down', { 'retry-after': '0' }), failure(500)]) {
      const before = server.chatRequests().length;
      server.enqueue(first, completion('{"ok":1}'));
      const result = await modelFor(server).generate({ messages, schema: proposalSchema });
      assert.deepEqual(result.json, { ok: 1 });
      assert.equal(server.chatRequests().length - before, 2);
    }
  });

  test('backs off exponentially between attempts, then gives up with the status', async () => {
    const before = server.chatRequests().length;
    server.enqueue(failure(503), failure(503), failure(503));
    const policy = { maxRetries: 2, baseDelayMs: 60, maxDelayMs: 1000 };
    const err = await unavailableError(() =>
      modelFor(server, { retry: policy }).generate({ messages }),
    );
    assert.match(err.message, /after 3 attempts \(HTTP 503: status 503\)/);
    assert.ok(err.message.includes(server.baseUrl));
    const times = server
      .chatRequests()
      .slice(before)
      .map((r) => r.receivedAtMs);
    assert.equal(times.length, 3);
    // Equal jitter: the wait before retry n lies in [base*2^(n-1)/2, base*2^(n-1)].
    assert.ok(times[1] - times[0] >= 29, `first wait ${times[1] - times[0]} ms`);
    assert.ok(times[2] - times[1] >= 59, `second wait ${times[2] - times[1]} ms`);
  });

  test('does not retry client errors; auth failures name the endpoint, never the key', async () => {
    const before = server.chatRequests().length;
    server.enqueue(failure(401, `invalid key ${KEY}`));
    const auth = await unavailableError(() => modelFor(server).generate({ messages }));
    assert.match(auth.message, /rejected the API key \(HTTP 401\)/);
    server.enqueue(failure(400, `bad request; you sent Authorization: Bearer ${KEY}`));
    const bad = await unavailableError(() => modelFor(server).generate({ messages }));
    assert.match(
      bad.message,
      /refused the request \(HTTP 400: bad request; you sent Authorization: Bearer \[redacted\]\)/,
    );
    server.enqueue(failure(404, 'model not found'));
    const missing = await unavailableError(() => modelFor(server).generate({ messages }));
    assert.match(missing.message, /has no model "fake-model"/);
    assert.equal(server.chatRequests().length - before, 3, 'one request each');
  });

  test('a hang past the timeout fails after the timeout, not before, and not much later', async () => {
    server.enqueue({ hang: true });
    const started = performance.now();
    const err = await unavailableError(() =>
      modelFor(server).generate({ messages, timeoutMs: 300 }),
    );
    const elapsed = performance.now() - started;
    assert.match(
      err.message,
      /no answer from the LLM endpoint .* \(model fake-model\) within 300 ms/,
    );
    assert.ok(elapsed >= 295 && elapsed < 1500, `elapsed ${elapsed} ms`);
  });

  test('the deadline covers retries too', async () => {
    server.enqueue(failure(500), failure(500), failure(500));
    const slowRetry = { maxRetries: 5, baseDelayMs: 1000, maxDelayMs: 1000 };
    const started = performance.now();
    const err = await unavailableError(() =>
      modelFor(server, { retry: slowRetry }).generate({ messages, timeoutMs: 250 }),
    );
    assert.match(err.message, /within 250 ms/);
    assert.ok(performance.now() - started < 1000);
  });

  test('aborting the signal rejects at once with its reason', async () => {
    server.enqueue({ hang: true });
    const controller = new AbortController();
    const reason = new Error('user pressed ctrl-c');
    setTimeout(() => controller.abort(reason), 100);
    const started = performance.now();
    await assert.rejects(
      modelFor(server).generate({ messages, signal: controller.signal }),
      (e) => e === reason,
    );
    assert.ok(performance.now() - started < 1000);
  });

  test('probe asks GET /models with the key', async () => {
    await modelFor(server).probe();
    const probe = server.requests.at(-1)!;
    assert.equal(probe.method, 'GET');
    assert.equal(probe.path, '/models');
    assert.equal(probe.headers.authorization, `Bearer ${KEY}`);
  });
});

describe('unreachable endpoint', () => {
  test('connection refused: unavailable MetallmixError naming the URL, after retries', async () => {
    const url = await refusedBaseUrl();
    const model = modelFor({ baseUrl: url });
    const err = await unavailableError(() => model.generate({ messages }));
    assert.equal(
      err.message,
      `cannot reach the LLM endpoint ${url} (ECONNREFUSED) after 3 attempts`,
    );
    const probe = await unavailableError(() => model.probe(500));
    assert.equal(probe.message, `cannot reach the LLM endpoint ${url} (ECONNREFUSED)`);
  });
});

describe('backoff', () => {
  const policy: RetryPolicy = { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 1000 };

  test('grows exponentially within equal-jitter bounds, capped, reproducible by seed', () => {
    const a = new Rng(3);
    const b = new Rng(3);
    for (let retry = 1; retry <= 6; retry++) {
      const ceiling = Math.min(1000, 100 * 2 ** (retry - 1));
      const d = backoffDelayMs(policy, retry, a);
      assert.ok(d >= ceiling / 2 && d <= ceiling, `retry ${retry}: ${d}`);
      assert.equal(backoffDelayMs(policy, retry, b), d);
    }
  });

  test('Retry-After is honoured up to the cap', () => {
    assert.equal(backoffDelayMs(policy, 1, new Rng(1), 700), 700);
    assert.equal(backoffDelayMs(policy, 1, new Rng(1), 60_000), 1000);
    assert.equal(parseRetryAfter('2'), 2000);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4000), 6000);
    assert.equal(parseRetryAfter('soon'), undefined);
  });
});
