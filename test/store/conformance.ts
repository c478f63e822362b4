// The knowledge-base conformance suite: what src/store/knowledge-base.ts promises, checked on
// exact data, for any backend. Each backend's test file calls `knowledgeBaseConformance` with a
// function that opens a new, empty knowledge base (in the manner of Optuna's storage tests, which
// run one suite over every storage). Cases that need a second instance or a second process run
// when the backend says how to get one, and are skipped with a message otherwise.
import { describe, test, type TestContext as NodeTestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  MetallmixError,
  type DatasetProfile,
  type Env,
  type ExperimentRecord,
  type ModelCard,
  type RunStatus,
} from '../../src/core/index.ts';
import {
  contentVersion,
  recordId,
  type DeclaredHyperparameter,
  type ImportBatch,
  type KbMode,
  type KbSnapshot,
  type KnowledgeBase,
  type RecordFilter,
  type StoredRecord,
} from '../../src/store/index.ts';
import {
  PROFILES as HELPER_PROFILES,
  runImportWorker,
  tempDir,
  write,
  type TestContext,
} from './helpers.ts';

export interface ConformanceSubject {
  /** A new, empty knowledge base opened for writing; the suite closes it. */
  kb: KnowledgeBase;
  /** Another instance on the same storage, for reading only or for writing; the suite closes it. */
  reopen?: (mode: KbMode) => Promise<KnowledgeBase>;
  /**
   * How another process opens the same storage for writing: a locator for `openKnowledgeBase`
   * and what it needs in its environment (test/store/fixtures/import-worker.ts runs there).
   */
  writerInAnotherProcess?: { locator: string; env?: Env };
}

/** The cases of the suite, by the key a backend uses to mark a known failure. */
export const CASES = {
  empty: 'a new knowledge base is empty, writable and names itself',
  writes: 'importBatch stores records, profiles, model cards and declarations exactly',
  idempotent: 'importing the same batch twice adds nothing and changes nothing',
  conflict: 'a batch whose declarations conflict with stored ones fails whole',
  unwritable: 'a batch with a record that cannot be written fails whole',
  missingField: 'a record without a required field fails its batch (it is not dropped)',
  schema: 'a record the ExperimentRecord schema refuses fails its batch',
  version: 'the version changes exactly when records, profiles, model cards or declarations do',
  order: 'equal content imported in another order and split gives an equal version',
  filters: 'records() filters by dataset, model and status, alone and combined',
  sample:
    'snapshot({ maxRecords }) holds the records with the smallest ids, the total and the whole version',
  stream: 'importStream writes its batches as one, or (on an error in any batch) nothing',
  unshared: 'returned objects are the caller’s, and so is the batch after importBatch',
  readOnly: 'a read-only instance refuses importBatch, writes nothing, and sees later writes',
  close: 'close() is idempotent',
  snapshot: 'a snapshot taken before an import does not change after it',
  writers: 'two processes importing different and overlapping batches at once: the exact union',
  whole: 'while another process imports, every snapshot holds whole batches only',
} as const;
export type ConformanceCase = keyof typeof CASES;

export interface ConformanceOptions {
  /** Known failures of this backend: the case still runs, and is reported as TODO with the reason. */
  todo?: Partial<Record<ConformanceCase, string>>;
}

// ---- fixtures ------------------------------------------------------------------------------

function run(
  runId: string,
  dataset: string,
  model: string,
  status: RunStatus,
  n: number,
): ExperimentRecord {
  return {
    dataset,
    model,
    config: { lr: [0.01, 0.001, 0.0001][n % 3], strategy: n % 2 ? 'full' : 'lp' },
    metrics: { accuracy: 0.5 + (n % 50) / 100 },
    cost: { trainingTimeSec: 60 + n },
    status,
    provenance: { source: 'conformance.jsonl', runId, line: n + 1 },
  };
}

/** Six runs to filter: every combination a filter test needs is here once at least. */
const RUNS = [
  run('r0', 'derma', 'resnet18', 'finished', 0),
  run('r1', 'derma', 'resnet18', 'failed', 1),
  run('r2', 'derma', 'vit', 'finished', 2),
  run('r3', 'blood', 'vit', 'finished', 3),
  run('r4', 'blood', 'resnet18', 'stopped', 4),
  run('r5', 'chest', 'vit', 'failed', 5),
];

const PROFILES = HELPER_PROFILES as DatasetProfile[];

const MODELS: ModelCard[] = [
  { id: 'resnet18', family: 'resnet', architecture: 'cnn', params: 11690000 },
  { id: 'vit', family: 'vit', architecture: 'transformer' },
];

const DECLARED: DeclaredHyperparameter[] = [
  { name: 'lr', type: 'float', log: true },
  { name: 'strategy', type: 'categorical', choices: ['lp', 'full', 'partial'] },
];

const fullBatch = (): ImportBatch =>
  structuredClone({
    records: RUNS,
    profiles: PROFILES,
    models: MODELS,
    hyperparameters: DECLARED,
    declaredIn: 'mapping.json',
  });

const stored = (r: ExperimentRecord): StoredRecord => ({ ...structuredClone(r), id: recordId(r) });
const byId = (rs: readonly StoredRecord[]) => [...rs].sort((a, b) => a.id.localeCompare(b.id));
const byName = (ps: readonly DatasetProfile[]) =>
  [...ps].sort((a, b) => a.name.localeCompare(b.name));
const byModelId = (ms: readonly ModelCard[]) => [...ms].sort((a, b) => a.id.localeCompare(b.id));

interface Content {
  records: ExperimentRecord[];
  profiles?: DatasetProfile[];
  models?: ModelCard[];
  /** In the order they were first declared. */
  hyperparameters?: DeclaredHyperparameter[];
}

/** The version any backend must give this content (src/store/derived.ts). */
const versionOf = (c: Content) =>
  contentVersion({
    recordIds: c.records.map(recordId),
    profiles: c.profiles ?? [],
    models: c.models ?? [],
    hyperparameters: c.hyperparameters ?? [],
  });

/** The snapshot is internally consistent: ids are content ids, the version is its content's. */
function assertConsistent(s: KbSnapshot): void {
  for (const r of s.records) {
    const { id, ...record } = r;
    assert.equal(id, recordId(record), `stored id of ${r.provenance.runId}`);
  }
  assert.equal(new Set(s.records.map((r) => r.id)).size, s.records.length, 'no duplicate ids');
  assert.equal(
    s.version,
    contentVersion({ ...s, recordIds: s.records.map((r) => r.id) }),
    'the version is the hash of the snapshot’s content',
  );
}

/** The knowledge base holds exactly `expected` (records in any order, declarations in order). */
async function assertHolds(kb: KnowledgeBase, expected: Content): Promise<KbSnapshot> {
  const s = await kb.snapshot();
  assertConsistent(s);
  assert.deepEqual(byId(s.records), byId(expected.records.map(stored)));
  assert.deepEqual(byName(s.profiles), byName(expected.profiles ?? []));
  assert.deepEqual(byModelId(s.models), byModelId(expected.models ?? []));
  assert.deepEqual(s.hyperparameters, expected.hyperparameters ?? []);
  assert.equal(s.version, versionOf(expected));
  assert.equal(await kb.version(), s.version);
  assert.deepEqual(byId(await kb.records()), byId(s.records));
  return s;
}

/** The whole observable state, as text, to compare byte for byte. */
async function state(kb: KnowledgeBase): Promise<string> {
  return JSON.stringify({ snapshot: await kb.snapshot(), version: await kb.version() });
}

const isMetallmixError = (e: unknown) => e instanceof MetallmixError;

// ---- the suite -----------------------------------------------------------------------------

export function knowledgeBaseConformance(
  name: string,
  open: (dir: string) => Promise<ConformanceSubject>,
  options: ConformanceOptions = {},
): void {
  /** A new subject in its own directory; every instance it hands out is closed after the test. */
  async function subject(t: TestContext): Promise<ConformanceSubject> {
    const s = await open(tempDir(t));
    t.after(() => s.kb.close());
    const reopen = s.reopen;
    return {
      ...s,
      reopen: reopen
        ? async (mode) => {
            const kb = await reopen(mode);
            t.after(() => kb.close());
            return kb;
          }
        : undefined,
    };
  }

  const check = (key: ConformanceCase, fn: (t: NodeTestContext) => Promise<void>) =>
    test(CASES[key], { todo: options.todo?.[key] }, fn);

  describe(`knowledge-base conformance: ${name}`, () => {
    check('empty', async (t) => {
      const { kb } = await subject(t);
      assert.equal(kb.writable, true);
      assert.ok(kb.label.length > 0, 'a label to show');
      assert.ok(kb.backend.length > 0, 'a backend name');
      assert.ok(['file', 'memory', 'database'].includes(kb.indexLocation.kind));
      assert.deepEqual(await kb.snapshot(), {
        version: versionOf({ records: [] }),
        records: [],
        profiles: [],
        models: [],
        hyperparameters: [],
      });
      assert.deepEqual(await kb.records(), []);
    });

    check('writes', async (t) => {
      const { kb } = await subject(t);
      const batch = fullBatch();
      // A run listed twice in one batch is one record.
      batch.records.push(structuredClone(RUNS[3]));
      const result = await kb.importBatch(batch);
      assert.deepEqual(result.addedIds, new Set(RUNS.map(recordId)));
      assert.deepEqual(result.profiles, { added: 2, updated: 0, unchanged: 0 });
      assert.deepEqual(result.models, { added: 2, updated: 0, unchanged: 0 });
      await assertHolds(kb, {
        records: RUNS,
        profiles: PROFILES,
        models: MODELS,
        hyperparameters: DECLARED,
      });

      // Declarations keep the order they were first declared in; a changed declaration is an
      // explicit migration (redeclare) and updates in place.
      const depth: DeclaredHyperparameter = {
        name: 'depth',
        type: 'int',
        condition: { parent: 'strategy', values: ['partial'] },
      };
      const lrLinear: DeclaredHyperparameter = { name: 'lr', type: 'float', log: false };
      const changedProfile = { ...PROFILES[1], numInstances: 41 };
      const second = await kb.importBatch({
        records: [],
        profiles: [PROFILES[0], changedProfile],
        models: [MODELS[1]],
        hyperparameters: [depth, lrLinear],
        redeclare: true,
      });
      assert.deepEqual(second.addedIds, new Set());
      assert.deepEqual(second.profiles, { added: 0, updated: 1, unchanged: 1 });
      assert.deepEqual(second.models, { added: 0, updated: 0, unchanged: 1 });
      await assertHolds(kb, {
        records: RUNS,
        profiles: [PROFILES[0], changedProfile],
        models: MODELS,
        hyperparameters: [lrLinear, DECLARED[1], depth],
      });
    });

    check('idempotent', async (t) => {
      const { kb, reopen } = await subject(t);
      await kb.importBatch(fullBatch());
      const before = await state(kb);
      const again = await kb.importBatch(fullBatch());
      assert.deepEqual(again.addedIds, new Set());
      assert.deepEqual(again.profiles, { added: 0, updated: 0, unchanged: 2 });
      assert.deepEqual(again.models, { added: 0, updated: 0, unchanged: 2 });
      assert.equal(await state(kb), before);

      // The same runs from another copy of the file at other lines are the same records: the
      // first stored body stays.
      const moved = RUNS.map((r, i) => ({
        ...structuredClone(r),
        provenance: { ...r.provenance, source: 'elsewhere/copy.jsonl', line: 100 + i },
      }));
      assert.deepEqual((await kb.importBatch({ records: moved })).addedIds, new Set());
      assert.equal(await state(kb), before);

      if (reopen) {
        const other = await reopen('write');
        assert.equal(await state(other), before, 'another instance reads the same bytes');
        assert.deepEqual((await other.importBatch(fullBatch())).addedIds, new Set());
        assert.equal(await state(other), before);
        assert.equal(await state(kb), before);
      }
    });

    check('conflict', async (t) => {
      const { kb, reopen } = await subject(t);
      await kb.importBatch(fullBatch());
      const before = await state(kb);
      const failing: ImportBatch = {
        records: [
          run('n1', 'chest', 'convnext', 'finished', 7),
          run('n2', 'derma', 'vit', 'failed', 8),
        ],
        profiles: [
          { ...PROFILES[0], numInstances: 99 },
          { name: 'chest', task: 'multilabel', modality: 'xray', numInstances: 50, numClasses: 14 },
        ],
        models: [{ id: 'convnext', family: 'convnext', architecture: 'cnn' }],
        // A new declaration first, so the conflict comes after something was written.
        hyperparameters: [
          { name: 'depth', type: 'int' },
          { name: 'lr', type: 'categorical' },
        ],
        declaredIn: 'conflict.json',
      };
      await assert.rejects(
        kb.importBatch(failing),
        (e: unknown) =>
          e instanceof MetallmixError &&
          e.location.file === 'conflict.json' &&
          e.location.field === 'hyperparameters.1.type' &&
          /"lr"/.test(e.message),
      );
      assert.equal(await state(kb), before);
      if (reopen) assert.equal(await state(await reopen('read')), before, 'nothing was committed');

      // The same type with another scale is a change that needs redeclare: refused whole without.
      await assert.rejects(
        kb.importBatch({
          records: [run('n3', 'chest', 'vit', 'finished', 9)],
          hyperparameters: [{ ...DECLARED[0], log: !DECLARED[0].log }],
          declaredIn: 'rescaled.json',
        }),
        (e: unknown) =>
          e instanceof MetallmixError &&
          e.location.file === 'rescaled.json' &&
          e.location.field === 'hyperparameters.0.log' &&
          /redeclare/.test(e.message),
      );
      assert.equal(await state(kb), before);
    });

    check('unwritable', async (t) => {
      const { kb, reopen } = await subject(t);
      await kb.importBatch(fullBatch());
      const before = await state(kb);
      const { provenance: _provenance, ...noProvenance } = run(
        'bad',
        'derma',
        'vit',
        'finished',
        9,
      );
      await assert.rejects(
        kb.importBatch({
          records: [
            run('n1', 'chest', 'vit', 'finished', 7),
            run('n2', 'derma', 'vit', 'failed', 8),
            noProvenance as ExperimentRecord,
          ],
          profiles: [{ ...PROFILES[1], numInstances: 99 }],
          models: [{ id: 'convnext', family: 'convnext', architecture: 'cnn' }],
          hyperparameters: [{ name: 'depth', type: 'int' }],
        }),
        isMetallmixError,
      );
      assert.equal(await state(kb), before);
      if (reopen) assert.equal(await state(await reopen('read')), before, 'nothing was committed');
    });

    /** Each bad record, imported beside a valid one, fails the batch and leaves the content as it was. */
    const rejectsEach = async (
      kb: KnowledgeBase,
      cases: readonly (readonly [string, unknown])[],
    ) => {
      const before = await state(kb);
      const valid = run('n1', 'chest', 'vit', 'finished', 7);
      for (const [what, bad] of cases) {
        await assert.rejects(
          kb.importBatch({ records: [valid, bad as ExperimentRecord] }),
          isMetallmixError,
          what,
        );
        assert.equal(await state(kb), before, what);
      }
    };

    check('missingField', async (t) => {
      const { kb } = await subject(t);
      await kb.importBatch(fullBatch());
      const { model: _model, ...noModel } = run('n2', 'derma', 'vit', 'failed', 8);
      await rejectsEach(kb, [
        ['dataset null', { ...run('n3', 'derma', 'vit', 'failed', 9), dataset: null }],
        ['no model', noModel],
        ['status null', { ...run('n4', 'derma', 'vit', 'failed', 10), status: null }],
      ]);
    });

    check('schema', async (t) => {
      const { kb } = await subject(t);
      await kb.importBatch(fullBatch());
      const base = run('n2', 'derma', 'vit', 'failed', 8);
      await rejectsEach(kb, [
        ['empty dataset', { ...base, dataset: '' }],
        ['unknown status', { ...base, status: 'done' }],
        ['NaN accuracy', { ...base, metrics: { accuracy: Number.NaN } }],
        ['negative training time', { ...base, cost: { trainingTimeSec: -1 } }],
        ['config value of an object', { ...base, config: { lr: { value: 1 } } }],
      ]);
    });

    check('version', async (t) => {
      const { kb, reopen } = await subject(t);
      const seen = new Map<string, string>();
      /** Imports `batch`; the version must move to a new value iff `changes`. */
      const step = async (label: string, batch: ImportBatch, changes: boolean) => {
        const before = await kb.version();
        await kb.importBatch(batch);
        const after = await kb.version();
        assertConsistent(await kb.snapshot());
        if (!changes) return assert.equal(after, before, `${label}: unchanged`);
        assert.notEqual(after, before, `${label}: changed`);
        assert.ok(
          !seen.has(after),
          `${label}: a version never seen, not that of ${seen.get(after)}`,
        );
        seen.set(after, label);
      };
      seen.set(await kb.version(), 'empty');
      await step('an empty batch', { records: [] }, false);
      await step('a record', { records: [RUNS[0]] }, true);
      await step('the same record', { records: [RUNS[0]] }, false);
      await step('a profile', { records: [], profiles: [PROFILES[0]] }, true);
      await step('the same profile', { records: [], profiles: [PROFILES[0]] }, false);
      await step(
        'a changed profile',
        { records: [], profiles: [{ ...PROFILES[0], numInstances: 31 }] },
        true,
      );
      await step('a model card', { records: [], models: [MODELS[1]] }, true);
      await step('the same model card', { records: [], models: [MODELS[1]] }, false);
      await step(
        'a changed model card',
        { records: [], models: [{ ...MODELS[1], params: 86000000 }] },
        true,
      );
      await step('a declaration', { records: [], hyperparameters: [DECLARED[0]] }, true);
      await step('the same declaration', { records: [], hyperparameters: [DECLARED[0]] }, false);
      await step(
        'a changed declaration',
        { records: [], hyperparameters: [{ ...DECLARED[0], log: false }], redeclare: true },
        true,
      );
      await step(
        'a stored run from another file',
        { records: [{ ...RUNS[0], provenance: { ...RUNS[0].provenance, source: 'copy.jsonl' } }] },
        false,
      );
      await step('another record', { records: [RUNS[1]] }, true);
      assert.equal(seen.size, 9);
      if (reopen) assert.equal(await (await reopen('read')).version(), await kb.version());
    });

    check('order', async (t) => {
      const a = await subject(t);
      const b = await subject(t);
      await a.kb.importBatch(fullBatch());
      // The same content in pieces, each list reversed, declarations in another order.
      const reversed = <T>(xs: T[]) => structuredClone([...xs].reverse());
      await b.kb.importBatch({ records: [], hyperparameters: [DECLARED[1]] });
      await b.kb.importBatch({ records: reversed(RUNS.slice(3)), models: reversed(MODELS) });
      await b.kb.importBatch({ records: reversed(RUNS.slice(0, 3)), profiles: reversed(PROFILES) });
      await b.kb.importBatch({ records: [], hyperparameters: [DECLARED[0]] });
      const sa = await assertHolds(a.kb, {
        records: RUNS,
        profiles: PROFILES,
        models: MODELS,
        hyperparameters: DECLARED,
      });
      const sb = await assertHolds(b.kb, {
        records: RUNS,
        profiles: PROFILES,
        models: MODELS,
        hyperparameters: [DECLARED[1], DECLARED[0]],
      });
      assert.equal(sb.version, sa.version);
    });

    check('filters', async (t) => {
      const { kb } = await subject(t);
      await kb.importBatch(fullBatch());
      const cases: [RecordFilter, string[]][] = [
        [{}, ['r0', 'r1', 'r2', 'r3', 'r4', 'r5']],
        [{ dataset: 'derma' }, ['r0', 'r1', 'r2']],
        [{ model: 'vit' }, ['r2', 'r3', 'r5']],
        [{ status: 'finished' }, ['r0', 'r2', 'r3']],
        [{ status: 'stopped' }, ['r4']],
        [{ dataset: 'derma', model: 'resnet18' }, ['r0', 'r1']],
        [{ dataset: 'derma', status: 'finished' }, ['r0', 'r2']],
        [{ model: 'vit', status: 'failed' }, ['r5']],
        [{ dataset: 'derma', model: 'resnet18', status: 'failed' }, ['r1']],
        [{ dataset: 'blood', status: 'failed' }, []],
        [{ dataset: 'nope' }, []],
        [{ model: 'vit', dataset: undefined }, ['r2', 'r3', 'r5']],
      ];
      for (const [filter, runIds] of cases)
        assert.deepEqual(
          byId(await kb.records(filter)),
          byId(RUNS.filter((r) => runIds.includes(r.provenance.runId ?? '')).map(stored)),
          JSON.stringify(filter),
        );
      assert.deepEqual(byId(await kb.records()), byId(RUNS.map(stored)));
    });

    check('sample', async (t) => {
      const { kb } = await subject(t);
      await kb.importBatch(fullBatch());
      const whole = await kb.snapshot();
      const sample = await kb.snapshot({ maxRecords: 2 });
      assert.deepEqual(
        sample.records.map((r) => r.id),
        whole.records
          .map((r) => r.id)
          .sort()
          .slice(0, 2),
      );
      assert.equal(sample.totalRecords, RUNS.length);
      assert.equal(sample.version, whole.version);
      assert.deepEqual(sample.profiles, whole.profiles);
      const none = await kb.snapshot({ maxRecords: 0 });
      assert.deepEqual([none.records.length, none.version], [0, whole.version]);
      // Enough room: the whole knowledge base, as without the option.
      assert.deepEqual(await kb.snapshot({ maxRecords: 100 }), whole);
    });

    check('stream', async (t) => {
      const { kb } = await subject(t);
      if (!kb.importStream) return t.skip('this backend has no importStream');
      const full = fullBatch();
      async function* failing(): AsyncGenerator<ImportBatch> {
        yield { ...full, records: full.records.slice(0, 3) };
        throw new MetallmixError('the source broke off');
      }
      const empty = await state(kb);
      await assert.rejects(kb.importStream(failing()), /the source broke off/);
      assert.equal(await state(kb), empty);
      async function* whole(): AsyncGenerator<ImportBatch> {
        yield { ...full, records: full.records.slice(0, 3) };
        yield { records: [...full.records.slice(3), structuredClone(RUNS[0])] };
      }
      const result = await kb.importStream(whole());
      assert.deepEqual(result.addedPerBatch, [3, RUNS.length - 3]);
      assert.deepEqual(result.profiles, { added: 2, updated: 0, unchanged: 0 });
      const other = await subject(t);
      await other.kb.importBatch(fullBatch());
      assert.equal(await kb.version(), await other.kb.version());
    });

    check('unshared', async (t) => {
      const { kb } = await subject(t);
      const batch = fullBatch();
      await kb.importBatch(batch);
      const expected = await kb.snapshot();
      const pristine = structuredClone(expected);
      // Everything the caller got or gave may change without the knowledge base noticing.
      batch.records[0].config.lr = 42;
      batch.records.pop();
      batch.profiles![0].numInstances = 1;
      batch.models![0].family = 'changed';
      batch.hyperparameters![0].type = 'bool';
      const s = await kb.snapshot();
      s.records[0].config.lr = 42;
      s.records[1].metrics.accuracy = -1;
      s.records[2].provenance.runId = 'changed';
      s.records.pop();
      s.profiles[0].numInstances = 1;
      s.profiles[0].classCounts = { z: 1 };
      s.models[0].family = 'changed';
      s.hyperparameters[0].log = false;
      (s.hyperparameters[1].choices ?? []).push('changed');
      s.hyperparameters.pop();
      const listed = await kb.records({ dataset: 'derma' });
      listed[0].config.strategy = 'changed';
      listed[0].cost.trainingTimeSec = 0;
      assert.deepEqual(await kb.snapshot(), pristine);
      assert.deepEqual(await kb.records(), pristine.records);
      assert.deepEqual(
        await kb.records({ dataset: 'derma' }),
        pristine.records.filter((r) => r.dataset === 'derma'),
      );
      assert.equal(await kb.version(), pristine.version);
    });

    check('readOnly', async (t) => {
      const { kb, reopen } = await subject(t);
      if (!reopen) return t.skip(`${name} gives no second instance (reopen)`);
      await kb.importBatch(fullBatch());
      const before = await state(kb);
      const ro = await reopen('read');
      assert.equal(ro.writable, false);
      assert.equal(await state(ro), before);
      for (const batch of [
        { records: [run('n1', 'chest', 'vit', 'finished', 7)] },
        { records: [], profiles: [{ ...PROFILES[0], numInstances: 99 }] },
        fullBatch(),
        { records: [] },
      ])
        await assert.rejects(ro.importBatch(batch), isMetallmixError);
      assert.equal(await state(ro), before);
      assert.equal(await state(kb), before);
      assert.equal(await state(await reopen('write')), before);
      // It reads what writers commit after it was opened.
      const added = run('n2', 'chest', 'vit', 'finished', 8);
      await kb.importBatch({ records: [added] });
      await assertHolds(ro, {
        records: [...RUNS, added],
        profiles: PROFILES,
        models: MODELS,
        hyperparameters: DECLARED,
      });
    });

    check('close', async (t) => {
      const { kb, reopen } = await subject(t);
      await kb.importBatch(fullBatch());
      await kb.close();
      await kb.close();
      if (reopen) {
        for (const mode of ['read', 'write'] as const) {
          const other = await reopen(mode);
          await assertHolds(other, {
            records: RUNS,
            profiles: PROFILES,
            models: MODELS,
            hyperparameters: DECLARED,
          });
          await other.close();
          await other.close();
        }
      }
    });

    check('snapshot', async (t) => {
      const { kb } = await subject(t);
      await kb.importBatch({ records: RUNS.slice(0, 3), profiles: [PROFILES[0]] });
      const early = await kb.snapshot();
      const pristine = structuredClone(early);
      await kb.importBatch({
        records: RUNS.slice(3),
        profiles: [{ ...PROFILES[0], numInstances: 31 }, PROFILES[1]],
        models: MODELS,
        hyperparameters: DECLARED,
      });
      assert.deepEqual(early, pristine);
      await assertHolds(kb, {
        records: RUNS,
        profiles: [{ ...PROFILES[0], numInstances: 31 }, PROFILES[1]],
        models: MODELS,
        hyperparameters: DECLARED,
      });
    });

    check('writers', async (t) => {
      const { kb, writerInAnotherProcess: writer } = await subject(t);
      if (!writer) return t.skip(`${name} names no writer in another process`);
      const dir = tempDir(t);
      const BATCHES = 12;
      const PER = 10;
      // Each writer's batch i has its own runs and runs the other writer's batch i also has; one
      // batch is identical in both. Profiles, cards and declarations are upserted by both.
      const batchOf = (who: string, i: number): ImportBatch => ({
        records: [
          ...Array.from({ length: PER }, (_, j) =>
            run(`${who}-${i}-${j}`, ['derma', 'blood'][j % 2], 'vit', 'finished', i * PER + j),
          ),
          ...Array.from({ length: PER / 2 }, (_, j) =>
            run(`both-${i}-${j}`, 'chest', 'resnet18', 'failed', j),
          ),
        ],
        profiles: PROFILES,
        models: MODELS,
        hyperparameters: DECLARED,
        declaredIn: `${who}.json`,
      });
      const shared = batchOf('shared', 0);
      const batchesA = [shared, ...Array.from({ length: BATCHES }, (_, i) => batchOf('a', i))];
      const batchesB = [...Array.from({ length: BATCHES }, (_, i) => batchOf('b', i)), shared];
      const barrier = path.join(dir, 'barrier');
      mkdirSync(barrier);
      const args = (id: string, batches: ImportBatch[]) => [
        barrier,
        '2',
        id,
        writer.locator,
        'batches',
        write(dir, `${id}.json`, batches),
      ];
      const [a, b] = await Promise.all([
        runImportWorker(args('a', batchesA), writer.env),
        runImportWorker(args('b', batchesB), writer.env),
      ]);
      assert.ok(
        Math.max(a.start, b.start) < Math.min(a.end, b.end),
        'the two writers overlapped in time',
      );
      const union = new Map<string, ExperimentRecord>();
      for (const batch of [...batchesA, ...batchesB])
        for (const r of batch.records) union.set(recordId(r), r);
      assert.equal(union.size, (2 * BATCHES + 1) * PER + BATCHES * (PER / 2));
      const addedA = new Set(a.addedIds);
      assert.equal(addedA.size, a.addedIds.length);
      assert.deepEqual(
        a.addedIds.filter((id) => b.addedIds.includes(id)),
        [],
        'no record was added by both',
      );
      assert.deepEqual(new Set([...a.addedIds, ...b.addedIds]), new Set(union.keys()));
      await assertHolds(kb, {
        records: [...union.values()],
        profiles: PROFILES,
        models: MODELS,
        hyperparameters: DECLARED,
      });
    });

    check('whole', async (t) => {
      const { kb, writerInAnotherProcess: writer } = await subject(t);
      if (!writer) return t.skip(`${name} names no writer in another process`);
      const dir = tempDir(t);
      const BATCHES = 25;
      const PER = 8;
      // Batch i adds its runs, a profile and a declaration: a snapshot holding part of it shows.
      const batches: ImportBatch[] = Array.from({ length: BATCHES }, (_, i) => ({
        records: Array.from({ length: PER }, (_, j) =>
          run(`w-${i}-${j}`, `ds-${i}`, 'vit', 'finished', j),
        ),
        profiles: [
          {
            name: `ds-${i}`,
            task: 'multiclass',
            modality: 'xray',
            numInstances: 10 + i,
            numClasses: 2,
          },
        ],
        hyperparameters: [{ name: `h${i}`, type: 'int' }],
      }));
      const barrier = path.join(dir, 'barrier');
      mkdirSync(barrier);
      let done = false;
      const child = runImportWorker(
        [barrier, '1', 'w', writer.locator, 'batches', write(dir, 'w.json', batches), '20'],
        writer.env,
      ).finally(() => (done = true));
      const states = new Set<number>();
      const observe = async () => {
        const s = await kb.snapshot();
        assertConsistent(s);
        const k = s.profiles.length;
        const prefix = batches.slice(0, k);
        assert.deepEqual(
          byId(s.records),
          byId(prefix.flatMap((b) => b.records).map(stored)),
          `the records of the first ${k} batches`,
        );
        assert.deepEqual(byName(s.profiles), byName(prefix.flatMap((b) => b.profiles ?? [])));
        assert.deepEqual(
          s.hyperparameters,
          prefix.flatMap((b) => b.hyperparameters),
        );
        assert.equal((await kb.records()).length % PER, 0, 'records() holds whole batches');
        states.add(k);
      };
      while (!done) {
        await observe();
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      await child;
      await observe();
      assert.ok(states.has(BATCHES), 'the last state holds every batch');
      assert.ok(
        [...states].some((k) => k > 0 && k < BATCHES),
        `a state in the middle of the import was observed (seen: ${[...states].sort((x, y) => x - y).join(', ')})`,
      );
    });
  });
}
