import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetallmixError, type ExperimentRecord, type SearchSpace } from '../../src/core/index.ts';
import {
  LookupIndex,
  lookupProblemsFromRecords,
  searchOnLookup,
  syntheticLookupProblems,
  type LookupProblem,
} from '../../src/hpo/index.ts';

const SPACE: SearchSpace = {
  parameters: [
    { name: 'lr', type: 'float', low: 1e-4, high: 1, log: true },
    { name: 'opt', type: 'categorical', choices: ['sgd', 'adam'] },
    {
      name: 'momentum',
      type: 'float',
      low: 0,
      high: 1,
      log: false,
      condition: { parent: 'opt', values: ['sgd'] },
    },
  ],
};

const PROBLEM: LookupProblem = {
  name: 'hand-made',
  space: SPACE,
  candidates: [
    { config: { lr: 1e-3, opt: 'adam' }, value: 0.6 },
    { config: { lr: 1e-2, opt: 'adam' }, value: 0.9 },
    { config: { lr: 1e-2, opt: 'sgd', momentum: 0.9 }, value: 0.7 },
    { config: { lr: 0.1, opt: 'sgd', momentum: 0.5 }, value: 0.2 },
  ],
};

test('snapping: nearest unevaluated candidate, log scale, categorical mismatch, inactive params', () => {
  const index = new LookupIndex(PROBLEM);
  // 3e-3 is nearer to 1e-3 than to 1e-2 on the log scale (not on the linear one).
  assert.equal(index.nearestUnused({ lr: 3e-3, opt: 'adam' }, new Set()), 0);
  assert.equal(index.nearestUnused({ lr: 4e-3, opt: 'adam' }, new Set()), 1);
  assert.equal(index.nearestUnused({ lr: 3e-3, opt: 'adam' }, new Set([0])), 1);
  // sgd with momentum 0.9: candidate 2 matches opt and momentum; an adam candidate pays 1 for
  // the opt mismatch and 1 for momentum being inactive there.
  assert.equal(index.nearestUnused({ lr: 1e-3, opt: 'sgd', momentum: 0.9 }, new Set()), 2);
  assert.equal(index.nearestUnused({ lr: 1e-3, opt: 'sgd', momentum: 0.9 }, new Set([2, 3])), 0);
  // Equal distances (lr halfway between 1e-3 and 1e-2 on the log scale): the first listed wins.
  assert.equal(index.nearestUnused({ lr: Math.sqrt(1e-5), opt: 'adam' }, new Set()), 0);
  assert.throws(
    () => index.nearestUnused({ lr: 1e-3, opt: 'adam' }, new Set([0, 1, 2, 3])),
    /every candidate/,
  );
});

test('bad lookup problems are MetallmixErrors naming the field', () => {
  const bad = (problem: unknown, re: RegExp) =>
    assert.throws(
      () => new LookupIndex(problem, 'p.json'),
      (e: unknown) => e instanceof MetallmixError && re.test(e.message),
    );
  bad({ ...PROBLEM, candidates: [] }, /p\.json.*candidates/);
  bad(
    { ...PROBLEM, candidates: [{ config: { lr: 5, opt: 'adam' }, value: 1 }] },
    /field "candidates\.0\.config\.lr".*outside/,
  );
  bad(
    { ...PROBLEM, candidates: [{ config: { lr: 1e-3, opt: 'adam', momentum: 0.1 }, value: 1 }] },
    /momentum: set although/,
  );
  bad(
    { ...PROBLEM, candidates: [PROBLEM.candidates[0], { ...PROBLEM.candidates[0], value: 0.1 }] },
    /candidates 0 and 1 have the same config/,
  );
  bad(
    { ...PROBLEM, candidates: [{ config: { lr: 1e-3, opt: 'adam' }, value: 'high' }] },
    /candidates\.0\.value/,
  );
  assert.throws(
    () => searchOnLookup(PROBLEM, 'hyperband', 2, 0),
    /needs per-budget results.*candidate 0 has none/,
  );
});

test('searchOnLookup: seeded, each candidate at most once, regrets non-increasing, capped trials', () => {
  const [problem] = syntheticLookupProblems({
    count: 1,
    seed: 3,
    minCandidates: 60,
    maxCandidates: 60,
  });
  for (const method of ['random', 'uniform', 'tpe', 'successive-halving', 'hyperband'] as const) {
    const a = searchOnLookup(problem, method, 20, 9);
    assert.deepEqual(searchOnLookup(problem, method, 20, 9), a, method);
    assert.equal(a.regrets.length, 20);
    for (let k = 1; k < 20; k++)
      assert.ok(a.regrets[k] <= a.regrets[k - 1] + 1e-12, `${method} regret rose at ${k}`);
    if (method === 'successive-halving' || method === 'hyperband') {
      assert.ok(a.evaluations.reduce((s, e) => s + e.cost, 0) <= 20 + 1e-9);
      // A candidate is started once; after that it only moves up to larger budgets.
      const lastBudget = new Map<number, number>();
      for (const e of a.evaluations) {
        assert.ok(
          e.budget! > (lastBudget.get(e.candidate) ?? 0),
          `${method} restarted candidate ${e.candidate}`,
        );
        lastBudget.set(e.candidate, e.budget!);
      }
    } else {
      assert.equal(new Set(a.evaluations.map((e) => e.candidate)).size, 20, method);
      const best = Math.max(...a.evaluations.map((e) => e.value));
      assert.ok(Math.abs(a.regrets[19] - (a.bestValue - best)) < 1e-12);
    }
  }
  const all = searchOnLookup(PROBLEM, 'tpe', 10, 1);
  assert.equal(all.evaluations.length, 4);
  assert.deepEqual(all.regrets.slice(4), Array(6).fill(0));
});

test('TPE beats random search on synthetic lookup problems (mean regret after 20 trials)', () => {
  const problems = syntheticLookupProblems({ count: 4, seed: 11 }).map((p) => new LookupIndex(p));
  const mean = (method: 'tpe' | 'random') => {
    let sum = 0;
    let n = 0;
    for (const p of problems)
      for (let seed = 0; seed < 6; seed++) {
        sum += searchOnLookup(p, method, 20, seed).regrets[19];
        n++;
      }
    return sum / n;
  };
  const tpe = mean('tpe');
  const random = mean('random');
  assert.ok(tpe < random, `TPE ${tpe.toFixed(3)} vs random ${random.toFixed(3)}`);
});

function record(
  dataset: string,
  model: string,
  config: Record<string, string | number | boolean>,
  accuracy: number | undefined,
  extra: Partial<ExperimentRecord> = {},
): ExperimentRecord {
  return {
    dataset,
    model,
    config,
    metrics: accuracy === undefined ? { loss: 1 } : { accuracy },
    cost: {},
    status: 'finished',
    provenance: { source: 'runs.csv', line: 2 },
    ...extra,
  };
}

test('lookupProblemsFromRecords: one problem per dataset, model parameter, means over seeds', () => {
  const records = [
    record('b', 'resnet', { lr: 1e-2, opt: 'adam' }, 0.8, {
      seed: 1,
      cost: { trainingTimeSec: 10 },
    }),
    record('b', 'resnet', { lr: 1e-2, opt: 'adam' }, 0.6, {
      seed: 2,
      cost: { trainingTimeSec: 30 },
      curve: [
        { epoch: 1, metrics: { accuracy: 0.3 } },
        { epoch: 2, metrics: { accuracy: 0.5 } },
      ],
    }),
    // Aggregated record for two runs, and an unknown key: it joins the group above.
    record('b', 'resnet', { lr: 1e-2, opt: 'adam', notInSpace: 3 }, 0.9, { count: 2 }),
    // momentum is inactive for adam, so it is dropped, not an error.
    record('b', 'vit', { lr: 1e-3, opt: 'adam', momentum: 0.3 }, 0.5),
    record('a', 'vit', { lr: 1e-3, opt: 'sgd', momentum: 0.9 }, 0.7),
    record('a', 'vit', { lr: 1e-3, opt: 'sgd', momentum: 0.9 }, 0.1, { status: 'failed' }),
    record('a', 'vit', { lr: 1e-1, opt: 'sgd', momentum: 0.9 }, undefined),
  ];
  const problems = lookupProblemsFromRecords(records, 'accuracy', SPACE);
  assert.deepEqual(
    problems.map((p) => p.name),
    ['a', 'b'],
  );
  assert.deepEqual(problems[0].space.parameters[0], {
    name: 'model',
    type: 'categorical',
    choices: ['resnet', 'vit'],
  });
  assert.equal(problems[0].direction, 'maximize');
  assert.deepEqual(problems[0].candidates, [
    { config: { model: 'vit', lr: 1e-3, opt: 'sgd', momentum: 0.9 }, value: 0.7 },
  ]);
  const [resnet, vit] = problems[1].candidates;
  assert.deepEqual(resnet.config, { model: 'resnet', lr: 1e-2, opt: 'adam' });
  assert.ok(Math.abs(resnet.value - (0.8 + 0.6 + 2 * 0.9) / 4) < 1e-12);
  assert.equal(resnet.costSec, 20);
  assert.deepEqual(resnet.curve, [
    { budget: 1, value: 0.3 },
    { budget: 2, value: 0.5 },
  ]);
  assert.deepEqual(vit, { config: { model: 'vit', lr: 1e-3, opt: 'adam' }, value: 0.5 });
  // The problems are valid lookup problems and can be searched.
  assert.equal(searchOnLookup(problems[1], 'tpe', 2, 0).regrets[1], 0);
  // Loss-like metrics are minimized.
  const byLoss = lookupProblemsFromRecords(records, 'loss', SPACE);
  assert.deepEqual(
    byLoss.map((p) => [p.name, p.direction, p.candidates.length]),
    [['a', 'minimize', 1]],
  );
});

test('lookupProblemsFromRecords: bad inputs name the file, line and field', () => {
  const bad = (fn: () => unknown, re: RegExp) =>
    assert.throws(fn, (e: unknown) => e instanceof MetallmixError && re.test(e.message));
  bad(
    () =>
      lookupProblemsFromRecords([record('a', 'm', { lr: 5, opt: 'adam' }, 0.5)], 'accuracy', SPACE),
    /runs\.csv:2 field "config\.lr".*outside/,
  );
  bad(
    () => lookupProblemsFromRecords([record('a', 'm', { opt: 'adam' }, 0.5)], 'accuracy', SPACE),
    /field "config\.lr".*lr: missing/,
  );
  bad(
    () =>
      lookupProblemsFromRecords([record('a', 'm', { lr: 1e-2, opt: 'adam' }, 0.5)], 'f1', SPACE),
    /no finished experiment record has the metric "f1"/,
  );
  bad(
    () =>
      lookupProblemsFromRecords([], 'accuracy', {
        parameters: [{ name: 'model', type: 'categorical', choices: ['x'] }],
      }),
    /already has a parameter named "model"/,
  );
});
