import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAnswer, checkProposal, idsInText, parseAnswer } from '../../src/judge/index.ts';
import { makeContext, validProposal } from './fixture.ts';

const ctx = makeContext();

test('a grounded, in-space proposal passes every rule and carries the meta-learner prediction', () => {
  const r = checkProposal(ctx, validProposal());
  assert.deepEqual(r.violations, []);
  assert.equal(r.proposal?.model, 'vit_b16');
  assert.ok(Math.abs(r.prediction!.metric.mean - 0.89) < 1e-9);
});

test('answers that are not JSON or not the schema are rejected with the reason', () => {
  assert.deepEqual(checkAnswer(ctx, { text: '' }).violations, ['the answer is empty']);
  assert.match(checkAnswer(ctx, { text: 'Once upon a time {' }).violations[0], /not valid JSON/);
  const r = checkAnswer(ctx, { text: JSON.stringify({ model: 'vit_b16' }) });
  assert.equal(r.proposal, undefined);
  assert.ok(r.violations.some((v) => v.startsWith('schema: hyperparameters:')));
  assert.ok(r.violations.some((v) => v.startsWith('schema: confidence:')));
});

test('JSON wrapped in a code fence or a sentence is still read; the provider json wins', () => {
  const json = JSON.stringify(validProposal());
  assert.deepEqual(checkAnswer(ctx, { text: 'Here:\n```json\n' + json + '\n```' }).violations, []);
  assert.deepEqual(checkAnswer(ctx, { text: `My answer is ${json} as asked.` }).violations, []);
  assert.deepEqual(parseAnswer({ text: 'garbage', json: { a: 1 } }), { ok: true, value: { a: 1 } });
});

test('model outside the catalog or outside the hybrid candidates is a violation naming the allowed ones', () => {
  const r = checkProposal(ctx, validProposal({ model: 'gpt-vision' }));
  assert.deepEqual(r.violations, [
    'model: "gpt-vision" is not in the model catalog (resnet50, vit_b16)',
  ]);
  assert.equal(r.prediction, undefined);
  const h = checkProposal(ctx, validProposal(), { candidateModels: ['resnet50'] });
  assert.deepEqual(h.violations, [
    `model: "vit_b16" is not among the meta-learner's candidates (resnet50)`,
  ]);
});

test('hyperparameters outside the search space are violations with field, value and range', () => {
  const r = checkProposal(
    ctx,
    validProposal({
      hyperparameters: { learning_rate: 0.5, batch_size: 32.5, optimizer: 'lamb', dropout: 0.1 },
    }),
  );
  assert.deepEqual(r.violations, [
    'hyperparameters.dropout: not a parameter of the search space',
    'hyperparameters.learning_rate: 0.5 is outside [0.00001, 0.01]',
    'hyperparameters.batch_size: expected an integer, got 32.5',
    'hyperparameters.optimizer: "lamb" is not one of ["adam","sgd"]',
  ]);
  assert.deepEqual(
    checkProposal(ctx, validProposal({ hyperparameters: { learning_rate: 3e-4 } })).violations,
    ['hyperparameters.batch_size: missing', 'hyperparameters.optimizer: missing'],
  );
});

test('invented citations and a justification without evidence ids are violations', () => {
  const r = checkProposal(
    ctx,
    validProposal({
      citedEvidence: ['run:chestx-12', 'run:imaginary-1'],
      justification: 'As [run:chestx-99] shows, and run:chestx-12.',
    }),
  );
  assert.deepEqual(r.violations, [
    'citedEvidence: "run:imaginary-1" not in the context (cite only ids shown in square brackets)',
    'justification: cites "run:chestx-99", not in the context',
  ]);
  assert.deepEqual(
    checkProposal(ctx, validProposal({ justification: '  ', citedEvidence: [] })).violations,
    ['justification: empty'],
  );
  assert.deepEqual(
    checkProposal(
      ctx,
      validProposal({ justification: 'It is a good model [candidate:1].', citedEvidence: [] }),
    ).violations,
    ['justification: cites no evidence or insight id from the context'],
  );
});

test('claims outside the meta-learner interval are violations with the numbers', () => {
  const r = checkProposal(
    ctx,
    validProposal({ expectedMetric: 0.99, expectedTrainingTimeSec: 60 }),
  );
  assert.deepEqual(r.violations, [
    "expectedMetric: 0.99 is outside the meta-learner's interval for vit_b16 with these hyperparameters: accuracy 0.89 [0.86, 0.92], tolerance ±0.05",
    "expectedTrainingTimeSec: 60 is outside the meta-learner's interval for vit_b16 with these hyperparameters: 2121 [1697, 2546] s, accepted 1131 to 3818 s",
  ]);
  assert.match(
    checkProposal(ctx, validProposal({ expectedMetric: 89 })).violations[0],
    /tolerance ±0\.05 \(accuracy is a fraction between 0 and 1, not a percentage\)$/,
  );
  // inside the tolerance band, and a custom tolerance
  assert.deepEqual(checkProposal(ctx, validProposal({ expectedMetric: 0.96 })).violations, []);
  assert.equal(
    checkProposal(ctx, validProposal({ expectedMetric: 0.96 }), { tolerance: { metric: 0 } })
      .violations.length,
    1,
  );
});

test('a predict function that throws is reported as a violation, not a crash', () => {
  const broken = makeContext({
    predict: () => {
      throw new Error('no tree for this model');
    },
  });
  assert.deepEqual(checkProposal(broken, validProposal()).violations, [
    'the meta-learner cannot predict this candidate: no tree for this model',
  ]);
});

test('idsInText finds known ids and id-like words with a known prefix', () => {
  const known = new Set(['run:a-1', 'insight:lr']);
  assert.deepEqual(idsInText('see [run:a-1], run:b-2. and insight:lr: ok; dataset:x', known), {
    known: ['run:a-1', 'insight:lr'],
    unknown: ['run:b-2'],
  });
});

test('with allowed candidates (the benchmark lookup), only those exact configurations pass', () => {
  const proposal = validProposal();
  const allowed = makeContext({
    allowedCandidates: [{ model: proposal.model, config: { ...proposal.hyperparameters } }],
  });
  assert.deepEqual(checkProposal(allowed, proposal).violations, []);
  const other = makeContext({
    allowedCandidates: [{ model: 'resnet50', config: { ...proposal.hyperparameters } }],
  });
  assert.deepEqual(checkProposal(other, proposal).violations, [
    'hyperparameters: this model and configuration is not one of the 1 allowed candidates; answer with one of them exactly',
  ]);
});
