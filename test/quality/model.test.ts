import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openKnowledgeBase } from '../../src/store/index.ts';
import { viewOf, withoutDataset } from '../../src/recommend/kb-view.ts';
import { answer, validateKnowledgeBase } from '../../src/quality/model.ts';
import { trainScorers } from '../../src/quality/scorers.ts';
import { runTable } from '../../src/quality/table.ts';

// The built-in MedMNIST aggregate knowledge base, one dataset held out as the "new" one.
const kb = await openKnowledgeBase('builtin', { mode: 'read' });
const full = viewOf(await kb.snapshot(), kb.label);
await kb.close();
const HELD = 'dermamnist';
const train = withoutDataset(full, HELD);
const held = runTable(full, 'accuracy').byDataset.get(HELD)!;
const candidates = held.map((r) => ({ model: r.model, config: r.run.config }));
const values = held.map((r) => r.y);

test('validation on a training knowledge base, then answers for a new dataset', () => {
  const model = validateKnowledgeBase(train, 'accuracy', { groups: 3 });
  const w = model.blend.weights;
  assert.ok(Math.abs(w.metalearner + w.portfolio + w.neighbors - 1) < 1e-12);
  assert.match(
    model.evidence,
    /^on this knowledge base, 8 datasets held out in 3 groups: meta-learner \d+\.\d\d points of regret, best-on-average \d+\.\d\d, nearest datasets \d+\.\d\d; using /,
  );
  assert.ok(model.calibration.halfWidth.outside >= model.calibration.halfWidth.inside);
  assert.ok(model.calibration.tie >= 0);
  // The model is plain data: what a cache stores is what it returns.
  const cached = JSON.parse(JSON.stringify(model));
  const scorers = trainScorers(train, 'accuracy');
  const best = answer(cached, scorers, full.profiles.get(HELD)!, candidates, { objective: 'best' });
  assert.deepEqual(
    [...best.order].sort((a, b) => a - b),
    candidates.map((_, i) => i),
  );
  for (const iv of best.intervals) assert.ok(iv.low <= iv.mean && iv.mean <= iv.high);
  assert.ok(best.tied.includes(best.order[0]));
  // balanced only reorders inside the tie set, fastest first.
  const bal = answer(cached, scorers, full.profiles.get(HELD)!, candidates, {
    objective: 'balanced',
  });
  assert.ok(best.tied.includes(bal.order[0]));
  // With observations the next trial is one not run yet.
  const observed = [best.order[0], best.order[1]].map((index) => ({ index, value: values[index] }));
  const next = answer(cached, scorers, full.profiles.get(HELD)!, candidates, {
    objective: 'best',
    observed,
  }).next!;
  assert.ok(next >= 0 && next < candidates.length && !observed.some((o) => o.index === next));
});
