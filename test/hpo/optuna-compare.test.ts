// Our TPE against Optuna's TPESampler (Debian python3-optuna 3.1) on the same synthetic lookup
// problems, with the same snapping rule (scripts/optuna_lookup.py). Both are seeded, so the
// figures are fixed; the margin allows for the two random streams differing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { LookupIndex, searchOnLookup, syntheticLookupProblems } from '../../src/hpo/index.ts';
import { meanRegretAt, runOptunaTpe } from '../../bench/hpo-vs-optuna.ts';

/** Accuracy points (0-100 scale) by which our mean regret after 20 trials may exceed Optuna's. */
const MARGIN_AT_20 = 1.5;

test('our TPE is not worse than Optuna TPE after 20 trials on synthetic lookups', (t) => {
  if (!existsSync('/usr/bin/python3')) return t.skip('/usr/bin/python3 is absent');
  const problems = syntheticLookupProblems({ count: 4, seed: 5 });
  const seeds = [0, 1, 2, 3, 4];
  const optuna = runOptunaTpe(problems, 20, seeds);
  assert.equal(optuna.length, problems.length * seeds.length);
  const ours = problems.flatMap((p) => {
    const index = new LookupIndex(p);
    return seeds.map((s) => searchOnLookup(index, 'tpe', 20, s));
  });
  const random = problems.flatMap((p) => seeds.map((s) => searchOnLookup(p, 'random', 20, s)));
  const figures = {
    ours: [meanRegretAt(ours, 10), meanRegretAt(ours, 20)],
    optuna: [meanRegretAt(optuna, 10), meanRegretAt(optuna, 20)],
    random: [meanRegretAt(random, 10), meanRegretAt(random, 20)],
  };
  t.diagnostic(`mean regret @10/@20: ${JSON.stringify(figures)}`);
  assert.ok(
    figures.ours[1] <= figures.optuna[1] + MARGIN_AT_20,
    `ours ${figures.ours[1].toFixed(3)} vs Optuna ${figures.optuna[1].toFixed(3)} after 20 trials`,
  );
  // Every Optuna trace evaluates distinct candidates, as ours do.
  for (const trace of optuna) assert.equal(new Set(trace.evaluations).size, 20);
});
