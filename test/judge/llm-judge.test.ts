import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildJudgeMessages,
  judgeWithLlm,
  loadPromptTemplates,
  thresholdShortfalls,
} from '../../src/judge/index.ts';
import { GOOD_SCORES, makeContext, ScriptedModel, validProposal } from './fixture.ts';

const context = makeContext();
const templates = loadPromptTemplates();
const prediction = context.predict({
  model: 'vit_b16',
  config: validProposal().hyperparameters,
});

function judgeWith(model: ScriptedModel) {
  return judgeWithLlm({
    context,
    proposal: validProposal(),
    prediction,
    strategy: 'llm',
    judge: model,
    templates,
    seed: 7,
  });
}

test('the judge prompt shows the rubric, the evidence, the answer, the prediction and the schema', () => {
  const [system, user] = buildJudgeMessages({
    context,
    proposal: validProposal(),
    prediction,
    strategy: 'hybrid',
    templates,
  });
  assert.equal(system.role, 'system');
  assert.match(system.content, /format.*\n.*accuracy.*\n.*completeness/s);
  assert.match(user.content, /\[run:chestx-12\] \(run, similarity 0\.93\)/);
  assert.match(user.content, /\[insight:lr\]/);
  assert.match(user.content, /"model": "vit_b16"/);
  assert.match(
    user.content,
    /accuracy 0\.89 \[0\.86, 0\.92\]; training time 2121 \[1697, 2546\] s/,
  );
  assert.match(user.content, /"required":\["format","accuracy","completeness","feedback"\]/);
  assert.match(user.content, /hybrid strategy/);
  assert.doesNotMatch(user.content, /\{\{/);
});

test('valid scores are returned with latency and tokens; the request carries schema and seed', async () => {
  const model = new ScriptedModel('judge', [JSON.stringify(GOOD_SCORES)]);
  const j = await judgeWith(model);
  assert.deepEqual(j.scores, GOOD_SCORES);
  assert.equal(j.error, undefined);
  assert.equal(j.tokens, 120);
  assert.equal(model.requests[0].schema?.name, 'JudgeScores');
  assert.equal(model.requests[0].seed, 7);
});

test('a judge answering garbage gives a failed judgement with the reason, never a crash', async () => {
  const cases: [string, RegExp][] = [
    ['The story was nice. Lily smiled.', /judge answer unusable: the answer is not valid JSON/],
    ['{"format": 9, "accuracy": 3, "completeness": 3, "feedback": "x"}', /format: Too big/],
    ['{"format": 4}', /accuracy: .*; completeness: .*; feedback:/],
    ['[1,2,3]', /judge answer unusable: \(root\)/],
  ];
  for (const [answer, reason] of cases) {
    const j = await judgeWith(new ScriptedModel('judge', [answer]));
    assert.equal(j.scores, undefined);
    assert.equal(j.unreachable, false);
    assert.match(j.error!, reason);
  }
});

test('an unreachable judge is a failed judgement marked unreachable', async () => {
  const j = await judgeWith(new ScriptedModel('judge', [new Error('connection refused')]));
  assert.equal(j.unreachable, true);
  assert.equal(j.error, 'judge judge could not be called: connection refused');
});

test('thresholds: every criterion, the mean, or both', () => {
  const s = { format: 5, accuracy: 2, completeness: 4, feedback: '' };
  assert.deepEqual(thresholdShortfalls(s, { minEach: 3 }), [
    'accuracy scored 2, below the minimum 3',
  ]);
  assert.deepEqual(thresholdShortfalls(s, { minMean: 3.5 }), []);
  assert.deepEqual(thresholdShortfalls(s, { minMean: 3.8 }), [
    'mean score 3.67 is below the minimum 3.8',
  ]);
  assert.deepEqual(thresholdShortfalls({ ...s, accuracy: 3 }, { minEach: 3, minMean: 3.5 }), []);
});
