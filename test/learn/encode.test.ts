import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeValue, encodeRows, fitEncoder, type EncodedRow } from '../../src/learn/encode.ts';
import type { DatasetProfile, SearchSpace } from '../../src/core/index.ts';

const profile = (name: string, n: number): DatasetProfile => ({
  name,
  task: 'multiclass',
  modality: 'ct',
  numInstances: n,
  numClasses: 4,
});
const space: SearchSpace = {
  parameters: [
    { name: 'lr', type: 'float', low: 1e-5, high: 1e-1, log: true },
    { name: 'opt', type: 'categorical', choices: ['sgd', 'adam'] },
    {
      name: 'momentum',
      type: 'float',
      low: 0,
      high: 1,
      log: false,
      condition: { parent: 'opt', values: ['sgd'] },
    },
    { name: 'amp', type: 'bool' },
  ],
};
const rows: EncodedRow[] = [
  {
    profile: profile('a', 1000),
    model: 'resnet18',
    card: { id: 'resnet18', family: 'resnet', architecture: 'cnn', params: 1e7 },
    config: { lr: 1e-3, opt: 'sgd', momentum: 0.9, amp: true },
  },
  {
    profile: profile('b', 100),
    model: 'vit',
    card: { id: 'vit', family: 'vit', architecture: 'transformer', params: 1e8 },
    config: { lr: 1e-4, opt: 'adam', amp: false },
  },
  {
    profile: profile('b', 100),
    model: 'vit',
    card: { id: 'vit', family: 'vit', architecture: 'transformer', params: 1e8 },
    config: { lr: 1e-2, opt: 'sgd', momentum: 0.5, amp: false },
  },
];

test('features keep readable names; constant ones are dropped', () => {
  const spec = fitEncoder(rows, space);
  const names = spec.features.map((f) => f.name);
  assert.deepEqual(names, [
    'n_instances',
    'instances_per_class',
    'model',
    'model_family',
    'model_architecture',
    'model_params',
    'lr',
    'opt',
    'momentum',
    'amp',
  ]);
  assert.ok(
    !names.includes('n_classes'),
    'the same number of classes everywhere carries no information',
  );
});

test('log10 for log scales, codes for categories, NaN for inactive parameters and unknown categories', () => {
  const spec = fitEncoder(rows, space);
  const f = spec.features.length;
  const at = (X: Float64Array, r: number, name: string) =>
    X[r * f + spec.features.findIndex((s) => s.name === name)];
  const X = encodeRows(spec, rows);
  assert.equal(at(X, 0, 'lr'), -3);
  assert.equal(at(X, 0, 'n_instances'), 3);
  assert.equal(at(X, 0, 'model_params'), 7);
  assert.equal(
    at(X, 0, 'opt'),
    spec.features.find((s) => s.name === 'opt')!.categories!.indexOf('sgd'),
  );
  assert.equal(at(X, 0, 'momentum'), 0.9);
  assert.ok(Number.isNaN(at(X, 1, 'momentum')), 'momentum is inactive with adam');
  assert.equal(at(X, 0, 'amp'), 1);
  const unseen = encodeRows(spec, [{ ...rows[0], model: 'convnext', card: undefined }]);
  assert.ok(Number.isNaN(at(unseen, 0, 'model')));
  assert.ok(Number.isNaN(at(unseen, 0, 'model_params')));
  const lr = spec.features.find((s) => s.name === 'lr')!;
  assert.ok(Math.abs((decodeValue(lr, -3) as number) - 1e-3) < 1e-15);
  assert.equal(
    decodeValue(
      spec.features.find((s) => s.name === 'model')!,
      0,
    ),
    'resnet18',
  );
});
