import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetallmixError } from '../../src/core/errors.ts';
import {
  featureEffects,
  formatValue,
  globalImportance,
  interactionEffects,
  insightSentences,
  strongestInteractions,
  type FeatureDisplay,
} from '../../src/explain/index.ts';

const features: FeatureDisplay[] = [
  { name: 'lr', kind: 'numeric', log: true },
  { name: 'model', kind: 'categorical', categories: ['resnet50', 'vit_b16'] },
  { name: 'momentum', kind: 'numeric' },
  { name: 'n_instances', kind: 'numeric', log: true },
];
const F = features.length;

// 100 runs: 20 at each learning rate; its SHAP value depends on the rate, more strongly on small
// datasets (n_instances 1,000 for even rows, 10,000 for odd rows). momentum is unset in 30 rows.
const lrs = [1e-5, 1e-4, 3e-4, 1e-3, 1e-2];
const lrShap = [-0.01, 0.02, 0.02, -0.005, -0.03];
const n = 100;
const X = new Float64Array(n * F);
const values = new Float64Array(n * F);
for (let r = 0; r < n; r++) {
  const k = r % 5;
  const small = Math.floor(r / 5) % 2 === 0;
  X[r * F] = Math.log10(lrs[k]);
  values[r * F] = lrShap[k] * (small ? 1.5 : 0.5);
  X[r * F + 1] = r % 2;
  values[r * F + 1] = r % 2 ? -0.004 : 0.006;
  X[r * F + 2] = r < 30 ? NaN : 0.9;
  values[r * F + 2] = r < 30 ? -0.001 : 0.0005;
  X[r * F + 3] = small ? 3 : 4;
  values[r * F + 3] = 0;
}

test('globalImportance ranks features by mean |SHAP| with stable ids', () => {
  const imp = globalImportance(
    values,
    features.map((f) => f.name),
  );
  assert.deepEqual(
    imp.map((i) => [i.id, i.rank]),
    [
      ['insight:importance:lr', 1],
      ['insight:importance:model', 2],
      ['insight:importance:momentum', 3],
      ['insight:importance:n_instances', 4],
    ],
  );
  assert.ok(Math.abs(imp[0].magnitude - (0.01 + 0.02 + 0.02 + 0.005 + 0.03) / 5) < 1e-12);
  assert.equal(imp[0].support, 100);
});

test('featureEffects: merged quantile ranges in display units, categories, unset values', () => {
  const effects = featureEffects({ values, X, features }, { top: 3 });
  const lr = effects.filter((e) => e.features[0] === 'lr');
  assert.deepEqual(
    lr.map((e) => [e.id, e.direction, e.support]),
    [
      ['insight:effect:lr:0', 'negative', 20],
      ['insight:effect:lr:1', 'positive', 40],
      ['insight:effect:lr:2', 'negative', 40],
    ],
  );
  const up = lr[1];
  assert.equal(up.range?.kind, 'interval');
  if (up.range?.kind === 'interval') {
    assert.ok(Math.abs(up.range.low - 1e-4) < 1e-12 && Math.abs(up.range.high - 3e-4) < 1e-12);
  }
  assert.ok(Math.abs(up.magnitude - 0.02) < 1e-12);
  assert.equal(lr[1].rank, 1, 'the largest mean contribution ranks first');

  const model = effects.filter((e) => e.features[0] === 'model');
  assert.deepEqual(
    model.map((e) => [e.range, e.direction]),
    [
      [{ kind: 'categories', categories: ['resnet50'] }, 'positive'],
      [{ kind: 'categories', categories: ['vit_b16'] }, 'negative'],
    ],
  );
  const momentum = effects.filter((e) => e.features[0] === 'momentum');
  assert.deepEqual(
    momentum.map((e) => [e.range?.kind, e.direction, e.support]),
    [
      ['interval', 'positive', 70],
      ['missing', 'negative', 30],
    ],
  );
});

test('featureEffects conditioned on another feature range, and its sentences', () => {
  const condition = { feature: 'n_instances', high: 5000 };
  const effects = featureEffects({ values, X, features }, { features: ['lr'], condition });
  assert.equal(effects[1].id, 'insight:effect:lr:given:n_instances<5000:1');
  assert.equal(effects[1].support, 20);
  assert.ok(Math.abs(effects[1].magnitude - 0.03) < 1e-12);
  const sentences = insightSentences(effects, { metricName: 'accuracy points', scale: 100 });
  assert.deepEqual(sentences[1], {
    id: 'insight:effect:lr:given:n_instances<5000:1',
    text: 'lr from 1e-4 to 3e-4 adds about +3 accuracy points for n_instances under 5,000 (n=20 runs)',
  });
  assert.equal(
    sentences[2].text,
    'lr from 0.001 to 0.01 costs about 2.6 accuracy points for n_instances under 5,000 (n=20 runs)',
  );
});

test('strongestInteractions reads the (F+1) x (F+1) layout and ranks pairs', () => {
  // Two features (W = 3), two rows; phi_01 + phi_10 is 0.2 and -0.4 -> mean |.| = 0.3.
  const I = Float64Array.from(
    [
      [0.5, 0.1, 0, 0.1, 0.2, 0, 0, 0, 1],
      [0.1, -0.2, 0, -0.2, 0.3, 0, 0, 0, 1],
    ].flat(),
  );
  const pairs = strongestInteractions(I, ['lr', 'batch_size']);
  assert.equal(pairs.length, 1);
  assert.equal(pairs[0].id, 'insight:interaction:lr:batch_size');
  assert.ok(Math.abs(pairs[0].magnitude - 0.3) < 1e-12);
  assert.equal(
    insightSentences(pairs, { metricName: 'accuracy points', scale: 100 })[0].text,
    'lr and batch_size interact: together they move the prediction by about 30 accuracy points beyond their separate effects, on average (n=2 runs)',
  );
});

test('importance sentences and number formatting', () => {
  const [top] = globalImportance(
    values,
    features.map((f) => f.name),
  );
  assert.equal(
    insightSentences([top], { metricName: 'accuracy points', scale: 100, rowNoun: 'trials' })[0]
      .text,
    'lr moves the prediction by about 1.7 accuracy points on average (importance rank 1, n=100 trials)',
  );
  assert.deepEqual([1e-4, 3.2e-4, 0.25, 12.345, 4873, 2.5e6, 0].map(formatValue), [
    '1e-4',
    '3.2e-4',
    '0.25',
    '12.3',
    '4,870',
    '2.5e+6',
    '0',
  ]);
});

test('insight inputs of the wrong shape or naming unknown features are MetallmixErrors', () => {
  const names = features.map((f) => f.name);
  const isError = (re: RegExp) => (e: unknown) => e instanceof MetallmixError && re.test(e.message);
  assert.throws(() => globalImportance(new Float64Array(7), names), isError(/7 values/));
  assert.throws(
    () => featureEffects({ values, X: X.subarray(4), features }),
    isError(/expected 400 values \(100 rows x 4 features\), got 396/),
  );
  assert.throws(
    () => featureEffects({ values, X, features }, { condition: { feature: 'size', high: 1 } }),
    isError(/field "condition.feature": condition: unknown feature "size"/),
  );
  assert.throws(
    () => featureEffects({ values, X, features }, { features: ['batch'] }),
    isError(/unknown feature "batch"/),
  );
});

test('interactionEffects splits rows at the partner feature median (rounded) or its categories', () => {
  const pair = {
    id: 'insight:interaction:lr:n_instances',
    kind: 'interaction' as const,
    features: ['lr', 'n_instances'],
    direction: 'mixed' as const,
    magnitude: 0.01,
    support: n,
    rank: 1,
  };
  const effects = interactionEffects({ values, X, features }, [pair]);
  const conditions = [...new Set(effects.map((e) => JSON.stringify(e.condition)))];
  // Median n_instances is 10,000 (half the rows at 1,000, half at 10,000).
  assert.deepEqual(conditions, [
    JSON.stringify({ feature: 'n_instances', high: 10000 }),
    JSON.stringify({ feature: 'n_instances', low: 10000 }),
  ]);
  const small = effects.filter((e) => e.condition?.high === 10000);
  assert.ok(Math.abs(small[1].magnitude - 0.03) < 1e-12, 'small datasets: 1.5 x 0.02');
  const byModel = interactionEffects({ values, X, features }, [
    { ...pair, features: ['lr', 'model'] },
  ]);
  assert.deepEqual(
    [...new Set(byModel.map((e) => e.condition?.categories?.[0]))],
    ['resnet50', 'vit_b16'],
  );
});
