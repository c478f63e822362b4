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
    'The meta-learner recommends vit_b16 with learning_rate=0.0003, batch_size=32, optimizer="adam" for pneumonia-test [candidate:1], predicting accuracy 0.89 [0.86, 0.92] and a training time of 2121 [1697, 2546] s. ' +
      'No other candidate is both more accurate and faster (Pareto front). ' +
      'Its prediction rests mainly on: modality = xray raises the predicted accuracy by 0.021; learning_rate = 0.0003 lowers the predicted accuracy by 0.008; numInstances = 5000 raises the predicted accuracy by 0.004. ' +
      'Closest past evidence: [run:chestx-12] vit_b16 on chestx reached 0.91 (similarity 0.93); [dataset:chestx] chestx: x-ray, 2 classes, best vit_b16 0.91 (similarity 0.93); [run:derma-3] resnet50 on derma reached 0.78 (similarity 0.61). ' +
      'Insights of the meta-learner: [insight:lr] learning_rate near 3e-4 raises predicted accuracy for transformers.',
  );
  assert.equal(writeJustification(context, pick), text, 'deterministic');
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
