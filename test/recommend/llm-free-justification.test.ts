import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkProposal } from '../../src/judge/index.ts';
import { writeJustification } from '../../src/recommend/reasoning/llm-free-justification.ts';
import { makeContext, validProposal } from '../judge/fixture.ts';

const context = makeContext();
const pick = context.shortlist[0];

test('the no-LLM justification explains the pick from its SHAP values, evidence and insights', () => {
  const text = writeJustification(context, pick);
  assert.equal(
    text,
    // Points for the metric and the SHAP values (the report's unit), minutes for the time:
    // 0.89 -> 89.0; 1500 s * sqrt(64 / 32) = 2121 s = 35 min (28 to 42 for the +-20% interval).
    'The meta-learner recommends vit_b16 with learning_rate=0.0003, batch_size=32, optimizer="adam" for pneumonia-test [candidate:1], predicting accuracy 89.0 points (80% interval 86.0 to 92.0) and a training time of 35 min (28 to 42). ' +
      'No other candidate is both more accurate and faster (Pareto front). ' +
      'Its prediction rests mainly on: modality = xray raises the predicted accuracy by 0.021 points; learning_rate = 0.0003 lowers the predicted accuracy by 0.008 points; numInstances = 5000 raises the predicted accuracy by 0.004 points. ' +
      'Closest past evidence: [run:chestx-12] (similarity 0.93); [dataset:chestx] (similarity 0.93); [run:derma-3] (similarity 0.61). ' +
      'Insights of the meta-learner: [insight:lr] learning_rate near 3e-4 raises predicted accuracy for transformers.',
  );
  assert.equal(writeJustification(context, pick), text, 'deterministic');
});

test('evidence outcomes are given in points beside the ids', () => {
  const text = writeJustification(
    makeContext({
      evidence: [
        {
          id: 'dataset:chestx',
          kind: 'dataset',
          dataset: 'chestx',
          similarity: 0.934,
          summary: 'chestx: x-ray, 2 classes',
          text: 'chestx: x-ray, 2 classes',
          outcome: { metric: 'accuracy', best: 0.9125, median: 0.88, runs: 12 },
        },
        {
          id: 'run:derma-3',
          kind: 'run',
          dataset: 'derma',
          similarity: 0.61,
          model: 'resnet50',
          summary: 'resnet50 on derma reached 0.78',
          text: 'resnet50 on derma reached 0.78',
          outcome: { metric: 'accuracy', value: 0.78, rank: 3 },
        },
      ],
    }),
    { ...pick, evidence: [] },
  );
  assert.match(
    text,
    /Closest past evidence: \[dataset:chestx\] \(similarity 0\.93, best 91\.3 points over 12 runs\); \[run:derma-3\] \(similarity 0\.61, resnet50 78\.0 points, rank 3\)\./,
  );
  assert.doesNotMatch(text, /0\.9125|0\.78\b/, 'no fractions beside points');
});

test('its citations pass the judge rules', () => {
  const justification = writeJustification(context, pick);
  assert.deepEqual(
    checkProposal(context, validProposal({ justification, citedEvidence: [] })).violations,
    [],
  );
});

test('extrapolated parameters are said; without contributions the explanation text is used', () => {
  const text = writeJustification(makeContext({ evidence: [], insights: [] }), {
    ...pick,
    onParetoFront: false,
    extrapolated: ['batch_size'],
    explanation: [],
    evidence: [],
  });
  assert.match(text, /batch_size lies outside the range observed in the knowledge base/);
  assert.match(text, /vit_b16 does well on x-ray datasets of this size\.$/);
  assert.doesNotMatch(text, /Closest past evidence|Insights|Pareto/);
});
