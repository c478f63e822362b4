// The whole pipeline through `metallmix recommend`: meta-learner, retrieval, LLM reasoning and
// judge, against a local OpenAI-compatible server, the real tiny GGUF model, and an
// unreachable endpoint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LlmProposal, Recommendation } from '../../src/core/index.ts';
import { runCli } from '../support/cli.ts';
import { EXAMPLE, recommendJson } from './example.ts';
import { completion, refusedBaseUrl, startFakeOpenAIServer } from '../llm/fake-openai-server.ts';

const GGUF = new URL('../../../shared/models/stories260K-gguf/stories260K.gguf', import.meta.url)
  .pathname;
let dir: string;

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'metallmix-pipeline-'));
  process.env.METALLMIX_CACHE = path.join(dir, 'cache');
  // An empty config file, so that a developer's own LLM settings do not leak into the tests.
  process.env.METALLMIX_CONFIG = path.join(dir, 'config.yaml');
  writeFileSync(process.env.METALLMIX_CONFIG, '{}\n');
  for (const k of Object.keys(process.env))
    if (k.startsWith('METALLMIX_LLM_') || k.startsWith('METALLMIX_JUDGE_')) delete process.env[k];
  delete process.env.METALLMIX_KB;
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('without an LLM: the meta-learner answers, justified from SHAP and evidence, with a notice', async () => {
  const rec = await recommendJson();
  assert.equal(rec.strategy, 'metalearner');
  assert.ok(rec.notices.some((n) => /^No LLM was used/.test(n)));
  assert.ok(
    rec.pick.evidence.some((e) => e.kind === 'dataset'),
    'nearest past datasets back the pick',
  );
  assert.match(rec.justification, /\[dataset:[a-z]+\]/, 'the justification cites evidence ids');
  assert.match(rec.justification, /\[insight:[^\]]+\]/, 'and SHAP insights');
  for (const stage of [
    'profile',
    'knowledgeBase',
    'retrieval',
    'metalearner',
    'predict',
    'explain',
    'total',
  ])
    assert.ok(stage in rec.timingsMs, stage);
  assert.ok(
    existsSync(path.join(dir, 'cache', 'builtin-medmnist.vectors')),
    'the retrieval index is persisted',
  );
});

test('hybrid through an OpenAI-compatible server: accepted answer, judge scores, timings', async () => {
  const base = await recommendJson();
  const pick = base.topK[1];
  const evidence = pick.evidence.find((e) => e.kind === 'dataset')!.id;
  const proposal: LlmProposal = {
    model: pick.model,
    hyperparameters: pick.config,
    expectedMetric: pick.predictedMetric.mean,
    expectedTrainingTimeSec: pick.predictedTrainingTimeSec!.mean,
    justification: `${pick.model} with this configuration is second on the shortlist and close to the best on the most similar past dataset [${evidence}].`,
    citedEvidence: [evidence],
    confidence: 'medium',
  };
  const server = await startFakeOpenAIServer({
    script: [
      completion(JSON.stringify(proposal)),
      completion(JSON.stringify({ format: 5, accuracy: 4, completeness: 4, feedback: 'grounded' })),
    ],
  });
  try {
    const rec = await recommendJson(
      '--llm-base-url',
      server.baseUrl,
      '--llm-model',
      'fake-model',
      '--llm-seed',
      '7',
    );
    assert.equal(rec.strategy, 'hybrid', 'hybrid is the default when an LLM is configured');
    assert.equal(rec.answeredBy, 'hybrid');
    assert.equal(rec.fellBack, false);
    assert.equal(rec.counters.llmCalls, 2, 'one answer and one judgement');
    assert.ok(rec.counters.llmTokens > 0, 'the fake server reports token usage');
    assert.ok(!rec.notices.some((n) => /^No LLM was used/.test(n)), 'an LLM was used');
    assert.equal(rec.llmAnswer?.basedOn?.rank, 2, 'the answer builds on the second candidate');
    assert.deepEqual(rec.llmAnswer?.basedOn?.adjusted, []);
    assert.deepEqual(rec.llmAnswer?.citedEvidence, [evidence]);
    assert.equal(rec.pick.model, pick.model);
    assert.deepEqual(rec.pick.config, pick.config);
    assert.equal(rec.attempts.length, 1);
    assert.equal(rec.attempts[0].accepted, true);
    assert.deepEqual(
      { ...rec.attempts[0].judge },
      { format: 5, accuracy: 4, completeness: 4, feedback: 'grounded' },
    );
    assert.match(rec.justification, /Meta-learner's prediction for this choice/);
    assert.ok(rec.timingsMs.llm > 0 && rec.timingsMs.judge > 0, JSON.stringify(rec.timingsMs));
    const [ask, judge] = server.chatRequests();
    assert.equal(ask.body.response_format.type, 'json_schema');
    assert.equal(ask.body.seed, 7);
    assert.match(JSON.stringify(ask.body.messages), /insight:/, 'the prompt carries SHAP insights');
    assert.match(
      JSON.stringify(ask.body.messages),
      new RegExp(evidence),
      'and the retrieved evidence',
    );
    assert.match(JSON.stringify(judge.body.messages), /format/);
  } finally {
    await server.close();
  }
});

test('an unreachable LLM: one-line notice, the meta-learner pick, no stack trace', async () => {
  const r = await runCli(
    'recommend',
    '--profile',
    EXAMPLE,
    '--json',
    '--llm-base-url',
    await refusedBaseUrl(),
    '--llm-model',
    'm',
    '--llm-timeout-ms',
    '2000',
  );
  assert.equal(r.code, 0, r.err);
  const rec = Recommendation.parse(JSON.parse(r.out));
  assert.equal(rec.strategy, 'hybrid');
  assert.equal(rec.answeredBy, 'metalearner');
  assert.equal(rec.fellBack, true);
  assert.match(
    rec.fallbackReason!,
    /is not reachable \(cannot reach the LLM endpoint .*ECONNREFUSED/,
  );
  assert.equal(rec.attempts.length, 0, 'the probe failed, so no prompt was sent');
  assert.ok(
    rec.notices.some((n) => /meta-learner's pick is used instead/.test(n)),
    rec.notices.join('\n'),
  );
  assert.doesNotMatch(r.err, /\n\s+at /);
});

test('the real tiny GGUF model through llama.cpp runs the whole pipeline', async (t) => {
  if (!existsSync(GGUF)) {
    t.skip(`no model at ${GGUF}`);
    return;
  }
  const rec = await recommendJson(
    '--strategy',
    'llm',
    '--llm-gguf',
    GGUF,
    '--llm-threads',
    '1',
    '--llm-max-tokens',
    '160',
    '--max-attempts',
    '2',
    '--prompts-dir',
    new URL('./fixtures/short-prompts/', import.meta.url).pathname,
  );
  assert.ok(rec.attempts.length >= 1 && rec.attempts.length <= 2);
  // A story-writing model does not ground its answer: the rules reject it and say why.
  assert.equal(rec.fellBack, true, rec.attempts.map((a) => a.raw).join('\n'));
  for (const a of rec.attempts)
    assert.ok(a.ruleViolations.length > 0, 'every rejection has a reason');
  const metalearner = await recommendJson('--strategy', 'metalearner');
  assert.deepEqual(rec.pick, metalearner.pick, "after the fallback the pick is the meta-learner's");
  assert.equal(rec.counters.llmCalls, rec.attempts.length);
  assert.ok(rec.counters.llmTokens > 0 && rec.timingsMs.llm > 0);
});

test('retrieval embedders: a missing model directory or endpoint is a clear error', async () => {
  let r = await runCli('recommend', '--profile', EXAMPLE, '--embedder', 'http');
  assert.equal(r.code, 2);
  assert.match(r.err, /--embedder http needs --embedder-base-url and --embedder-model/);
  const missing = path.join(dir, 'no-model');
  r = await runCli(
    'recommend',
    '--profile',
    EXAMPLE,
    '--embedder',
    'neural',
    '--embedder-model-dir',
    missing,
  );
  assert.equal(r.code, 4);
  assert.match(r.err, new RegExp(missing));
  r = await runCli(
    'recommend',
    '--profile',
    EXAMPLE,
    '--embedder',
    'http',
    '--embedder-base-url',
    await refusedBaseUrl(),
    '--embedder-model',
    'e',
  );
  assert.equal(r.code, 4);
  assert.doesNotMatch(r.err, /\n\s+at /);
});
