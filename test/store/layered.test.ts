// The user's knowledge base layered over the built-in one: what the merge holds (union of
// records, the user's profiles win), that its version follows either layer and equals that of a
// single knowledge base with the same content, and what import, kb, recommend read and write
// without --kb (and with --no-builtin).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DatasetProfile, ExperimentRecord } from '../../src/core/index.ts';
import {
  BUILTIN_LABEL,
  LayeredKnowledgeBase,
  USER_AND_BUILTIN,
  openKnowledgeBase,
} from '../../src/store/index.ts';
import { runCliWith } from '../support/cli.ts';
import { PROFILES, tempDir, write } from './helpers.ts';

const EXAMPLE = new URL('../../examples/chest-xray-small.json', import.meta.url).pathname;

const run = (runId: string, dataset: string, accuracy: number): ExperimentRecord => ({
  dataset,
  model: 'resnet18',
  config: { strategy: 'full' },
  metrics: { accuracy },
  cost: { trainingTimeSec: 100 },
  status: 'finished',
  provenance: { source: 'test', runId },
});

test('the merge: union of records, upper profiles win, version follows both layers', async (t) => {
  const dir = tempDir(t);
  const up = await openKnowledgeBase(path.join(dir, 'up.sqlite'), { mode: 'write' });
  const down = await openKnowledgeBase(path.join(dir, 'down.sqlite'), { mode: 'write' });
  const kb = new LayeredKnowledgeBase([up, down], { kind: 'memory' });
  t.after(() => kb.close());
  const [p0] = PROFILES as DatasetProfile[];
  await down.importBatch({
    records: [run('a', p0!.name, 0.5), run('shared', p0!.name, 0.6)],
    profiles: [p0!],
    hyperparameters: [{ name: 'strategy', type: 'categorical' }],
  });
  const v1 = await kb.version();
  const mine = { ...p0!, numInstances: p0!.numInstances + 1 };
  await up.importBatch({ records: [run('shared', p0!.name, 0.6), run('b', p0!.name, 0.7)] });
  const v2 = await kb.version();
  assert.notEqual(v2, v1, 'a write to the upper layer changes the version');
  await up.importBatch({ records: [], profiles: [mine] });
  const v3 = await kb.version();
  assert.notEqual(v3, v2);
  const snap = await kb.snapshot();
  assert.equal(snap.records.length, 3, 'the shared record is one record');
  assert.deepEqual(snap.profiles, [mine], "the user's profile replaces the lower one");
  assert.deepEqual(
    snap.hyperparameters.map((h) => h.name),
    ['strategy'],
  );
  // The same content in one knowledge base has the same version (a cached meta-learner fits both).
  const single = await openKnowledgeBase(path.join(dir, 'single.sqlite'), { mode: 'write' });
  t.after(() => single.close());
  await single.importBatch({
    records: snap.records.map(({ id: _id, ...r }) => r),
    profiles: snap.profiles,
    hyperparameters: snap.hyperparameters,
  });
  assert.equal(await single.version(), v3);
  // A change in the lower layer alone changes the merged version too.
  await down.importBatch({ records: [run('c', p0!.name, 0.8)] });
  assert.notEqual(await kb.version(), v3);
  // Writing through the layered knowledge base writes to the upper layer only.
  const added = await kb.importBatch({
    records: [run('a', p0!.name, 0.5), run('d', p0!.name, 0.9)],
  });
  assert.equal(added.addedIds.size, 1, 'a record the lower layer holds is not new');
  assert.equal((await up.records()).length, 4);
  assert.equal((await down.records()).length, 3);
});

test('without --kb: import writes to your own, kb and recommend read it with the built-in runs', async (t) => {
  const dir = tempDir(t);
  const env: Record<string, string | undefined> = {
    ...process.env,
    METALLMIX_DATA: dir,
    METALLMIX_CACHE: path.join(dir, 'cache'),
  };
  delete env.METALLMIX_KB;
  const cli = (...args: string[]) => runCliWith({ env }, ...args);
  // No knowledge base of your own yet: the built-in one as it always was.
  let stats = JSON.parse((await cli('kb', 'stats', '--json')).out);
  assert.deepEqual([stats.label, stats.records], [BUILTIN_LABEL, 320]);
  const builtinDatasets = stats.datasets;
  const r = await cli('kb', 'stats', '--no-builtin', '--json');
  assert.equal(r.code, 2);
  assert.match(r.err, /no knowledge base at this path/);

  // Your runs of a MedMNIST-like dataset, with its profile.
  const profile = { ...(PROFILES as DatasetProfile[])[0]!, name: 'my-xrays' };
  const profiles = write(dir, 'profiles.json', [profile]);
  const mapping = write(dir, 'mapping.json', {
    dataset: 'dataset',
    model: 'model',
    metrics: { accuracy: 'accuracy' },
    cost: { trainingTimeSec: 'time' },
    hyperparameters: [{ name: 'strategy', type: 'categorical' }],
    profiles: path.basename(profiles),
  });
  const runs = write(
    dir,
    'runs.csv',
    'dataset,model,strategy,accuracy,time\nmy-xrays,resnet18,full,0.9,300\nmy-xrays,resnet18,LP,0.7,60\n',
  );
  const imported = await cli('import', runs, '--mapping', mapping, '--quiet');
  assert.equal(imported.code, 0, imported.err);
  assert.match(imported.err, /no --kb or METALLMIX_KB given; imported into .*kb\.sqlite/);
  assert.ok(existsSync(path.join(dir, 'kb.sqlite')));

  stats = JSON.parse((await cli('kb', 'stats', '--json')).out);
  assert.equal(stats.label, `${path.join(dir, 'kb.sqlite')} + ${BUILTIN_LABEL}`);
  assert.equal(stats.records, 322);
  assert.equal(JSON.parse((await cli('kb', 'stats', '--no-builtin', '--json')).out).records, 2);

  const rec = await cli('recommend', '--profile', EXAMPLE, '--json');
  assert.equal(rec.code, 0, rec.err);
  const answer = JSON.parse(rec.out);
  assert.equal(answer.knowledgeBase.records, 322);
  assert.equal(answer.knowledgeBase.datasets, builtinDatasets + 1);
  assert.ok(
    answer.notices.some((n: string) =>
      /^Read your knowledge base .*kb\.sqlite together with builtin:medmnist; --no-builtin leaves the built-in runs out\.$/.test(
        n,
      ),
    ),
    answer.notices.join('\n'),
  );
  const own = JSON.parse(
    (await cli('recommend', '--profile', EXAMPLE, '--no-builtin', '--json')).out,
  );
  assert.deepEqual([own.knowledgeBase.records, own.knowledgeBase.datasets], [2, 1]);
  assert.equal(USER_AND_BUILTIN, 'user+builtin');
});
