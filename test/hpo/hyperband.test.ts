import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, type Config, type SearchSpace } from '../../src/core/index.ts';
import {
  hyperbandBrackets,
  incumbent,
  runHyperband,
  runSuccessiveHalving,
  successiveHalvingBracket,
} from '../../src/hpo/index.ts';

const SPACE: SearchSpace = {
  parameters: [{ name: 'x', type: 'float', low: 0, high: 1, log: false }],
};
// Value at a budget grows towards 1 - (x - 0.7)^2, so late rungs rank configs by x.
const objective = (c: Config, budget = 81) =>
  (1 - ((c.x as number) - 0.7) ** 2) * (1 - Math.exp(-budget / 10));

test('Hyperband brackets for R = 81, eta = 3 are those of Li et al. (2017), table 1', () => {
  const table = hyperbandBrackets({ maxBudget: 81, minBudget: 1, eta: 3 }).map((b) => [
    b.s,
    b.rungs.map((r) => [r.nConfigs, r.budget]),
  ]);
  assert.deepEqual(table, [
    [
      4,
      [
        [81, 1],
        [27, 3],
        [9, 9],
        [3, 27],
        [1, 81],
      ],
    ],
    [
      3,
      [
        [34, 3],
        [11, 9],
        [3, 27],
        [1, 81],
      ],
    ],
    [
      2,
      [
        [15, 9],
        [5, 27],
        [1, 81],
      ],
    ],
    [
      1,
      [
        [8, 27],
        [2, 81],
      ],
    ],
    [0, [[5, 81]]],
  ]);
});

test('successive halving bracket and a non-power budget range', () => {
  const sh = successiveHalvingBracket({ maxBudget: 27, minBudget: 1, eta: 3 });
  assert.deepEqual(
    sh.rungs.map((r) => [r.nConfigs, r.budget]),
    [
      [27, 1],
      [9, 3],
      [3, 9],
      [1, 27],
    ],
  );
  const hb = hyperbandBrackets({ maxBudget: 50, minBudget: 1, eta: 3 });
  // s_max = floor(log3 50) = 3; the first bracket starts 27 configs at 50 / 27 epochs.
  assert.equal(hb.length, 4);
  assert.deepEqual(
    hb[0].rungs.map((r) => r.nConfigs),
    [27, 9, 3, 1],
  );
  assert.ok(Math.abs(hb[0].rungs[0].budget - 50 / 27) < 1e-12);
  assert.throws(() => hyperbandBrackets({ maxBudget: 1, minBudget: 2 }), RangeError);
});

test('runHyperband evaluates exactly the schedule, promotes the best, and is seeded', () => {
  const run = (seed: number) =>
    runHyperband({
      space: SPACE,
      objective,
      direction: 'maximize',
      rng: new Rng(seed),
      maxBudget: 81,
      eta: 3,
    });
  const result = run(5);
  const perBudget = new Map<number, number>();
  for (const e of result.evaluations) perBudget.set(e.budget!, (perBudget.get(e.budget!) ?? 0) + 1);
  // Sum over brackets of the configs evaluated at each budget.
  assert.deepEqual(Object.fromEntries(perBudget), {
    1: 81,
    3: 27 + 34,
    9: 9 + 11 + 15,
    27: 3 + 3 + 5 + 8,
    81: 1 + 1 + 1 + 2 + 5,
  });
  // Promotion: the config surviving to budget 3 in bracket 0 are the best 27 of the first 81.
  const first = result.evaluations
    .slice(0, 81)
    .sort((a, b) => b.value - a.value)
    .slice(0, 27);
  const promoted = result.evaluations.slice(81, 108).map((e) => e.config.x);
  assert.deepEqual(new Set(promoted), new Set(first.map((e) => e.config.x)));
  assert.equal(result.best?.budget, 81);
  assert.ok(Math.abs((result.best!.config.x as number) - 0.7) < 0.1);
  assert.deepEqual(run(5).evaluations, result.evaluations);
  assert.notDeepEqual(run(6).evaluations, result.evaluations);
});

test('a total budget cap stops the run and repeats successive halving while budget remains', () => {
  const result = runSuccessiveHalving({
    space: SPACE,
    objective,
    direction: 'maximize',
    rng: new Rng(1),
    maxBudget: 27,
    eta: 3,
    maxTotalBudget: 5 * 27,
  });
  const spent = result.evaluations.reduce((s, e) => s + e.budget!, 0);
  assert.ok(spent <= 5 * 27, `spent ${spent}`);
  // One bracket costs 27 + 27 + 27 + 27 = 108, so a second one starts and is cut short.
  assert.ok(result.evaluations.length > 40);
  const capped = runSuccessiveHalving({
    space: SPACE,
    objective,
    direction: 'maximize',
    rng: new Rng(1),
    maxBudget: 27,
    maxConfigs: 4,
  });
  assert.equal(capped.evaluations.filter((e) => e.budget === 1).length, 4);
});

test('incumbent: the best evaluation at the highest budget reached, skipping failures', () => {
  const e = (
    number: number,
    value: number,
    budget: number,
    status: 'complete' | 'pruned' | 'failed' = 'pruned',
  ) => ({
    number,
    config: { x: number },
    value,
    budget,
    status,
  });
  assert.equal(
    incumbent([e(0, 0.9, 1), e(1, 0.5, 3), e(2, 0.6, 3), e(3, NaN, 9, 'failed')], 'maximize')
      ?.number,
    2,
  );
  assert.equal(incumbent([e(0, 0.9, 1), e(1, 0.5, 3), e(2, 0.6, 3)], 'minimize')?.number, 1);
  assert.equal(incumbent([], 'maximize'), undefined);
});
