// Retry and feedback logic of reasonWithLlm, with a scripted LanguageModel (our own interface);
// the same paths run through the real HTTP provider in llm-http.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attempt, MetallmixError } from '../../src/core/index.ts';
import { reasonWithLlm } from '../../src/recommend/reasoning/llm-reasoning.ts';
import { GOOD_SCORES, makeContext, ScriptedModel, validProposal } from '../judge/fixture.ts';

const context = makeContext();
const good = JSON.stringify(validProposal());
const scores = (s: object) => JSON.stringify({ ...GOOD_SCORES, ...s });

test('a valid answer approved by the judge is accepted on the first attempt', async () => {
  const llm = new ScriptedModel('rec', [good]);
  const judge = new ScriptedModel('judge', [scores({})]);
  const r = await reasonWithLlm({
    context,
    strategy: 'llm',
    llm,
    judge,
    seed: 11,
    temperature: 0.2,
  });
  assert.equal(r.accepted, true);
  assert.equal(r.fallbackToMetaLearner, false);
  assert.equal(r.notice, undefined);
  assert.deepEqual(r.final, { model: 'vit_b16', config: validProposal().hyperparameters });
  assert.ok(Math.abs(r.metaLearnerPrediction!.metric.mean - 0.89) < 1e-9);
  assert.equal(r.attempts.length, 1);
  assert.deepEqual(r.attempts[0].judge, GOOD_SCORES);
  assert.equal(r.tokens, 240);
  assert.equal(r.llmMs, 5);
  assert.equal(r.judgeMs, 5);
  for (const a of r.attempts) Attempt.parse(a);
  const req = llm.requests[0];
  assert.equal(req.schema?.name, 'LlmProposal');
  assert.equal(req.seed, 11);
  assert.equal(req.temperature, 0.2);
  assert.equal(judge.requests[0].temperature, 0, 'the judge is deterministic by default');
  assert.deepEqual(
    req.messages.map((m) => m.role),
    ['system', 'user'],
  );
  assert.match(
    req.messages[1].content,
    /# Evidence retrieved from past experiments\n- \[run:chestx-12\]/,
  );
  assert.match(
    req.messages[1].content,
    /learning_rate: number from 0\.00001 to 0\.01 \(log scale\)/,
  );
  assert.doesNotMatch(req.messages[1].content, /Candidates of the meta-learner|\[candidate:1\]/);
  assert.doesNotMatch(req.messages[1].content, /previous answer/i);
});

test('out-of-space values are rejected, the reasons go back to the model, the retry is accepted', async () => {
  const bad = JSON.stringify(
    validProposal({ hyperparameters: { learning_rate: 0.3, batch_size: 32, optimizer: 'adam' } }),
  );
  const llm = new ScriptedModel('rec', [bad, good]);
  const judge = new ScriptedModel('judge', [scores({})]);
  const r = await reasonWithLlm({ context, strategy: 'llm', llm, judge, seed: 11 });
  assert.equal(r.accepted, true);
  assert.equal(r.attempts.length, 2);
  assert.deepEqual(r.attempts[0].ruleViolations, [
    'hyperparameters.learning_rate: 0.3 is outside [0.00001, 0.01]',
  ]);
  assert.equal(r.attempts[0].judge, undefined, 'rule failures skip the LLM judge');
  assert.equal(judge.requests.length, 1);
  assert.equal(llm.requests[1].seed, 12, 'a retry is not a replay');
  const retry = llm.requests[1].messages[1].content;
  assert.match(retry, /# Your previous answer \(attempt 1 of 3\) was rejected/);
  assert.match(retry, /- hyperparameters\.learning_rate: 0\.3 is outside \[0\.00001, 0\.01\]/);
  assert.ok(retry.includes(bad), 'the previous answer is shown');
  assert.equal(r.bestAttempt, 2);
});

test('judge scores below the threshold send its feedback into the next prompt', async () => {
  const llm = new ScriptedModel('rec', [good, good]);
  const judge = new ScriptedModel('judge', [
    scores({ completeness: 2, feedback: 'batch_size is not justified' }),
    scores({}),
  ]);
  const r = await reasonWithLlm({ context, strategy: 'llm', llm, judge });
  assert.equal(r.accepted, true);
  assert.equal(r.attempts[0].accepted, false);
  assert.equal(r.attempts[0].judge?.completeness, 2);
  const retry = llm.requests[1].messages[1].content;
  assert.match(retry, /Reviewer's scores \(1-5\): format 5, accuracy 4, completeness 2\./);
  assert.match(retry, /Reviewer's feedback: batch_size is not justified/);
});

test('a configurable threshold decides acceptance', async () => {
  const llm = new ScriptedModel('rec', [good]);
  const judge = new ScriptedModel('judge', [scores({ completeness: 2 })]);
  const r = await reasonWithLlm({
    context,
    strategy: 'llm',
    llm,
    judge,
    threshold: { minMean: 3.5 },
  });
  assert.equal(r.accepted, true);
});

test('when nothing passes, every attempt is kept and the best one is returned with a fallback notice', async () => {
  const outOfSpace = JSON.stringify(validProposal({ model: 'gpt-vision' }));
  const llm = new ScriptedModel('rec', ['Once upon a time', good, outOfSpace]);
  const judge = new ScriptedModel('judge', [scores({ accuracy: 1, feedback: 'numbers invented' })]);
  const r = await reasonWithLlm({ context, strategy: 'llm', llm, judge, maxAttempts: 3 });
  assert.equal(r.accepted, false);
  assert.equal(r.fallbackToMetaLearner, true);
  assert.equal(r.final, undefined);
  assert.equal(r.attempts.length, 3);
  assert.match(r.attempts[0].ruleViolations[0], /not valid JSON/);
  assert.equal(r.attempts[1].judge?.accuracy, 1);
  assert.match(r.attempts[2].ruleViolations[0], /gpt-vision/);
  assert.equal(r.bestAttempt, 2, 'the rule-clean, judged attempt is the best one');
  assert.equal(r.proposal?.model, 'vit_b16');
  assert.equal(
    r.notice,
    `LLM answer not accepted after 3 attempt(s) (last: model: "gpt-vision" is not in the model catalog (resnet50, vit_b16)); the meta-learner's pick is used instead.`,
  );
});

test('a judge returning garbage is a failed judgement, recorded, and the loop goes on', async () => {
  const llm = new ScriptedModel('rec', [good, good]);
  const judge = new ScriptedModel('judge', ['Lily went to the park.', scores({})]);
  const r = await reasonWithLlm({ context, strategy: 'llm', llm, judge });
  assert.equal(r.accepted, true);
  assert.match(r.attempts[0].judgeError!, /judge answer unusable: the answer is not valid JSON/);
  assert.match(llm.requests[1].messages[1].content, /The reviewer could not score it/);
});

test('an unreachable recommender or judge stops the loop at once with the reason', async () => {
  const down = await reasonWithLlm({
    context,
    strategy: 'llm',
    llm: new ScriptedModel('rec', [new MetallmixError('connection refused at 127.0.0.1:9')]),
  });
  assert.equal(down.accepted, false);
  assert.equal(down.attempts.length, 1);
  assert.equal(
    down.notice,
    `LLM answer not accepted after 1 attempt(s) (last: LLM rec could not be called: connection refused at 127.0.0.1:9); the meta-learner's pick is used instead.`,
  );
  const judgeDown = await reasonWithLlm({
    context,
    strategy: 'llm',
    llm: new ScriptedModel('rec', [good]),
    judge: new ScriptedModel('judge', [new Error('timeout')]),
  });
  assert.equal(judgeDown.attempts.length, 1);
  assert.equal(judgeDown.proposal?.model, 'vit_b16', 'the unjudged proposal is still reported');
  assert.match(judgeDown.notice!, /judge judge could not be called: timeout/);
});

test('without the LLM judge, passing the rules is enough; the recommender model judges by default', async () => {
  const r = await reasonWithLlm({
    context,
    strategy: 'llm',
    llm: new ScriptedModel('rec', [good]),
    llmJudge: false,
  });
  assert.equal(r.accepted, true);
  assert.equal(r.judgeMs, 0);
  const same = new ScriptedModel('rec', [good, scores({})]);
  assert.equal((await reasonWithLlm({ context, strategy: 'llm', llm: same })).accepted, true);
  assert.equal(same.requests[1].schema?.name, 'JudgeScores');
});

test('hybrid: the prompt lists the candidates, the model must be one of them, adjustments are reported', async () => {
  const adjusted = JSON.stringify(
    validProposal({
      model: 'resnet50',
      hyperparameters: { learning_rate: 1e-3, batch_size: 96, optimizer: 'adam' },
      expectedMetric: 0.86,
      expectedTrainingTimeSec: 500,
      justification: 'resnet50 [candidate:2] with a larger batch_size per [insight:batch].',
      citedEvidence: ['candidate:2', 'insight:batch'],
    }),
  );
  const llm = new ScriptedModel('rec', [adjusted]);
  const r = await reasonWithLlm({
    context,
    strategy: 'hybrid',
    llm,
    judge: new ScriptedModel('judge', [scores({})]),
  });
  assert.equal(r.accepted, true, JSON.stringify(r.attempts));
  assert.deepEqual(r.basedOn, { rank: 2, adjusted: ['batch_size'] });
  assert.ok(
    Math.abs(r.metaLearnerPrediction!.trainingTimeSec!.mean - 600 * Math.sqrt(64 / 96)) < 1e-9,
  );
  const prompt = llm.requests[0].messages[1].content;
  assert.match(
    prompt,
    /# Candidates of the meta-learner\n- \[candidate:1\] vit_b16 with learning_rate=0\.0003, batch_size=32, optimizer="adam": accuracy 0\.89/,
  );

  const narrowed = makeContext({ shortlist: [context.shortlist[1]] });
  const r2 = await reasonWithLlm({
    context: narrowed,
    strategy: 'hybrid',
    llm: new ScriptedModel('rec', [good]),
    llmJudge: false,
    maxAttempts: 1,
  });
  assert.deepEqual(r2.attempts[0].ruleViolations, [
    `model: "vit_b16" is not among the meta-learner's candidates (resnet50)`,
  ]);
});

test('bad options are MetallmixErrors; an abort propagates', async () => {
  const llm = new ScriptedModel('rec', []);
  await assert.rejects(
    reasonWithLlm({ context, strategy: 'llm', llm, maxAttempts: 0 }),
    (e: unknown) => e instanceof MetallmixError && /field "maxAttempts"/.test(e.message),
  );
  await assert.rejects(
    reasonWithLlm({ context: makeContext({ shortlist: [] }), strategy: 'hybrid', llm }),
    /field "shortlist": the hybrid strategy needs the meta-learner shortlist/,
  );
  const controller = new AbortController();
  controller.abort(new Error('user cancelled'));
  await assert.rejects(
    reasonWithLlm({
      context,
      strategy: 'llm',
      llm: new ScriptedModel('rec', [new Error('aborted')]),
      signal: controller.signal,
    }),
    /aborted/,
  );
});
