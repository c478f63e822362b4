import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../support/cli.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'metallmix-bench-'));
  delete process.env.METALLMIX_KB;
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('bench on the built-in knowledge base: JSON shape, reference figure, HTML report', async () => {
  const html = path.join(dir, 'bench.html');
  const r = await runCli(
    'bench',
    '--methods',
    'random,single-best,knn,metalearner,random-search@10,tpe@10',
    '--seeds',
    '2',
    '--json',
    '--report',
    html,
  );
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(r.out);
  assert.equal(report.protocol, 'lodo');
  assert.equal(report.metric, 'accuracy');
  assert.equal(
    report.datasets,
    9,
    'the 9 multiclass MedMNIST datasets; ChestMNIST (multilabel) left out',
  );
  assert.deepEqual(report.skipped, [
    { dataset: 'chestmnist', reason: 'multilabel task (use --include-multilabel)' },
  ]);
  assert.deepEqual(
    report.methods.map((m: { name: string }) => m.name),
    ['random', 'single-best', 'knn', 'metalearner', 'random-search@10', 'tpe@10'],
  );
  for (const m of report.methods) {
    for (const key of [
      'meanRegret',
      'hitAt1',
      'hitAt3',
      'ndcgAt5',
      'spearman',
      'meanCostRatio',
      'responseMsMedian',
      'perDataset',
    ])
      assert.ok(key in m, `${m.name}.${key}`);
    assert.equal(m.perDataset.length, 9);
    for (const d of m.perDataset) {
      assert.ok(d.regret >= 0);
      assert.ok(d.pick.model);
    }
  }
  const byName = Object.fromEntries(report.methods.map((m: { name: string }) => [m.name, m]));
  // Independent reference: ../shared/metadata/README.md gives 0.39 points for the single best
  // configuration of the other datasets (leave-one-dataset-out, MedMNIST, 9 datasets).
  assert.ok(
    Math.abs(byName['single-best'].meanRegret - 0.39) < 0.01,
    `single-best ${byName['single-best'].meanRegret}`,
  );
  assert.ok(
    byName.metalearner.meanRegret < byName.random.meanRegret,
    'the meta-learner beats a random pick',
  );
  assert.equal(byName['random-search@10'].ndcgAt5, null, 'HPO baselines rank only what they ran');
  const page = readFileSync(html, 'utf8');
  assert.match(page, /<table aria-label="regret per dataset">/);
  assert.match(page, /<svg[^>]*aria-label="mean regret against cost ratio"/);
  assert.match(page, /<th scope="row">metalearner<\/th>/);
  assert.match(
    page,
    /builtin:medmnist \(version [0-9a-f]{16}\)/,
    'the knowledge base and its version',
  );
  assert.match(page, /<code>metallmix bench --methods random,single-best/, 'the command as typed');
  for (const d of report.methods[0].perDataset)
    assert.match(page, new RegExp(`<th scope="row">${d.dataset}</th>`), `a row for ${d.dataset}`);
});

test('bench rejects an unknown method and a metric nobody recorded', async () => {
  let r = await runCli('bench', '--methods', 'metalearner,oracle');
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown method "oracle"/);
  r = await runCli('bench', '--metric', 'top5');
  assert.equal(r.code, 2);
  assert.match(r.err, /no finished run in builtin:medmnist records the metric "top5"/);
});

test('bench --methods hybrid runs the LLM pipeline per held-out dataset and reports its figures', async () => {
  const { startFakeOpenAIServer, completion } = await import('../llm/fake-openai-server.ts');
  const server = await startFakeOpenAIServer({
    fallback: completion('I would pick a good model.'),
  });
  try {
    const r = await runCli(
      'bench',
      '--methods',
      'metalearner,hybrid',
      '--datasets',
      'breastmnist,retinamnist',
      '--llm-base-url',
      server.baseUrl,
      '--llm-model',
      'fake',
      '--max-attempts',
      '2',
      '--no-llm-judge',
      '--json',
    );
    assert.equal(r.code, 0, r.err);
    const report = JSON.parse(r.out);
    assert.equal(report.datasets, 2);
    const hybrid = report.methods.find((m: { name: string }) => m.name === 'hybrid');
    const meta = report.methods.find((m: { name: string }) => m.name === 'metalearner');
    for (const d of hybrid.perDataset) {
      assert.equal(d.extra.attempts, 2, 'two rejected attempts (the answer is not JSON)');
      assert.equal(d.extra.accepted, false);
      assert.equal(d.extra.answeredBy, 'metalearner');
      assert.equal(d.extra.fellBack, true);
      assert.ok(d.extra.llmMs > 0, 'the LLM was asked');
    }
    assert.deepEqual(
      hybrid.perDataset.map((d: { regret: number }) => d.regret),
      meta.perDataset.map((d: { regret: number }) => d.regret),
      "after falling back, the pick is the meta-learner's",
    );
    assert.equal(server.chatRequests().length, 4);
  } finally {
    await server.close();
  }
  const noLlm = await runCli('bench', '--methods', 'hybrid');
  assert.equal(noLlm.code, 2);
  assert.match(noLlm.err, /method "hybrid" needs an LLM/);
});

test('bench names an unknown held-out dataset', async () => {
  const r = await runCli('bench', '--datasets', 'bloodmnist,nope', '--methods', 'random');
  assert.equal(r.code, 2);
  assert.match(
    r.err,
    /no finished runs with "accuracy" on "nope"; datasets: bloodmnist, breastmnist/,
  );
});
