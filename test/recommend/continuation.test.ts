// `recommend` continues the trials a dataset already has, on a real small knowledge base: the
// digits example's starter runs (10 derived datasets x 20 real sklearn trials).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importRuns } from '../../src/api/import.ts';
import { recommend } from '../../src/api/recommend.ts';
import { kbStats } from '../../src/api/knowledge-base.ts';
import { Recommendation, type DatasetProfile } from '../../src/core/index.ts';
import { candidateKey } from '../../src/recommend/kb-view.ts';
import { tempDir } from '../run/helpers.ts';

const DIGITS = fileURLToPath(new URL('../../examples/digits/', import.meta.url));
const profiles: DatasetProfile[] = JSON.parse(
  readFileSync(path.join(DIGITS, 'profiles.json'), 'utf8'),
);
const profileOf = (name: string) => profiles.find((p) => p.name === name)!;

async function starterKb(t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t, 'metallmix-continue-');
  const kb = path.join(dir, 'kb.sqlite');
  await importRuns({
    files: [path.join(DIGITS, 'runs.csv')],
    mapping: path.join(DIGITS, 'mapping.json'),
    kb,
  });
  const env: Record<string, string | undefined> = {
    ...process.env,
    METALLMIX_CACHE: path.join(dir, 'cache'),
  };
  delete env.METALLMIX_KB;
  return { dir, kb, env };
}

const runsOf = (name: string) =>
  readFileSync(path.join(DIGITS, 'runs.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','))
    .filter((c) => c[1] === name);

test('a dataset whose runs are in the knowledge base gets the next trial, not one of its runs', async (t) => {
  const { kb, env } = await starterKb(t);
  const rec = await recommend({
    dataset: { profile: profileOf('digits-noisy') },
    kb,
    topK: 5,
    env,
  });
  Recommendation.parse(rec);
  const c = rec.continuation!;
  assert.ok(c, 'a continuation');
  assert.equal(c.observedTrials, 20);
  assert.deepEqual(c.sources, [`20 run(s) named "digits-noisy" in ${kb}`]);
  const observed = new Set(
    runsOf('digits-noisy').map((r) =>
      candidateKey(r[2], {
        optimizer: r[3],
        lr: Number(r[4]),
        epochs: Number(r[5]),
        batch_size: Number(r[6]),
        weight_decay: Number(r[7]),
      }),
    ),
  );
  assert.equal(observed.size, 20);
  for (const e of rec.topK) assert.ok(!observed.has(candidateKey(e.model, e.config)), e.model);
  assert.deepEqual(rec.pick, rec.topK[0]);
  assert.deepEqual(
    rec.topK.map((e) => e.rank),
    [1, 2, 3, 4, 5],
  );
  const best = Math.max(...runsOf('digits-noisy').map((r) => Number(r[9])));
  assert.ok(Math.abs(c.best.value - best) < 1e-9, `best so far ${c.best.value} vs ${best}`);
  assert.match(c.reason, /^Given the 20 observed trials, /);
  assert.equal(rec.justification, c.reason);
  assert.match(rec.notices[0], /^A continuation of 20 trial\(s\) already run on "digits-noisy"/);
  // The prior, its validation and the evidence leave the dataset out; the answer names the
  // knowledge base itself (its ten starter datasets), at the version an export checks.
  assert.match(rec.validation!.evidence, /over 9 datasets:/);
  const evidence = rec.topK.flatMap((x) => x.evidence);
  assert.ok(evidence.length > 0, 'evidence cited');
  for (const e of evidence)
    assert.notEqual(e.dataset, 'digits-noisy', `evidence from the continued dataset: ${e.id}`);
  assert.equal(rec.knowledgeBase.label, kb);
  assert.equal(rec.knowledgeBase.datasets, 10);
  assert.equal(rec.knowledgeBase.version, (await kbStats({ kb, env })).version);
  for (const e of rec.topK) {
    const m = e.predictedMetric;
    assert.ok(m.low <= m.mean && m.mean <= m.high && m.low >= 0 && m.high <= 1, JSON.stringify(m));
  }
  // Under a budget, the budget pick and the Pareto front are among the trials not yet run.
  const budgeted = await recommend({
    dataset: { profile: profileOf('digits-noisy') },
    kb,
    budgetMinutes: 60,
    env,
  });
  assert.ok(budgeted.budgetPick, 'a budget pick');
  assert.deepEqual(budgeted.unmet, []);
  for (const e of [budgeted.budgetPick, ...budgeted.paretoFront])
    assert.ok(!observed.has(candidateKey(e.model, e.config)), e.model);
  // Asked zero-shot, the same request is not a continuation.
  const zero = await recommend({
    dataset: { profile: profileOf('digits-noisy') },
    kb,
    env,
    continuation: false,
  });
  assert.equal(zero.continuation, undefined);
});

test('--observed: a results file continues a dataset the knowledge base has never seen', async (t) => {
  const { dir, kb, env } = await starterKb(t);
  // digits-rotated's first three real runs, renamed as a new dataset, its profile under the name.
  const name = 'my-rotated-digits';
  const rows = runsOf('digits-rotated').slice(0, 3);
  const file = path.join(dir, 'done.csv');
  writeFileSync(
    file,
    [
      'dataset,model,config.optimizer,config.lr,config.epochs,config.batch_size,config.weight_decay,metrics.accuracy',
      ...rows.map((r) => [name, r[2], r[3], r[4], r[5], r[6], r[7], r[9]].join(',')),
      '',
    ].join('\n'),
  );
  const profile = { ...profileOf('digits-rotated'), name };
  const rec = await recommend({ dataset: { profile }, kb, observed: file, env });
  const c = rec.continuation!;
  assert.equal(c.observedTrials, 3);
  assert.deepEqual(c.sources, [`3 run(s) from ${file}`]);
  const best = Math.max(...rows.map((r) => Number(r[9])));
  assert.ok(Math.abs(c.best.value - best) < 1e-9);
  assert.match(c.reason, /^Given the 3 observed trials, /);

  // A file without a run of the dataset names the problem and the file.
  await assert.rejects(
    recommend({ dataset: { profile: { ...profile, name: 'another' } }, kb, observed: file, env }),
    (err: Error & { location?: { file?: string } }) =>
      /no finished run of dataset "another" with metric accuracy in the file \(it names my-rotated-digits\)/.test(
        err.message,
      ) && err.location?.file === file,
  );
});
