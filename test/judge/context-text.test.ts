import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SearchSpace } from '../../src/core/index.ts';
import {
  contextValues,
  formatNumber,
  renderModels,
  renderProfile,
  renderSpace,
} from '../../src/judge/index.ts';
import { makeContext } from './fixture.ts';

test('numbers keep at most 4 significant digits in plain notation', () => {
  assert.deepEqual([3e-4, 1e-5, 0.123456, 2121.3203, 86e6, 0].map(formatNumber), [
    '0.0003',
    '0.00001',
    '0.1235',
    '2121',
    '86000000',
    '0',
  ]);
});

test('profile, models and space render one line per item, conditions included', () => {
  const ctx = makeContext({
    space: SearchSpace.parse({
      parameters: [
        { name: 'optimizer', type: 'categorical', choices: ['adam', 'sgd'] },
        {
          name: 'momentum',
          type: 'float',
          low: 0,
          high: 0.99,
          condition: { parent: 'optimizer', values: ['sgd'] },
          description: 'SGD momentum',
        },
        { name: 'augment', type: 'bool' },
      ],
    }),
  });
  assert.equal(
    renderSpace(ctx),
    [
      '- optimizer: one of "adam", "sgd"',
      '- momentum: number from 0 to 0.99 (only when optimizer is "sgd"); SGD momentum',
      '- augment: true or false',
    ].join('\n'),
  );
  assert.equal(
    renderModels(ctx),
    '- resnet50 (cnn, 25.6M parameters)\n- vit_b16 (transformer, 86M parameters, pretrained on imagenet-21k)',
  );
  assert.match(renderProfile(ctx), /^- name: pneumonia-test\n- task: binary\n- modality: xray/);
  assert.match(renderProfile(ctx), /- median resolution: 1024x1024 pixels\n- channels: 1$/);
});

test('empty evidence, insights, shortlist and no budget are said, not left blank', () => {
  const v = contextValues(
    makeContext({ evidence: [], insights: [], shortlist: [], budgetMinutes: undefined }),
  );
  assert.equal(v.evidence, '(no past experiments retrieved)');
  assert.equal(v.insights, '(no insights)');
  assert.equal(v.shortlist, '(no candidates)');
  assert.equal(v.budget, 'none');
});
