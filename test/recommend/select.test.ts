import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  orderByObjective,
  paretoFront,
  pickUnderBudget,
  type Scored,
} from '../../src/recommend/select.ts';
import { generateCandidates, extrapolatedParameters } from '../../src/recommend/candidates.ts';
import { Rng, type SearchSpace } from '../../src/core/index.ts';

const iv = (mean: number, half = 0) => ({ mean, low: mean - half, high: mean + half });
// index: score (± half-width), time
const items: Scored[] = [
  { index: 0, score: iv(10, 1), timeSec: iv(100) },
  { index: 1, score: iv(9.5, 1), timeSec: iv(40) }, // reaches the best mean: balanced picks it
  { index: 2, score: iv(5, 1), timeSec: iv(10) },
  { index: 3, score: iv(4, 1), timeSec: iv(50) }, // dominated by 2
];

test('objectives: best, balanced (fastest not credibly worse), fastest (at least median)', () => {
  assert.deepEqual(
    orderByObjective(items, 'best').map((s) => s.index),
    [0, 1, 2, 3],
  );
  assert.deepEqual(
    orderByObjective(items, 'balanced').map((s) => s.index),
    [1, 0, 2, 3],
  );
  // median score (of 10, 9.5, 5, 4 sorted desc, lower middle) = 9.5: eligible 0 and 1, fastest first.
  assert.deepEqual(
    orderByObjective(items, 'fastest').map((s) => s.index),
    [1, 0, 2, 3],
  );
  const untimed = items.map(({ index, score }) => ({ index, score }));
  assert.deepEqual(
    orderByObjective(untimed, 'balanced').map((s) => s.index),
    [0, 1, 2, 3],
    'no times: falls back to best',
  );
});

test('Pareto front and budget pick', () => {
  assert.deepEqual(
    paretoFront(items).map((s) => s.index),
    [2, 1, 0],
  );
  assert.equal(pickUnderBudget(orderByObjective(items, 'best'), 45)?.index, 1);
  assert.equal(pickUnderBudget(items, 5), undefined);
});

const space: SearchSpace = {
  parameters: [
    { name: 'strategy', type: 'categorical', choices: ['LP', 'full', 'partial'] },
    {
      name: 'unfreeze_pct',
      type: 'int',
      low: 20,
      high: 60,
      log: false,
      condition: { parent: 'strategy', values: ['partial'] },
    },
    {
      name: 'direction',
      type: 'categorical',
      choices: ['start', 'end'],
      condition: { parent: 'strategy', values: ['partial'] },
    },
  ],
};
const past = [
  { model: 'a', config: { strategy: 'LP' } },
  { model: 'a', config: { strategy: 'full' } },
  ...[20, 40, 60].flatMap((u) =>
    ['start', 'end'].map((d) => ({
      model: 'a',
      config: { strategy: 'partial', unfreeze_pct: u, direction: d },
    })),
  ),
];

test('a design grid is enumerated on its observed values, respecting conditions', () => {
  const c = generateCandidates(space, ['a', 'b'], past, { maxCandidates: 1000, rng: new Rng(1) });
  assert.equal(c.length, 16, '8 configurations x 2 models');
  assert.ok(c.every((x) => x.config.strategy === 'partial' || Object.keys(x.config).length === 1));
});

test('wide ranges are sampled inside the observed range, deterministically', () => {
  const wide: SearchSpace = {
    parameters: [{ name: 'lr', type: 'float', low: 1e-5, high: 1e-1, log: true }],
  };
  const seen = Array.from({ length: 30 }, (_, i) => ({
    model: 'm',
    config: { lr: 1e-4 * (1 + i) },
  }));
  const a = generateCandidates(wide, ['m'], seen, { maxCandidates: 200, rng: new Rng(3) });
  const b = generateCandidates(wide, ['m'], seen, { maxCandidates: 200, rng: new Rng(3) });
  assert.deepEqual(a, b);
  assert.equal(a.length, 230);
  assert.ok(a.every((x) => (x.config.lr as number) >= 1e-5 && (x.config.lr as number) <= 1e-1));
  assert.deepEqual(extrapolatedParameters(wide, { lr: 0.5 }), ['lr']);
  assert.deepEqual(extrapolatedParameters(wide, { lr: 0.01 }), []);
});
