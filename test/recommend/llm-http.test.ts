// The reasoning loop end to end through the real OpenAI-compatible provider and the shared local
// test server: what we send (schema, messages, seed) and how each scripted answer is handled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attempt, LlmProposal } from '../../src/core/index.ts';
import { OpenAICompatibleModel } from '../../src/llm/index.ts';
import { reasonWithLlm } from '../../src/recommend/reasoning/llm-reasoning.ts';
import {
  completion,
  refusedBaseUrl,
  startFakeOpenAIServer,
  type FakeOpenAIServer,
} from '../llm/fake-openai-server.ts';
import { GOOD_SCORES, makeContext, validProposal } from '../judge/fixture.ts';

const context = makeContext();
const good = JSON.stringify(validProposal());
const scores = (s: object) => JSON.stringify({ ...GOOD_SCORES, ...s });
const noRetry = { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 };

function models(server: FakeOpenAIServer) {
  return {
    llm: new OpenAICompatibleModel({
      baseUrl: server.baseUrl,
      model: 'recommender-7b',
      retry: noRetry,
    }),
    judge: new OpenAICompatibleModel({
      baseUrl: server.baseUrl,
      model: 'judge-3b',
      retry: noRetry,
    }),
  };
}

async function withServer(fn: (server: FakeOpenAIServer) => Promise<void>): Promise<void> {
  const server = await startFakeOpenAIServer();
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

test('HTTP: a valid answer is accepted; requests carry the schemas, messages, seed and models', () =>
  withServer(async (server) => {
    server.enqueue(completion(good), completion(scores({})));
    const r = await reasonWithLlm({
      context,
      strategy: 'llm',
      ...models(server),
      seed: 5,
      temperature: 0,
      maxTokens: 600,
      timeoutMs: 5000,
    });
    assert.equal(r.accepted, true);
    assert.deepEqual(r.final, { model: 'vit_b16', config: validProposal().hyperparameters });
    assert.equal(r.tokens, 36, 'usage of both calls is summed');
    const [rec, judge] = server.chatRequests().map((q) => q.body);
    assert.equal(rec.model, 'recommender-7b');
    assert.equal(rec.seed, 5);
    assert.equal(rec.temperature, 0);
    assert.equal(rec.max_tokens, 600);
    assert.equal(rec.response_format.type, 'json_schema');
    assert.equal(rec.response_format.json_schema.name, 'LlmProposal');
    assert.deepEqual(rec.response_format.json_schema.schema.required, [
      'model',
      'hyperparameters',
      'expectedMetric',
      'expectedTrainingTimeSec',
      'justification',
      'citedEvidence',
      'confidence',
    ]);
    assert.deepEqual(
      rec.messages.map((m: { role: string }) => m.role),
      ['system', 'user'],
    );
    assert.match(rec.messages[1].content, /\[run:chestx-12\]/);
    assert.equal(judge.model, 'judge-3b');
    assert.equal(judge.response_format.json_schema.name, 'JudgeScores');
    assert.match(judge.messages[1].content, /"expectedMetric": 0\.89/);
  }));

test('HTTP: out-of-space values and invalid JSON are rejected with reasons, a low judge score sends feedback, all attempts are kept', () =>
  withServer(async (server) => {
    const outOfSpace = JSON.stringify(
      validProposal({
        hyperparameters: { learning_rate: 3e-4, batch_size: 512, optimizer: 'adam' },
      }),
    );
    server.enqueue(
      completion(outOfSpace),
      completion('{"model": "vit_b16", "hyperparameters": {'),
      completion(good),
      completion(scores({ accuracy: 2, feedback: 'the expected accuracy ignores [run:derma-3]' })),
      completion(good),
      completion(scores({})),
    );
    const r = await reasonWithLlm({
      context,
      strategy: 'llm',
      ...models(server),
      maxAttempts: 4,
      timeoutMs: 5000,
    });
    assert.equal(r.accepted, true);
    assert.equal(r.attempts.length, 4);
    for (const a of r.attempts) Attempt.parse(a);
    assert.deepEqual(r.attempts[0].ruleViolations, [
      'hyperparameters.batch_size: 512 is outside [16, 128]',
    ]);
    assert.match(r.attempts[1].ruleViolations[0], /^the answer is not valid JSON/);
    assert.equal(r.attempts[2].judge?.accuracy, 2);
    assert.equal(r.attempts[2].accepted, false);
    assert.equal(r.attempts[3].accepted, true);
    assert.deepEqual(
      r.attempts.map((a) => a.raw),
      [outOfSpace, '{"model": "vit_b16", "hyperparameters": {', good, good],
    );

    const recommenderPrompts = server
      .chatRequests()
      .map((q) => q.body)
      .filter((b) => b.model === 'recommender-7b')
      .map((b) => b.messages[1].content as string);
    assert.equal(recommenderPrompts.length, 4);
    assert.match(
      recommenderPrompts[1],
      /- hyperparameters\.batch_size: 512 is outside \[16, 128\]/,
    );
    assert.match(recommenderPrompts[2], /- the answer is not valid JSON/);
    assert.match(
      recommenderPrompts[3],
      /Reviewer's feedback: the expected accuracy ignores \[run:derma-3\]/,
    );
    LlmProposal.parse(r.proposal);
  }));

test('HTTP: an unreachable endpoint gives a fallback notice, not an exception', async () => {
  const baseUrl = await refusedBaseUrl();
  const llm = new OpenAICompatibleModel({ baseUrl, model: 'm', retry: noRetry });
  const r = await reasonWithLlm({ context, strategy: 'hybrid', llm, timeoutMs: 3000 });
  assert.equal(r.accepted, false);
  assert.equal(r.fallbackToMetaLearner, true);
  assert.equal(r.attempts.length, 1);
  assert.match(
    r.notice!,
    new RegExp(
      `could not be called: cannot reach the LLM endpoint ${baseUrl.replace(/[.]/g, '\\.')} \\(ECONNREFUSED\\).*the meta-learner's pick is used instead\\.$`,
    ),
  );
});

test('HTTP: a hanging server hits the timeout and falls back', () =>
  withServer(async (server) => {
    server.enqueue({ hang: true });
    const { llm } = models(server);
    const r = await reasonWithLlm({ context, strategy: 'llm', llm, timeoutMs: 300 });
    assert.equal(r.accepted, false);
    assert.match(r.notice!, /within 300 ms/);
  }));
