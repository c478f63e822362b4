// The meta-learner cache stores the trees packed in typed arrays: what is read back predicts,
// explains and reports exactly what was fitted; a foreign or truncated file is refitted.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { readProfileFile } from '../../src/profile/index.ts';
import { loadOrFit } from '../../src/recommend/cache.ts';
import { candidatesForRequest } from '../../src/recommend/candidates.ts';
import { viewOf } from '../../src/recommend/kb-view.ts';
import {
  DEFAULT_SETTINGS,
  fitMetaLearner,
  predictCandidates,
  type MetaLearner,
} from '../../src/recommend/metalearner.ts';
import { Rng } from '../../src/core/index.ts';
import { openKnowledgeBase } from '../../src/store/index.ts';
import { EXAMPLE } from '../recommend/example.ts';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metallmix-perf-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const fields = (l: MetaLearner) => ({ ...l, insights: l.insights });

test('a cached meta-learner is the fitted one: same trees, fields, insights and predictions', async (t) => {
  const dir = tempDir(t);
  const kb = await openKnowledgeBase('builtin', { mode: 'read', env: { METALLMIX_CACHE: dir } });
  const view = viewOf(await kb.snapshot(), kb.label);
  await kb.close();
  const settings = {
    ...DEFAULT_SETTINGS,
    params: { ...DEFAULT_SETTINGS.params, n_estimators: 20 },
    members: 2,
    metric: 'accuracy',
  };
  let fits = 0;
  const fit = () => (fits++, fitMetaLearner(view, settings));
  const first = loadOrFit(view.version, settings, fit, dir);
  const second = loadOrFit(view.version, settings, fit, dir);
  assert.deepEqual([first.cached, second.cached, fits], [false, true, 1]);
  assert.deepEqual(fields(second.learner), fields(first.learner));
  assert.ok(second.learner.time.length > 0 && second.learner.insights.length > 0);

  const profile = readProfileFile(EXAMPLE);
  const candidates = candidatesForRequest(view, undefined, new Rng(0));
  assert.deepEqual(
    predictCandidates(second.learner, profile, candidates, view.cards),
    predictCandidates(first.learner, profile, candidates, view.cards),
  );

  // Another version or other settings miss; a damaged file is refitted and replaced.
  assert.equal(loadOrFit(`${view.version}x`, settings, fit, dir).cached, false);
  assert.equal(loadOrFit(view.version, { ...settings, seed: 1 }, fit, dir).cached, false);
  const files = readdirSync(path.join(dir, 'metalearners'));
  for (const f of files) writeFileSync(path.join(dir, 'metalearners', f), 'MLMXML04\u0005');
  assert.equal(loadOrFit(view.version, settings, fit, dir).cached, false);
  assert.equal(loadOrFit(view.version, settings, fit, dir).cached, true);
  assert.equal(fits, 4);
});
