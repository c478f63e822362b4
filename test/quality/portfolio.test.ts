import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Candidate, DatasetProfile, ExperimentRecord } from '../../src/core/index.ts';
import { summarize, type KbView } from '../../src/recommend/kb-view.ts';
import { singleBestRecommender } from '../../src/recommend/strategies/baselines.ts';
import { additiveEffect, fitAdditive, greedyPortfolio } from '../../src/quality/portfolio.ts';
import { runTable } from '../../src/quality/table.ts';

function profile(name: string): DatasetProfile {
  return { name, task: 'multiclass', modality: 'xray', numInstances: 1000, numClasses: 4 };
}

/** A view with one configuration per model: rows of [dataset, model, accuracy %]. */
function view(rows: [string, string, number][]): KbView {
  const records = rows.map(([dataset, model, acc], i): ExperimentRecord & { id: string } => ({
    id: `r${i}`,
    dataset,
    model,
    config: {},
    metrics: { accuracy: acc / 100 },
    cost: {},
    status: 'finished',
    provenance: { source: 'hand-made grid' },
  }));
  const profiles = new Map([...new Set(rows.map((r) => r[0]))].map((d) => [d, profile(d)]));
  return {
    label: 'hand-made grid',
    version: 'test',
    records,
    profiles,
    cards: new Map(),
    catalogCards: [],
    space: { parameters: [] },
    summary: summarize(records, profiles),
  };
}

const candidates: Candidate[] = ['A', 'B', 'X'].map((model) => ({ model, config: {} }));

// Two past datasets. On D1 five configurations ran, among them two weak ones (W1, W2) that pull
// D1's average run down to 64; X ran only there, and lost to both A and B. On D2 only A and B ran.
// Relative to each dataset's average run, X scores +14 on its single dataset, while B averages
// (18 + 1) / 2 = 9.5: the baseline's single best is X, although X never beat anything it met
// except the two weak runs. Head to head (the additive model's dataset effects), B > A > X.
const grid = view([
  ['D1', 'A', 80],
  ['D1', 'B', 82],
  ['D1', 'X', 78],
  ['D1', 'W1', 40],
  ['D1', 'W2', 40],
  ['D2', 'A', 70],
  ['D2', 'B', 72],
]);

test("today's single best is fooled by the incomplete grid: it picks X", async () => {
  const answer = await singleBestRecommender(grid).recommend(profile('new'), {
    metric: 'accuracy',
    objective: 'best',
    topK: 3,
    seed: 0,
    candidates,
  });
  assert.equal(answer.topK[0].model, 'X');
});

test('the fair single best compares against the same dataset effects: B, then A, then X', () => {
  const fit = fitAdditive(runTable(grid, 'accuracy'));
  const effects = candidates.map((c) => additiveEffect(fit, c));
  const order = effects.map((_, i) => i).sort((a, b) => effects[b] - effects[a]);
  assert.deepEqual(
    order.map((i) => candidates[i].model),
    ['B', 'A', 'X'],
  );
  assert.equal(
    candidates[greedyPortfolio(runTable(grid, 'accuracy'), fit, candidates)[0]].model,
    'B',
  );
});

test('on a complete additive grid without shrinkage the effects are recovered exactly', () => {
  // y = mu[d] + theta[c]: mu = 50, 70, 90; theta = -5, 0, 5 (hand-made, no noise).
  const rows: [string, string, number][] = [];
  for (const [d, mu] of [
    ['P', 50],
    ['Q', 70],
    ['R', 90],
  ] as const)
    for (const [m, theta] of [
      ['m1', -5],
      ['m2', 0],
      ['m3', 5],
    ] as const)
      rows.push([d, m, mu + theta]);
  const fit = fitAdditive(runTable(view(rows), 'accuracy'), {
    configShrinkage: 0,
    modelShrinkage: 0,
    iterations: 200,
  });
  // Model and configuration effects are not separately identified (one configuration per model);
  // their sum is, and the dataset effects are.
  for (const [m, theta] of [
    ['m1', -5],
    ['m2', 0],
    ['m3', 5],
  ] as const)
    assert.ok(Math.abs(additiveEffect(fit, { model: m, config: {} }) - theta) < 1e-6, m);
  for (const [d, mu] of [
    ['P', 50],
    ['Q', 70],
    ['R', 90],
  ] as const)
    assert.ok(Math.abs(fit.dataset.get(d)! - mu) < 1e-6, d);
});

test('the greedy portfolio takes the configuration that covers what the first one misses', () => {
  // C1 is best on average (83.3) but weak on D3; C3 is a near copy of C1, second on average
  // (82.3); C2 is last on average (80) but best on D3. After C1, C2 adds 10 points on D3 and C3
  // adds nothing, so the portfolio takes C2 second although its average is the lowest.
  const v = view([
    ['D1', 'C1', 90],
    ['D1', 'C2', 80],
    ['D1', 'C3', 89],
    ['D2', 'C1', 90],
    ['D2', 'C2', 80],
    ['D2', 'C3', 89],
    ['D3', 'C1', 70],
    ['D3', 'C2', 80],
    ['D3', 'C3', 69],
  ]);
  const table = runTable(v, 'accuracy');
  const cands: Candidate[] = ['C1', 'C2', 'C3'].map((model) => ({ model, config: {} }));
  const order = greedyPortfolio(table, fitAdditive(table), cands);
  assert.deepEqual(
    order.map((i) => cands[i].model),
    ['C1', 'C2', 'C3'],
  );
});
