import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAggregateTable } from '../../scripts/build-starter-kb.ts';
import {
  BUILTIN_LABEL,
  openBuiltinKnowledgeBase,
  resolveKnowledgeBase,
} from '../../src/store/index.ts';
import { SHARED, tempDir } from './helpers.ts';

const STORE = fileURLToPath(new URL('../../src/store/index.ts', import.meta.url));
const TABLE = fileURLToPath(new URL('../../data/builtin/medmnist-aggregate.csv', import.meta.url));

test('the built-in knowledge base loads the committed aggregate table with counts and stds', (t) => {
  const cache = tempDir(t);
  const saved = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = cache;
  t.after(() =>
    saved === undefined ? delete process.env.XDG_CACHE_HOME : (process.env.XDG_CACHE_HOME = saved),
  );

  const kb = openBuiltinKnowledgeBase();
  t.after(() => kb.close());
  assert.equal(kb.path, BUILTIN_LABEL);
  const stats = kb.stats();
  assert.deepEqual([stats.records, stats.datasets, stats.models], [320, 10, 4]);
  const records = kb.records();
  assert.ok(
    records.every(
      (r) => r.count === 10 && r.std?.accuracy !== undefined && r.status === 'finished',
    ),
  );
  const cell = records.find(
    (r) =>
      r.dataset === 'bloodmnist' &&
      r.model === 'densenet121' &&
      r.config.strategy === 'partial' &&
      r.config.unfreeze_pct === 20 &&
      r.config.direction === 'end',
  );
  // Checked with pandas on the source: mean/std (ddof 1) over the 10 seeds of this configuration.
  assert.deepEqual(cell?.metrics, { accuracy: 0.982432, auc: 0.999197, f1: 0.983088 });
  assert.equal(cell?.std?.accuracy, 0.001197);
  assert.equal(cell?.cost.trainingTimeSec, 325.68);
  assert.equal(cell?.cost.epochs, 22.2);
  assert.equal(kb.datasetProfiles().length, 10);
  assert.equal(kb.modelCards().length, 4);
  assert.deepEqual(
    kb.searchSpace().parameters.map((p) => p.name),
    ['strategy', 'unfreeze_pct', 'direction'],
  );

  // Stable version: the same in a second handle, from the cache file in another process, and
  // what resolveKnowledgeBase() gives without --kb or METALLMIX_KB.
  const version = kb.version();
  const again = openBuiltinKnowledgeBase();
  assert.equal(again.version(), version);
  again.close();
  assert.equal(
    readdirSync(path.join(cache, 'metallmix')).filter((f) => f.startsWith('builtin-')).length,
    1,
  );
  const child = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `import('${STORE}').then((s) => console.log(s.openBuiltinKnowledgeBase().version()))`,
    ],
    { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: cache } },
  ).trim();
  assert.equal(child, version);
  const savedKb = process.env.METALLMIX_KB;
  delete process.env.METALLMIX_KB;
  t.after(() => savedKb !== undefined && (process.env.METALLMIX_KB = savedKb));
  const resolved = resolveKnowledgeBase();
  assert.equal(resolved.path, BUILTIN_LABEL);
  assert.equal(resolved.version(), version);
  resolved.close();
});

const source = path.join(
  fileURLToPath(SHARED),
  'medmnist-finetune-strategies',
  'all_datasets_summary.csv',
);
test(
  'the committed aggregate table is what scripts/build-starter-kb.ts derives from the study',
  { skip: existsSync(source) ? false : `${source} is absent` },
  () => {
    const { csv, rows } = buildAggregateTable(source);
    assert.equal(rows, 320);
    assert.equal(csv, readFileSync(TABLE, 'utf8'));
  },
);
