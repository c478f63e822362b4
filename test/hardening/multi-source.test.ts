// Issue 11, item 2: data/README.md's recipe (MedMNIST and Quick-Tune imported into one
// knowledge base) answers sensibly for the example chest X-ray profile: candidates only from
// configurations a source defines for that model, only models with usable runs, no interval of
// zero width at 100%, and no "= null" reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Recommendation } from '../../src/core/index.ts';
import { runCliWith } from '../support/cli.ts';
import { isolatedEnv } from './cases.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHARED = path.join(ROOT, '..', 'shared', 'metadata');
const MEDMNIST = path.join(SHARED, 'medmnist-finetune-strategies', 'all_datasets_summary.csv');
const QUICKTUNE = ['AFT-MC-00.csv', 'AFT-MC-01.csv'].map((f) =>
  path.join(SHARED, 'quicktune-metaalbum-micro-wandb', f),
);

test('MedMNIST + Quick-Tune in one knowledge base: a sensible answer for the chest X-ray example', async (t) => {
  if (![MEDMNIST, ...QUICKTUNE].every(existsSync))
    return t.skip(`the public sets are not in ${SHARED}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metallmix-multi-source-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = isolatedEnv(dir);
  const kb = path.join(dir, 'runs.sqlite');
  const cli = (...args: string[]) => runCliWith({ env }, ...args);
  for (const [files, mapping] of [
    [[MEDMNIST], 'data/medmnist/mapping.json'],
    [QUICKTUNE, 'data/quicktune/mapping.json'],
  ] as const) {
    const r = await cli(
      'import',
      ...files,
      '--mapping',
      path.join(ROOT, mapping),
      '--kb',
      kb,
      '--quiet',
    );
    assert.equal(r.code, 0, r.err);
  }
  const records = JSON.parse((await cli('kb', 'records', '--kb', kb, '--json')).out) as {
    model: string;
    config: Record<string, unknown>;
    status: string;
  }[];
  const r = await cli(
    'recommend',
    '--profile',
    path.join(ROOT, 'examples', 'chest-xray-small.json'),
    '--kb',
    kb,
    '--json',
  );
  assert.equal(r.code, 0, r.err);
  const rec = JSON.parse(r.out) as Recommendation;

  for (const c of [rec.pick, ...rec.topK]) {
    const m = c.predictedMetric;
    assert.ok(m.high > m.low, `${c.model}: an interval of zero width ${JSON.stringify(m)}`);
    assert.ok(m.mean < 0.995, `${c.model}: ${m.mean} is beyond what any source supports here`);
    // A configuration some source defines for this model: its parameters are those of a run of it.
    const runs = records.filter((x) => x.model === c.model && x.status === 'finished');
    assert.ok(runs.length > 0, `${c.model} has no finished run`);
    const keys = Object.keys(c.config);
    assert.ok(
      runs.some((x) => keys.every((k) => k in x.config)),
      `${c.model} ${JSON.stringify(c.config)} mixes parameters of different sources`,
    );
    assert.doesNotMatch(c.explanationText ?? '', /= null/);
  }
  // The Quick-Tune runs (128 px colour natural images) do not cover a 28 px grey X-ray set.
  assert.ok(
    rec.notices.some((n) => /were left out: they ran on datasets unlike this one/.test(n)),
    rec.notices.join('\n'),
  );
  assert.ok(
    rec.pick.predictedMetric.mean > 0.8,
    `MedMNIST X-ray sets reach 85 to 96 points: ${rec.pick.predictedMetric.mean}`,
  );
});
