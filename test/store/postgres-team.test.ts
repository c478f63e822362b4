// The team setup end to end: one PostgreSQL knowledge base, three `metallmix` processes at once
// (two importing different sources, an MLflow file store and a whole Optuna storage, and one
// running `recommend`). They must finish with exactly the union of the records, the version of
// that union (the same a SQLite file with the same imports has), and a recommendation made on
// one consistent state of the knowledge base.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Recommendation } from '../../src/core/index.ts';
import {
  contentVersion,
  importFiles,
  loadMapping,
  openKnowledgeBase,
  recordId,
  type ImportBatch,
  type KnowledgeBase,
} from '../../src/store/index.ts';
import { startPostgres } from '../support/postgres-server.ts';
import { writeFileStore } from './fixtures/mlflow-fixture.ts';
import { tempDir, write, OPTUNA_FIXTURE_MAPPING, OPTUNA_FIXTURE_SCRIPT } from './helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/metallmix.js', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/chest-xray-small.json', import.meta.url));
const OPTUNA_SCRIPT = OPTUNA_FIXTURE_SCRIPT;

const MLFLOW_MAPPING = {
  format: 'mlflow',
  dataset: 'experiment',
  model: 'params.model',
  metrics: { accuracy: 'metrics_best.val_acc' },
  cost: { trainingTimeSec: 'duration_sec' },
  runId: 'run_id',
  hyperparameters: [{ name: 'lr', column: 'params.lr', type: 'float', log: true }],
};
const OPTUNA_MAPPING = OPTUNA_FIXTURE_MAPPING;

interface Done {
  code: number;
  out: string;
  err: string;
  start: number;
  end: number;
}

function metallmix(args: string[], env: NodeJS.ProcessEnv): Promise<Done> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out, err, start, end: Date.now() }));
  });
}

/** The content of `kb` as an import batch, to copy it elsewhere. */
async function asBatch(kb: KnowledgeBase): Promise<ImportBatch> {
  const s = await kb.snapshot();
  return {
    records: s.records.map(({ id: _id, ...r }) => r),
    profiles: s.profiles,
    models: s.models,
    hyperparameters: s.hyperparameters,
  };
}

test('two importers and a recommender on one PostgreSQL knowledge base: the exact union, the right version', async (t) => {
  if (!existsSync('/usr/bin/python3')) return t.skip('/usr/bin/python3 is absent (Optuna source)');
  const server = await startPostgres();
  if (typeof server === 'string') return t.skip(server);
  t.after(() => server.stop());
  const dir = tempDir(t);
  const cache = path.join(dir, 'cache');
  const mlruns = writeFileStore(path.join(dir, 'mlruns'));
  const storage = path.join(dir, 'optuna.db');
  execFileSync('/usr/bin/python3', [OPTUNA_SCRIPT, storage], { stdio: 'ignore' });
  const mlflowMapping = write(dir, 'mlflow.json', MLFLOW_MAPPING);
  const optunaMapping = write(dir, 'optuna.json', OPTUNA_MAPPING);

  // The team's knowledge base starts with the built-in starter's content, so recommend has data.
  const builtin = await openKnowledgeBase('builtin', {
    mode: 'read',
    env: { METALLMIX_CACHE: cache },
  });
  const base = await asBatch(builtin);
  await builtin.close();
  const locator = `${server.url({ password: false, database: await server.createDatabase('team') })}?schema=lab`;
  const env = { PGPASSWORD: server.password };
  const team = await openKnowledgeBase(locator, { mode: 'write', env });
  t.after(() => team.close());
  await team.importBatch(base);
  const baseVersion = await team.version();

  // What each source holds, read on its own into SQLite files (an independent path).
  const alone = async (name: string, files: string[], mapping: string) => {
    const kb = await openKnowledgeBase(path.join(dir, `${name}.sqlite`), { mode: 'write' });
    await importFiles(kb, files, loadMapping(mapping));
    const batch = await asBatch(kb);
    await kb.close();
    return batch;
  };
  const a = await alone('mlflow', [mlruns], mlflowMapping);
  const b = await alone('optuna', [storage], optunaMapping);
  assert.ok(a.records.length > 0 && b.records.length > 0);

  const childEnv = { ...process.env, ...env, METALLMIX_KB: locator, METALLMIX_CACHE: cache };
  const [ia, ib, rec] = await Promise.all([
    metallmix(['import', mlruns, '--mapping', mlflowMapping, '--json', '--quiet'], childEnv),
    metallmix(['import', storage, '--mapping', optunaMapping, '--json', '--quiet'], childEnv),
    metallmix(['recommend', '--profile', EXAMPLE, '--json', '--no-cache'], childEnv),
  ]);
  for (const r of [ia, ib, rec]) assert.equal(r.code, 0, r.err);
  assert.equal(JSON.parse(ia.out).added, a.records.length);
  assert.equal(JSON.parse(ib.out).added, b.records.length);

  // Exactly the union: every record once, nothing lost, nothing extra.
  const union = [...base.records, ...a.records, ...b.records];
  const reader = await openKnowledgeBase(locator, { mode: 'read', env });
  t.after(() => reader.close());
  const final = await reader.snapshot();
  const ids = final.records.map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length, 'no record twice');
  assert.deepEqual(new Set(ids), new Set(union.map(recordId)));
  assert.equal(ids.length, base.records.length + a.records.length + b.records.length);

  // The version is the union's, whatever order the imports committed in, and a SQLite file with
  // the same three imports has the same one.
  assert.equal(
    final.version,
    contentVersion({ ...final, recordIds: final.records.map((r) => r.id) }),
  );
  const sqlite = await openKnowledgeBase(path.join(dir, 'same.sqlite'), { mode: 'write' });
  t.after(() => sqlite.close());
  await sqlite.importBatch(base);
  await importFiles(sqlite, [storage], loadMapping(optunaMapping));
  await importFiles(sqlite, [mlruns], loadMapping(mlflowMapping));
  assert.equal(await sqlite.version(), final.version);
  assert.equal(await team.version(), final.version, 'a long-open instance sees the new version');

  // recommend answered on one committed state: before, between or after the imports.
  const answer = Recommendation.parse(JSON.parse(rec.out));
  const state = (...batches: ImportBatch[]) => {
    const declared = new Map(
      batches.flatMap((x) => x.hyperparameters ?? []).map((h) => [h.name, h]),
    );
    const records = new Set(batches.flatMap((x) => x.records.map(recordId)));
    const version = contentVersion({
      recordIds: [...records],
      profiles: base.profiles ?? [],
      models: base.models ?? [],
      hyperparameters: [...declared.values()],
    });
    return [version, records.size] as const;
  };
  const states = new Map([state(base), state(base, a), state(base, b), state(base, a, b)]);
  assert.equal(states.get(final.version), final.records.length);
  assert.ok(
    states.has(answer.knowledgeBase.version),
    `recommend saw version ${answer.knowledgeBase.version}`,
  );
  assert.equal(answer.knowledgeBase.records, states.get(answer.knowledgeBase.version));
  assert.ok(states.has(JSON.parse(ia.out).version) && states.has(JSON.parse(ib.out).version));
  assert.equal(baseVersion, state(base)[0]);
  assert.match(
    answer.knowledgeBase.label,
    /^postgresql:\/\/metallmix_admin@127\.0\.0\.1:\d+\/team\?schema=lab$/,
  );
  t.diagnostic(
    `import mlflow ${ia.end - ia.start} ms, import optuna ${ib.end - ib.start} ms, recommend ${rec.end - rec.start} ms (saw ${answer.knowledgeBase.records} records)`,
  );
});
