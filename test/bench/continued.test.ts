// `bench` with metalearner@K on a real small knowledge base (the digits example's starter runs),
// two held-out datasets to keep it short: the zero-shot pick first, then continuations that never
// repeat a trial, the best of K looked up, and the HTML chart of regret against K.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bench } from '../../src/api/bench.ts';
import { importRuns } from '../../src/api/import.ts';
import { tempDir } from '../run/helpers.ts';

const DIGITS = fileURLToPath(new URL('../../examples/digits/', import.meta.url));

test('metalearner@K: zero-shot pick, then continuations; regret against K in the report', async (t) => {
  const dir = tempDir(t, 'metallmix-bench-k-');
  const kb = path.join(dir, 'kb.sqlite');
  await importRuns({
    files: [path.join(DIGITS, 'runs.csv')],
    mapping: path.join(DIGITS, 'mapping.json'),
    kb,
  });
  const html = path.join(dir, 'bench.html');
  const report = await bench({
    kb,
    methods: ['metalearner', 'metalearner@1', 'metalearner@3', 'random-search@3', 'tpe@3'],
    datasets: ['digits-noisy', 'digits-rotated'],
    seeds: 2,
    report: html,
    env: { ...process.env, METALLMIX_CACHE: path.join(dir, 'cache'), METALLMIX_KB: undefined },
  });
  const by = Object.fromEntries(report.methods.map((m) => [m.name, m]));
  assert.equal(report.datasets, 2);
  for (let i = 0; i < 2; i++) {
    const zero = by.metalearner.perDataset[i];
    const one = by['metalearner@1'].perDataset[i];
    const three = by['metalearner@3'].perDataset[i];
    // The first trial is the metalearner strategy's own pick.
    assert.deepEqual(one.pick, zero.pick);
    const trials = (three.extra as { trials: number[] }).trials;
    assert.equal(trials.length, 3);
    assert.equal(new Set(trials).size, 3, 'no configuration is tried twice');
    assert.deepEqual(trials[0], (one.extra as { trials: number[] }).trials[0]);
    assert.ok(three.regret <= one.regret, `${three.regret} <= ${one.regret}`);
    assert.ok(three.costRatio !== null, 'the three trials have training times');
  }
  const page = readFileSync(html, 'utf8');
  assert.match(page, /<svg[^>]*aria-label="mean regret against the number of trials"/);
  for (const family of ['metalearner', 'random-search', 'tpe'])
    assert.match(page, new RegExp(`>${family}@K</text>`), family);
  assert.match(page, /<title>metalearner@3: regret \d+\.\d\d<\/title>/);
});
