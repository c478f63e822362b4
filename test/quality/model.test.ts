import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { withoutDataset } from '../../src/recommend/kb-view.ts';
import { metaLearnerSource } from '../../src/recommend/metalearner-source.ts';
import { recommendOnView } from '../../src/recommend/pipeline.ts';
import { answer, validateKnowledgeBase } from '../../src/recommend/quality/model.ts';
import { trainScorers } from '../../src/recommend/quality/scorers.ts';
import { runTable } from '../../src/recommend/quality/table.ts';
import { builtinView } from '../support/builtin-view.ts';

// The built-in MedMNIST aggregate knowledge base, one dataset held out as the "new" one.
const full = await builtinView('quality');
const HELD = 'dermamnist';
const train = withoutDataset(full, HELD);
const held = runTable(full, 'accuracy').byDataset.get(HELD)!;
const candidates = held.map((r) => ({ model: r.model, config: r.run.config }));

test('validation on a training knowledge base, then answers for a new dataset', () => {
  const model = validateKnowledgeBase(train, 'accuracy', { groups: 3 });
  const w = model.blend.weights;
  assert.ok(Math.abs(w.metalearner + w.portfolio + w.neighbors - 1) < 1e-12);
  assert.match(
    model.evidence,
    /^on this knowledge base, \d+ datasets held out in 3 groups: meta-learner \d+\.\d\d points of regret, best-on-average \d+\.\d\d, nearest datasets \d+\.\d\d; using /,
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
});

test('the self-validation is cached per knowledge-base version, like the meta-learner', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'metallmix-validation-'));
  const first = metaLearnerSource(train, { cacheDir: dir }).validationFor('accuracy');
  assert.equal(first.cached, false);
  const again = metaLearnerSource(train, { cacheDir: dir }).validationFor('accuracy');
  assert.equal(again.cached, true);
  assert.deepEqual(again.model, first.model);
  // Another version (the full view) is validated again.
  assert.equal(metaLearnerSource(full, { cacheDir: dir }).validationFor('accuracy').cached, false);
});

test('the metalearner strategy answers from the validation: evidence line, ties, balanced in the tie', async () => {
  const deps = { metaLearners: metaLearnerSource(train) };
  const ask = (objective: 'best' | 'balanced') =>
    recommendOnView(
      train,
      full.profiles.get(HELD)!,
      {
        strategy: 'metalearner',
        metric: 'accuracy',
        objective,
        seed: 0,
        topK: candidates.length,
        candidates,
      },
      deps,
    );
  const best = await ask('best');
  const model = deps.metaLearners.validationFor('accuracy').model;
  assert.equal(best.validation?.evidence, model.evidence);
  assert.ok(
    best.notices.some((n) => n.startsWith('On this knowledge base, leave-one-dataset-out')),
  );
  assert.equal(best.topK[0].tied, true);
  const tied = best.topK.filter((c) => c.tied);
  const top = best.topK[0].predictedMetric.mean;
  for (const c of tied)
    assert.ok(top - c.predictedMetric.mean <= model.calibration.tie / 100 + 1e-9);
  for (const c of best.topK) assert.ok(c.predictedMetric.low <= c.predictedMetric.high);
  // balanced takes the fastest candidate of exactly that tie.
  const balanced = await ask('balanced');
  const key = (c: { model: string; config: object }) => `${c.model} ${JSON.stringify(c.config)}`;
  assert.ok(tied.map(key).includes(key(balanced.pick)));
  const fastest = Math.min(...tied.map((c) => c.predictedTrainingTimeSec!.mean));
  assert.equal(balanced.pick.predictedTrainingTimeSec!.mean, fastest);
});
