import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetallmixError, Rng, configViolations, type SearchSpace } from '../../src/core/index.ts';
import {
  RandomSampler,
  Study,
  TpeSampler,
  defaultGamma,
  orderedParameters,
  rankTrials,
  runSearch,
  type Trial,
} from '../../src/hpo/index.ts';
import { observationWeights } from '../../src/hpo/parzen.ts';
import { normalQuantile, sampleTruncatedStandardNormal } from '../../src/hpo/gaussian.ts';

// Children listed before their parents on purpose: samplers must order them.
const SPACE: SearchSpace = {
  parameters: [
    {
      name: 'momentum',
      type: 'float',
      low: 0.5,
      high: 0.99,
      log: false,
      condition: { parent: 'optimizer', values: ['sgd'] },
    },
    {
      name: 'nesterov',
      type: 'bool',
      condition: { parent: 'optimizer', values: ['sgd'] },
    },
    { name: 'optimizer', type: 'categorical', choices: ['sgd', 'adam'] },
    { name: 'lr', type: 'float', low: 1e-5, high: 1e-1, log: true },
    { name: 'batch', type: 'int', low: 8, high: 512, log: true },
    { name: 'layers', type: 'int', low: 1, high: 4, log: false },
    { name: 'dropout', type: 'float', low: 0, high: 0.5, log: false },
  ],
};

/** Smooth objective with its minimum at lr = 1e-3, batch = 64, dropout = 0.1, adam. */
function objective(c: Record<string, unknown>): number {
  return (
    (Math.log10(c.lr as number) + 3) ** 2 +
    0.1 * (Math.log2(c.batch as number) - 6) ** 2 +
    10 * ((c.dropout as number) - 0.1) ** 2 +
    (c.optimizer === 'adam' ? 0 : 0.5) +
    0.05 * (c.layers as number)
  );
}

test('orderedParameters puts parents first and rejects unknown parents, cycles, duplicates', () => {
  const names = orderedParameters(SPACE).map((p) => p.name);
  assert.ok(names.indexOf('optimizer') < names.indexOf('momentum'));
  assert.ok(names.indexOf('optimizer') < names.indexOf('nesterov'));
  const bad = (parameters: SearchSpace['parameters'], re: RegExp) =>
    assert.throws(
      () => orderedParameters({ parameters }),
      (e: unknown) => e instanceof MetallmixError && re.test(e.message),
    );
  bad(
    [{ name: 'a', type: 'bool', condition: { parent: 'zz', values: [true] } }],
    /field "a.condition.parent".*unknown parameter "zz"/,
  );
  bad(
    [
      { name: 'a', type: 'bool', condition: { parent: 'b', values: [true] } },
      { name: 'b', type: 'bool', condition: { parent: 'a', values: [true] } },
    ],
    /cycle/,
  );
  bad(
    [
      { name: 'a', type: 'bool' },
      { name: 'a', type: 'bool' },
    ],
    /defined twice/,
  );
});

for (const sampler of [new RandomSampler(), new TpeSampler({ nStartupTrials: 5 })]) {
  test(`${sampler.name}: configs stay inside the space and respect conditions`, () => {
    const { trials } = runSearch({
      space: SPACE,
      sampler,
      direction: 'minimize',
      rng: new Rng(3),
      nTrials: 60,
      objective,
    });
    let sgd = 0;
    for (const t of trials) {
      assert.deepEqual(configViolations(SPACE, t.config), [], JSON.stringify(t.config));
      assert.ok(Number.isInteger(t.config.batch) && Number.isInteger(t.config.layers));
      if (t.config.optimizer === 'sgd') sgd++;
      else assert.equal(t.config.momentum, undefined);
    }
    assert.ok(sgd > 0, 'the conditional branch was never explored');
  });

  test(`${sampler.name}: the same seed gives the same trials, another seed others`, () => {
    const run = (seed: number) =>
      runSearch({
        space: SPACE,
        sampler,
        direction: 'minimize',
        rng: new Rng(seed),
        nTrials: 25,
        objective,
      }).trials;
    assert.deepEqual(run(11), run(11));
    assert.notDeepEqual(run(11), run(12));
  });
}

test('TPE finds better configs than random search on a smooth objective (mean over seeds)', () => {
  const mean = (sampler: RandomSampler | TpeSampler) => {
    let sum = 0;
    for (let seed = 0; seed < 8; seed++)
      sum += runSearch({
        space: SPACE,
        sampler,
        direction: 'minimize',
        rng: new Rng(seed),
        nTrials: 40,
        objective,
      }).best!.value;
    return sum / 8;
  };
  const tpe = mean(new TpeSampler());
  const random = mean(new RandomSampler());
  assert.ok(tpe < random, `TPE ${tpe} vs random ${random}`);
});

test("Optuna's defaults: gamma and observation weights", () => {
  assert.deepEqual([1, 10, 11, 100, 251, 1000].map(defaultGamma), [1, 1, 2, 10, 25, 25]);
  assert.deepEqual(observationWeights(3), [1, 1, 1]);
  const w = observationWeights(30);
  assert.equal(w.length, 30);
  assert.ok(Math.abs(w[0] - 1 / 30) < 1e-12);
  assert.equal(w[4], 1);
  assert.deepEqual(w.slice(5), Array(25).fill(1));
  assert.deepEqual(observationWeights(26), [1 / 26, ...Array(25).fill(1)]);
});

test('rankTrials: complete by value, then pruned by budget, failed dropped, stable on ties', () => {
  const t = (number: number, value: number, status: Trial['status'], budget?: number): Trial => ({
    number,
    config: {},
    value,
    status,
    budget,
  });
  const trials = [
    t(0, 5, 'complete'),
    t(1, 1, 'pruned', 3),
    t(2, 2, 'complete'),
    t(3, 0, 'failed'),
    t(4, 2, 'complete'),
    t(5, 0.5, 'pruned', 9),
  ];
  assert.deepEqual(
    rankTrials(trials, 'minimize').map((x) => x.number),
    [2, 4, 0, 5, 1],
  );
  assert.deepEqual(
    rankTrials(trials, 'maximize').map((x) => x.number),
    [0, 2, 4, 5, 1],
  );
});

test('Study: ask/tell records told values, NaN as failed, and rejects unknown trials', () => {
  const study = new Study({
    space: SPACE,
    sampler: new RandomSampler(),
    direction: 'maximize',
    rng: new Rng(1),
  });
  const a = study.ask();
  const b = study.ask();
  study.tell(b.number, 3);
  study.tell(a.number, NaN);
  assert.deepEqual(
    study.trials.map((x) => [x.number, x.status]),
    [
      [1, 'complete'],
      [0, 'failed'],
    ],
  );
  assert.equal(study.best()?.number, 1);
  assert.throws(() => study.tell(a.number, 1), /not asked or was already told/);
});

test('truncated normal draws stay in bounds and have the truncated mean', () => {
  const rng = new Rng(4);
  let sum = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const z = sampleTruncatedStandardNormal(-1, 2, rng);
    assert.ok(z >= -1 && z <= 2);
    sum += z;
  }
  // (phi(-1) - phi(2)) / (Phi(2) - Phi(-1)) = 0.2296
  assert.ok(Math.abs(sum / n - 0.2296) < 0.02, `mean ${sum / n}`);
  for (let i = 0; i < 200; i++) {
    const z = sampleTruncatedStandardNormal(5, 6, rng);
    assert.ok(z >= 5 && z <= 6, `tail draw ${z}`);
  }
  assert.ok(Math.abs(normalQuantile(0.975) - 1.959964) < 1e-5);
});
