// Exports loaded by their tools: the Optuna script run by real Optuna 3.1 (/usr/bin/python3) on a
// SQLite study, its objective called for the enqueued trials; the ConfigSpace JSON and the W&B
// sweeps checked against JSON Schemas derived from their documented formats (validated by
// python3-jsonschema; ConfigSpace and wandb themselves are not installable here) and against
// the semantics their loaders enforce; `--out` as the path typed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  configViolations,
  type Config,
  type Hyperparameter,
  type SearchSpace,
} from '../../src/core/index.ts';
import { exportRecommendation, recommend } from '../../src/index.ts';
import { exportFiles, exportSpace, secondFileName } from '../../src/recommend/export.ts';
import { runCli } from '../support/cli.ts';
import { EXAMPLE } from './example.ts';
import { QT_MODELS, QT_SPACE, qtRecommendation } from './export-fixture.ts';

const FORMATS = new URL('./fixtures/formats/', import.meta.url).pathname;
let dir: string;
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'metallmix-export-'));
  process.env.METALLMIX_CACHE = path.join(dir, 'cache');
  delete process.env.METALLMIX_KB;
});
after(() => rmSync(dir, { recursive: true, force: true }));

const python = (args: string[], cwd?: string) =>
  execFileSync('/usr/bin/python3', args, {
    encoding: 'utf8',
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });

function hasPython(module: string): boolean {
  try {
    python(['-c', `import ${module}`]);
    return true;
  } catch {
    return false;
  }
}

/** Validates `value` against a schema of fixtures/formats with python3-jsonschema; its errors, or ''. */
function schemaErrors(value: unknown, schema: string): string {
  const file = path.join(dir, `value-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(value));
  return python([
    '-c',
    `import json, sys, jsonschema
v = jsonschema.Draft7Validator(json.load(open(sys.argv[2])))
print("; ".join(f"{list(e.path)}: {e.message}" for e in v.iter_errors(json.load(open(sys.argv[1])))))`,
    file,
    path.join(FORMATS, schema),
  ]).trim();
}

const rec = qtRecommendation();
const recommended = rec.topK.map((c) => ({ model: c.model, ...c.config }));
const space = exportSpace(rec, QT_SPACE, QT_MODELS);

test('optuna: enqueues the recommended trials with honest counts; the objective gets their params', (t) => {
  if (!hasPython('optuna'))
    return t.skip('python3-optuna is not installed (scripts/install-system-deps.sh)');
  const script = path.join(dir, 'optuna', 'tune.py');
  mkdirSync(path.dirname(script), { recursive: true });
  const [file] = exportFiles(rec, 'optuna', QT_SPACE, QT_MODELS, script);
  assert.equal(file.name, script);
  writeFileSync(script, file.content);
  const storage = `sqlite:///${path.join(dir, 'optuna', 'study.db')}`;

  assert.match(
    python([script, storage, 's']),
    /^enqueued 3 of 3 recommended trials into study 's' at /m,
  );
  assert.match(
    python([script, storage, 's']),
    /enqueued 0 of 3 recommended trials into study 's' at .*; skipped 3 already in the study/,
  );

  // One of the three already in another study: two enqueued, one skipped.
  python([
    '-c',
    `import importlib.util, optuna
spec = importlib.util.spec_from_file_location("tune", "${script}")
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
s = optuna.create_study(study_name="p", storage="${storage}", direction=m.DIRECTION)
s.enqueue_trial(m.RECOMMENDED[1]["params"])`,
  ]);
  assert.match(
    python([script, storage, 'p']),
    /enqueued 2 of 3 .*; skipped 1 already in the study/,
  );

  // The enqueued trials run through the objective first, then TPE samples the space.
  const out = python([
    '-c',
    `import importlib.util, json, optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
spec = importlib.util.spec_from_file_location("tune", "${script}")
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
seen = []
def train(args):
    seen.append(args)
    return 0.5
m.train_and_evaluate = train
s = optuna.load_study(study_name="s", storage="${storage}")
s.optimize(m.objective, n_trials=15)
print(json.dumps([{"state": t.state.name, "params": t.params, "rank": t.user_attrs.get("metallmix_rank"), "args": a} for t, a in zip(s.trials, seen)]))`,
  ]);
  const trials = JSON.parse(out) as {
    state: string;
    params: Config;
    rank?: number;
    args: Record<string, unknown>;
  }[];
  assert.equal(trials.length, 15);
  trials.slice(0, 3).forEach((tr, i) => {
    assert.equal(tr.rank, i + 1);
    assert.deepEqual(tr.params, recommended[i], `trial ${i} runs recommendation ${i + 1}`);
  });
  for (const tr of trials) {
    assert.equal(tr.state, 'COMPLETE');
    assert.deepEqual(configViolations(space, tr.params), [], JSON.stringify(tr.params));
    if (tr.params.opt_betas !== undefined)
      assert.deepEqual(
        tr.args.opt_betas,
        JSON.parse(String(tr.params.opt_betas)),
        'decoded for training',
      );
  }
  assert.ok(new Set(trials.map((tr) => tr.params.model)).size > 1, 'TPE samples other models too');
});

/** The SearchSpace a ConfigSpace file describes, read as ConfigSpace reads it. */
function fromConfigSpace(cs: {
  hyperparameters: Record<string, unknown>[];
  conditions: Record<string, unknown>[];
}): SearchSpace {
  const conditions = new Map(
    cs.conditions.map((c) => [
      c.child as string,
      {
        parent: c.parent as string,
        values: (c.type === 'IN' ? c.values : [c.value]) as Config[string][],
      },
    ]),
  );
  return {
    parameters: cs.hyperparameters.map((h): Hyperparameter => {
      const name = h.name as string;
      const condition = conditions.get(name);
      const base = { name, ...(condition ? { condition } : {}) };
      if (h.type === 'categorical')
        return { ...base, type: 'categorical', choices: h.choices as Config[string][] };
      return {
        ...base,
        type: h.type === 'uniform_int' ? 'int' : 'float',
        low: h.lower as number,
        high: h.upper as number,
        log: h.log as boolean,
      };
    }),
  };
}

/** What ConfigurationSpace's constructors would reject: bounds, defaults, conditions. */
function configSpaceProblems(cs: {
  hyperparameters: Record<string, unknown>[];
  conditions: Record<string, unknown>[];
}): string[] {
  const problems: string[] = [];
  const byName = new Map(cs.hyperparameters.map((h) => [h.name as string, h]));
  if (byName.size !== cs.hyperparameters.length) problems.push('duplicate names');
  for (const h of cs.hyperparameters) {
    const d = h.default_value;
    if (h.type === 'categorical') {
      const choices = h.choices as unknown[];
      if (new Set(choices.map((c) => JSON.stringify(c))).size !== choices.length)
        problems.push(`${h.name}: duplicate choices`);
      if (!choices.includes(d)) problems.push(`${h.name}: default ${d} not a choice`);
    } else {
      const [lo, hi] = [h.lower as number, h.upper as number];
      if (!(lo <= hi)) problems.push(`${h.name}: lower > upper`);
      if (typeof d !== 'number' || d < lo || d > hi) problems.push(`${h.name}: default outside`);
      if (h.log && !(lo > 0)) problems.push(`${h.name}: log with lower <= 0`);
    }
  }
  const children = new Set<string>();
  for (const c of cs.conditions) {
    const parent = byName.get(c.parent as string);
    if (!byName.has(c.child as string) || !parent) problems.push(`condition on unknown ${c.child}`);
    if (children.has(c.child as string)) problems.push(`${c.child}: two conditions`);
    children.add(c.child as string);
    const values = (c.type === 'IN' ? c.values : [c.value]) as unknown[];
    for (const v of values) {
      const legal =
        parent?.type === 'categorical'
          ? (parent.choices as unknown[]).includes(v)
          : typeof v === 'number' &&
            v >= (parent?.lower as number) &&
            v <= (parent?.upper as number);
      if (!legal) problems.push(`${c.child}: condition value ${v} illegal for ${c.parent}`);
    }
  }
  return problems;
}

test('configspace: a ConfigSpace JSON (conditions included) and an initial design of the recommended configurations', (t) => {
  if (!hasPython('jsonschema'))
    return t.skip('python3-jsonschema is not installed (scripts/install-system-deps.sh)');
  const main = path.join(dir, 'cs', 'space.json');
  const files = exportFiles(rec, 'configspace', QT_SPACE, QT_MODELS, main);
  assert.deepEqual(
    files.map((f) => f.name),
    [main, path.join(dir, 'cs', 'space.initial-design.json')],
  );
  const cs = JSON.parse(files[0].content);
  assert.equal(schemaErrors(cs, 'configspace.schema.json'), '');
  assert.deepEqual(configSpaceProblems(cs), []);
  assert.deepEqual(
    cs.conditions.map((c: { child: string; type: string }) => `${c.child}:${c.type}`).sort(),
    ['momentum:IN', 'opt_betas:IN', 'ra_magnitude:EQ', 'warmup_lr:IN'],
  );
  // Floats keep a decimal point (ConfigSpace types them), the pick is the default configuration.
  assert.match(
    files[0].content,
    /"name": "drop",\n\s+"lower": 0\.0,\n\s+"upper": 0\.4,\n\s+"default_value": 0\.0/,
  );
  const lr = cs.hyperparameters.find((h: { name: string }) => h.name === 'lr');
  assert.deepEqual(
    [lr.type, lr.log, lr.default_value, lr.meta],
    ['uniform_float', true, 1e-4, { description: 'learning rate' }],
  );
  const initial = JSON.parse(files[1].content) as Config[];
  assert.deepEqual(initial, recommended);
  const read = fromConfigSpace(cs);
  for (const c of initial) assert.deepEqual(configViolations(read, c), [], JSON.stringify(c));
});

test('wandb: a grid sweep of exactly the recommended configurations and a bayes sweep over the space', (t) => {
  if (!hasPython('jsonschema'))
    return t.skip('python3-jsonschema is not installed (scripts/install-system-deps.sh)');
  const files = exportFiles(rec, 'wandb', QT_SPACE, QT_MODELS, path.join(dir, 'sweep.yml'));
  assert.deepEqual(
    files.map((f) => path.basename(f.name)),
    ['sweep.yml', 'sweep.search.yaml'],
  );
  const [grid, search] = files.map((f) => parseYaml(f.content));
  for (const sweep of [grid, search])
    assert.equal(schemaErrors(sweep, 'wandb-sweep.schema.json'), '');
  assert.deepEqual(grid.metric, { name: 'accuracy', goal: 'maximize' });
  assert.equal(grid.method, 'grid');
  // A grid is the cross product of its parameters' values: here exactly the 3 configurations.
  const values = Object.values(grid.parameters as Record<string, { values: unknown[] }>);
  assert.equal(
    values.reduce((n, p) => n * p.values.length, 1),
    3,
  );
  assert.deepEqual(grid.parameters.metallmix.values, recommended);

  assert.equal(search.method, 'bayes');
  assert.deepEqual(
    Object.keys(search.parameters),
    space.parameters.map((p) => p.name),
  );
  const p = search.parameters;
  assert.deepEqual(p.lr, { distribution: 'log_uniform_values', min: 1e-5, max: 0.01 });
  assert.deepEqual(p.batch_size, { distribution: 'q_log_uniform_values', min: 4, max: 128, q: 1 });
  assert.deepEqual(p.warmup_epochs, { distribution: 'int_uniform', min: 0, max: 10 });
  assert.deepEqual(p.drop, { distribution: 'uniform', min: 0, max: 0.4 });
  assert.deepEqual(p.amp, { values: [false, true] });
  assert.deepEqual(p.clip_grad, { values: ['none', 1, 10] });
  assert.deepEqual(p.model.values, QT_MODELS);
  assert.match(files[1].content, /^#\s+opt_betas when opt is "adam" or "adamw"$/m);
});

test('the exported space holds every recommended value and drops conditions no parent value meets', () => {
  const narrow: SearchSpace = {
    parameters: [
      { name: 'lr', type: 'float', low: 1e-3, high: 1e-2, log: true },
      { name: 'opt', type: 'categorical', choices: ['adam'] },
      {
        name: 'momentum',
        type: 'float',
        low: 0,
        high: 1,
        log: false,
        condition: { parent: 'opt', values: ['sgd'] },
      },
    ],
  };
  const r = qtRecommendation();
  const s = exportSpace(r, narrow, ['edgenext_small']);
  const lr = s.parameters.find((q) => q.name === 'lr')!;
  assert.deepEqual([lr.type === 'float' && lr.low, lr.type === 'float' && lr.high], [1e-4, 1e-2]);
  assert.deepEqual(
    s.parameters.find((q) => q.name === 'opt')!.type === 'categorical' &&
      (s.parameters.find((q) => q.name === 'opt') as { choices: unknown[] }).choices,
    ['adam', 'adamw', 'sgd'],
  );
  assert.deepEqual(s.parameters[0], {
    name: 'model',
    type: 'categorical',
    choices: ['edgenext_small', 'swinv2_base_window12to24_192to384_22kft1k'],
    description: 'pretrained model to fine-tune',
  });
  assert.equal(secondFileName('configspace', 'a/b.JSON'), 'a/b.initial-design.json');
  assert.equal(secondFileName('wandb', 'sweep'), 'sweep.search.yaml');
  assert.equal(secondFileName('optuna', 'tune.py'), undefined);
});

test('--out is the path typed; a directory gets the default names; a stale recommendation is refused', async () => {
  const real = await recommend({ dataset: { profileFile: EXAMPLE }, topK: 2 });
  const at = (...p: string[]) => path.join(dir, 'out', ...p);
  let r = await exportRecommendation({ recommendation: real, format: 'json', out: at('plan') });
  assert.deepEqual(
    r.files.map((f) => f.path),
    [at('plan')],
  );
  assert.equal(JSON.parse(readFileSync(at('plan'), 'utf8')).length, 2);
  r = await exportRecommendation({
    recommendation: real,
    format: 'configspace',
    out: `${at('cs')}/`,
  });
  assert.deepEqual(
    r.files.map((f) => f.path),
    [at('cs', 'metallmix-configspace.json'), at('cs', 'metallmix-configspace.initial-design.json')],
  );
  r = await exportRecommendation({ recommendation: real, format: 'optuna', out: at('cs') });
  assert.deepEqual(
    r.files.map((f) => f.path),
    [at('cs', 'metallmix-optuna.py')],
  );
  assert.match(r.usage!, /^python3 .*metallmix-optuna\.py sqlite:\/\/\/metallmix\.db/);
  await assert.rejects(
    exportRecommendation({
      recommendation: { ...real, knowledgeBase: { ...real.knowledgeBase, version: 'old' } },
      format: 'yaml',
      out: at('stale.yaml'),
    }),
    /the recommendation was made at old: recommend again before exporting/,
  );
  assert.ok(!existsSync(at('stale.yaml')));
});

test('recommend --export optuna --out FILE: the script real Optuna runs, named in the report', async (t) => {
  const script = path.join(dir, 'cli', 'first.py');
  const r = await runCli(
    'recommend',
    '--profile',
    EXAMPLE,
    '--top-k',
    '3',
    '--export',
    'optuna',
    '--out',
    script,
  );
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, new RegExp(`wrote ${script} \\(Optuna script`));
  assert.match(r.out, /^Next:(\n| )python3 \S+first\.py sqlite:\/\/\/metallmix\.db/m);
  if (!hasPython('optuna')) return t.skip('python3-optuna is not installed');
  const storage = `sqlite:///${path.join(dir, 'cli', 'study.db')}`;
  assert.match(
    python([script, storage]),
    /enqueued 3 of 3 recommended trials into study 'metallmix-chest-xray-small'/,
  );
});
