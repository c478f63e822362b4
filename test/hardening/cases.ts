// The bad-input suite as data: every case of issue 11 (and the ones added since) states the
// command it runs on inputs it builds in a temp dir, the exit code, a pattern for the message
// (file, line, field and reason), and that the knowledge base and every file given (the dir's
// digest) are byte-for-byte unchanged. test/hardening/bad-input.test.ts runs them;
// bench/bad-input-table.ts prints the table of outcomes.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import type { Env } from '../../src/core/index.ts';
import { runCliWith, type CliResult } from '../support/cli.ts';
import { completion, startFakeOpenAIServer } from '../llm/fake-openai-server.ts';
import { writeFileStore } from '../store/fixtures/mlflow-fixture.ts';
import type { FakeOpenAIServerOptions } from '../llm/fake-openai-server.ts';
import * as img from '../profile/images.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = path.join(ROOT, 'bin', 'metallmix.js');

export interface CaseContext {
  /** The watched folder: inputs and the knowledge base live here. */
  dir: string;
  /** A small knowledge base (copied fresh for the case) at dir/kb.sqlite. */
  kb: string;
  /** The mapping that built it, and its source CSV, in dir. */
  mapping: string;
  csv: string;
  write(name: string, content: string | Buffer | object): string;
  fifo(name: string): string;
  /** Runs after the case (servers, lock holders). */
  after(fn: () => void | Promise<void>): void;
}

export interface Invocation {
  args?: string[];
  /** A shell pipeline instead of an in-process run (`{bin}` is bin/metallmix.js). */
  shell?: string;
  env?: Env;
  /** Files of the dir that the command may change (e.g. an export it was asked to write). */
  mayWrite?: RegExp;
}

export interface BadInputCase {
  id: string;
  /** Listed in issue 11 (true) or added by the hardening pass. */
  fromIssue: boolean;
  title: string;
  setup(ctx: CaseContext): Promise<Invocation> | Invocation;
  exit: number;
  /** Matched against stderr + stdout. */
  message: RegExp;
  /** Extra checks on the outcome (e.g. what must not appear). */
  check?(result: CliResult, ctx: CaseContext): void | string;
  /** Skipped with this reason when it returns a string (e.g. not root for a tmpfs). */
  needs?(): string | undefined;
}

// ---- fixtures ------------------------------------------------------------------------------

const MAPPING = {
  dataset: 'ds',
  model: 'model',
  metrics: { accuracy: { column: 'acc', unit: 'percent' } },
  cost: { trainingTimeSec: { column: 'minutes', unit: 'min' } },
  seed: 'seed',
  runId: 'run',
  hyperparameters: [
    { name: 'lr', type: 'float', log: true },
    { name: 'opt', type: 'categorical', choices: ['sgd', 'adam'] },
    { name: 'momentum', type: 'float', condition: { parent: 'opt', values: ['sgd'] } },
  ],
  profiles: 'profiles.json',
  models: 'models.json',
};

/** Every profile's images: 28 x 28, as MedMNIST's. */
const SMALL_IMAGES = {
  medianWidth: 28,
  medianHeight: 28,
  minWidth: 28,
  minHeight: 28,
  maxWidth: 28,
  maxHeight: 28,
};

const PROFILES = [
  {
    name: 'derma',
    task: 'multiclass',
    modality: 'dermoscopy',
    numInstances: 300,
    numClasses: 3,
    classCounts: { a: 100, b: 120, c: 80 },
    resolution: SMALL_IMAGES,
    channels: 3,
  },
  {
    name: 'blood',
    task: 'multiclass',
    modality: 'blood-smear',
    numInstances: 800,
    numClasses: 4,
    classCounts: { a: 200, b: 200, c: 250, d: 150 },
    resolution: SMALL_IMAGES,
    channels: 3,
  },
];

const MODELS = [
  { id: 'resnet18', family: 'resnet', architecture: 'cnn', params: 11690000 },
  { id: 'vit', family: 'vit', architecture: 'transformer', params: 86000000 },
];

function sourceCsv(): string {
  const rows = ['run,ds,model,lr,opt,momentum,acc,minutes,seed'];
  let n = 0;
  for (const ds of ['derma', 'blood'])
    for (const model of ['resnet18', 'vit'])
      for (const lr of [0.0001, 0.001, 0.01])
        for (const opt of ['sgd', 'adam']) {
          n++;
          const acc = 60 + ((n * 7) % 30) + (model === 'vit' ? 3 : 0);
          rows.push(
            `r${n},${ds},${model},${lr},${opt},${opt === 'sgd' ? 0.9 : 0},${acc},${2 + (n % 5)},${n % 3}`,
          );
        }
  return `${rows.join('\n')}\n`;
}

export const PROFILE = {
  name: 'new-derma',
  task: 'multiclass',
  modality: 'dermoscopy',
  numInstances: 500,
  numClasses: 3,
  classCounts: { a: 200, b: 200, c: 100 },
  resolution: SMALL_IMAGES,
  channels: 3,
};

let baseKb: Promise<string> | undefined;

/** The knowledge base every case gets a copy of, built once per process through the CLI. */
function baseKnowledgeBase(): Promise<string> {
  baseKb ??= (async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'metallmix-hardening-base-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(path.join(dir, 'mapping.json'), JSON.stringify(MAPPING));
    writeFileSync(path.join(dir, 'profiles.json'), JSON.stringify(PROFILES));
    writeFileSync(path.join(dir, 'models.json'), JSON.stringify(MODELS));
    writeFileSync(path.join(dir, 'runs.csv'), sourceCsv());
    const r = await runCliWith(
      { env: isolatedEnv(dir) },
      'import',
      path.join(dir, 'runs.csv'),
      '--mapping',
      path.join(dir, 'mapping.json'),
      '--kb',
      path.join(dir, 'kb.sqlite'),
      '--quiet',
    );
    if (r.code !== 0) throw new Error(`base knowledge base: ${r.err}`);
    return dir;
  })();
  return baseKb;
}

/** An environment that reads and writes nothing of the user's (cache, data, config). */
export function isolatedEnv(dir: string): Env {
  return {
    PATH: process.env.PATH,
    HOME: path.join(dir, 'home'),
    METALLMIX_CACHE: path.join(dir, 'cache'),
    METALLMIX_DATA: path.join(dir, 'data'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
  };
}

// ---- the digest ----------------------------------------------------------------------------

/** Every entry under `dir` (name, kind, bytes of regular files), hashed; FIFOs are never opened. */
export function digest(dir: string, ignore?: RegExp): string {
  const hash = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = path.join(d, name);
      const rel = path.relative(dir, full);
      if (ignore?.test(rel)) continue;
      const st = lstatSync(full);
      hash.update(
        `${rel}\0${st.isFile() ? 'f' : st.isDirectory() ? 'd' : st.isFIFO() ? 'p' : 'o'}\0`,
      );
      if (st.isFile()) hash.update(readFileSync(full));
      if (st.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return hash.digest('hex');
}

// ---- helpers for cases ---------------------------------------------------------------------

const importArgs = (ctx: CaseContext, file: string, mapping = ctx.mapping, kb = ctx.kb) => [
  'import',
  file,
  '--mapping',
  mapping,
  '--kb',
  kb,
  '--quiet',
];

/** recommend for the base profile (written to p.json) on the case's knowledge base. */
const recommendArgs = (ctx: CaseContext, ...more: string[]) => [
  'recommend',
  '--profile',
  ctx.write('p.json', PROFILE),
  '--kb',
  ctx.kb,
  ...more,
];

/**
 * recommend through a fake LLM endpoint that answers every request with `fallback`; one attempt
 * and no LLM judge, so the case sees what metallmix makes of that one reply.
 */
async function recommendWithFakeLlm(
  ctx: CaseContext,
  fallback: FakeOpenAIServerOptions['fallback'],
  ...more: string[]
): Promise<Invocation> {
  const server = await startFakeOpenAIServer({ fallback });
  ctx.after(() => server.close());
  return {
    args: recommendArgs(
      ctx,
      '--llm-base-url',
      server.baseUrl,
      '--llm-model',
      'm',
      '--no-llm-judge',
      '--max-attempts',
      '1',
      ...more,
    ),
    mayWrite: /\.vectors$|-wal$|-shm$/,
  };
}

/** A mapping next to the base one: the base mapping with `change` applied. */
function mappingWith(
  ctx: CaseContext,
  name: string,
  change: (m: typeof MAPPING) => object,
): string {
  return ctx.write(name, change(structuredClone(MAPPING)));
}

/** The base mapping with momentum declared again, on the condition that opt is one of `values`. */
function momentumWhen(ctx: CaseContext, name: string, values: string[]): string {
  return mappingWith(ctx, name, (m) => {
    m.hyperparameters[2] = {
      name: 'momentum',
      type: 'float',
      condition: { parent: 'opt', values },
    };
    return m;
  });
}

/** A check on the names in `dir`: what is there, when they fail `ok`. */
function filesIn(dir: string, ok: (names: string[]) => boolean): string | undefined {
  const names = readdirSync(dir);
  return ok(names) ? undefined : `files: ${names.join(', ')}`;
}

function csvWith(ctx: CaseContext, name: string, rows: string[]): string {
  return ctx.write(name, `run,ds,model,lr,opt,momentum,acc,minutes,seed\n${rows.join('\n')}\n`);
}

/** A minimal Optuna RDB storage (the tables and columns metallmix reads). */
function optunaStorage(file: string): string {
  const db = new Database(file);
  db.exec(`
    CREATE TABLE studies (study_id INTEGER PRIMARY KEY, study_name TEXT);
    CREATE TABLE trials (trial_id INTEGER PRIMARY KEY, number INTEGER, study_id INTEGER, state TEXT, datetime_start TEXT, datetime_complete TEXT);
    CREATE TABLE trial_params (param_id INTEGER PRIMARY KEY, trial_id INTEGER, param_name TEXT, param_value REAL, distribution_json TEXT);
    CREATE TABLE trial_values (trial_value_id INTEGER PRIMARY KEY, trial_id INTEGER, objective INTEGER, value REAL, value_type TEXT);
    INSERT INTO studies VALUES (1, 'derma-search');
    INSERT INTO trials VALUES (1, 0, 1, 'COMPLETE', '2024-01-01 10:00:00', '2024-01-01 10:05:00');
    INSERT INTO trial_params VALUES (1, 1, 'batch_size', 1, '{"name": "CategoricalDistribution", "attributes": {"choices": [16, 32, 64]}}');
    INSERT INTO trial_values VALUES (1, 1, 0, 0.91, 'FINITE');
  `);
  db.close();
  return file;
}

/**
 * The Optuna storage, once the knowledge base holds batch_size as an int (imported from a CSV):
 * the storage's categorical batch_size then clashes with the stored type.
 */
async function optunaOverIntBatchSize(ctx: CaseContext): Promise<string> {
  const first = await runCliWith(
    { env: isolatedEnv(ctx.dir) },
    ...importArgs(
      ctx,
      ctx.write('bs.csv', 'run,ds,model,bs,acc\nb1,derma,vit,32,71\n'),
      ctx.write('bs.json', {
        dataset: 'ds',
        model: 'model',
        metrics: { accuracy: { column: 'acc', unit: 'percent' } },
        runId: 'run',
        hyperparameters: [{ name: 'batch_size', column: 'bs', type: 'int' }],
      }),
    ),
  );
  if (first.code !== 0) throw new Error(first.err);
  return optunaStorage(path.join(ctx.dir, 'study.db'));
}

const OPTUNA_MAPPING = {
  format: 'optuna',
  dataset: { value: 'derma' },
  model: { value: 'resnet18' },
  metrics: { accuracy: 'value' },
};

/** import of an Optuna storage file with the mapping above. */
const importOptuna = (ctx: CaseContext, file: string, mapping: object = OPTUNA_MAPPING) =>
  importArgs(ctx, file, ctx.write('optuna.json', mapping));

/** The bytes of a valid Optuna storage, to damage before the case writes them. */
function optunaBytes(ctx: CaseContext): Buffer {
  const tmp = optunaStorage(path.join(ctx.dir, 'full.tmp'));
  const bytes = readFileSync(tmp);
  rmSync(tmp);
  return bytes;
}

/** A process that holds an exclusive lock on a SQLite file until the case ends. */
async function holdLock(ctx: CaseContext, file: string): Promise<void> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-e',
      `const D = require(${JSON.stringify(path.join(ROOT, 'node_modules', 'better-sqlite3'))});
       const db = new D(${JSON.stringify(file)}); db.exec('BEGIN EXCLUSIVE');
       db.prepare('INSERT INTO studies VALUES (2, ?)').run('locked');
       process.stdout.write('locked\\n'); setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  ctx.after(() => void child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited ${code}`)));
  });
}

const isRoot = () => (process.getuid?.() === 0 ? undefined : 'needs root to mount a small tmpfs');

/** A tmpfs of `kb` kilobytes at dir/name, unmounted after the case. */
function smallDisk(ctx: CaseContext, name: string, kb: number): string {
  const mount = path.join(ctx.dir, name);
  mkdirSync(mount);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', mount]);
  if (r.status !== 0) throw new Error(`mount failed: ${r.stderr}`);
  ctx.after(() => void spawnSync('umount', ['-l', mount]));
  return mount;
}

const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

/**
 * `metallmix run` of one trial on the base profile, whose training command is a Node script
 * with `body` as its code (it gets the model and `{args}`); the run folder is dir/runs.
 */
function runOneTrial(ctx: CaseContext, body: string, ...more: string[]): string[] {
  const script = ctx.write('train.mjs', body);
  return [
    'run',
    '--profile',
    ctx.write('p.json', PROFILE),
    '--kb',
    ctx.kb,
    '--trials',
    '1',
    '--quiet',
    '--run-dir',
    path.join(ctx.dir, 'runs'),
    '--command',
    `${process.execPath} ${script} {model} {args}`,
    ...more,
  ];
}

/** A trainer that reports an accuracy of 0.8 on its METALLMIX_RESULT line after `ms`. */
const reportAfter = (ms: number) =>
  `setTimeout(() => console.log('METALLMIX_RESULT {"accuracy": 0.8}'), ${ms});`;

/** The parts of an XGBoost JSON model the cases damage. */
interface GbdtModelJson {
  learner: { feature_names: string[]; gradient_booster: { model: { trees: unknown[] } } };
}

/** The XGBoost JSON model `gbdt train` writes for a small CSV, to damage before predicting. */
async function gbdtModel(ctx: CaseContext): Promise<{ model: GbdtModelJson; rows: string }> {
  const rows = ['a,b,y'];
  for (let i = 0; i < 40; i++) rows.push(`${i % 7},${(i * 3) % 5},${(i % 7) * 2 + ((i * 3) % 5)}`);
  const out = path.join(ctx.dir, 'model.tmp');
  const r = await runCliWith(
    { env: isolatedEnv(ctx.dir) },
    'gbdt',
    'train',
    '--data',
    ctx.write('train.csv', `${rows.join('\n')}\n`),
    '--target',
    'y',
    '--params',
    '{"n_estimators":3}',
    '--out',
    out,
  );
  if (r.code !== 0) throw new Error(`gbdt train: ${r.err}`);
  const model = JSON.parse(readFileSync(out, 'utf8')) as GbdtModelJson;
  rmSync(out);
  return { model, rows: ctx.write('rows.csv', 'a,b\n3,1\n') };
}

const MLFLOW_MAPPING = {
  format: 'mlflow',
  dataset: 'experiment',
  model: 'params.model',
  metrics: { accuracy: 'metrics_best.val_acc' },
  runId: 'run_id',
  hyperparameters: [{ name: 'optimizer', column: 'params.optimizer', type: 'categorical' }],
};

/** import of the MLflow fixture's file store (dir/mlruns), with `damage` done to it first. */
function importMlflow(ctx: CaseContext, damage: (root: string) => void): string[] {
  const root = writeFileStore(path.join(ctx.dir, 'mlruns'));
  damage(root);
  return importArgs(ctx, root, ctx.write('mlflow.json', MLFLOW_MAPPING));
}

/** An HTTP server on 127.0.0.1 answering every request with `body` as JSON; its URL. */
async function jsonServer(ctx: CaseContext, body: unknown): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ctx.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

// ---- the cases -----------------------------------------------------------------------------

export const CASES: BadInputCase[] = [
  // Wrong answers without a word
  {
    id: 'cyclic-conditions',
    fromIssue: true,
    title: 'mapping whose conditions form a cycle (lr on opt, opt on lr)',
    setup: (ctx) => {
      const m = mappingWith(ctx, 'cyclic.json', (m) => ({
        ...m,
        hyperparameters: [
          { name: 'lr', type: 'float', condition: { parent: 'opt', values: ['sgd'] } },
          { name: 'opt', type: 'categorical', condition: { parent: 'lr', values: [0.1] } },
        ],
      }));
      return { args: importArgs(ctx, ctx.csv, m) };
    },
    exit: 2,
    message:
      /cyclic\.json field "hyperparameters\.\d\.condition\.parent": the conditions form a cycle \((lr -> opt -> lr|opt -> lr -> opt)\)/,
  },
  {
    id: 'redeclare-log',
    fromIssue: true,
    title: 'a mapping that re-declares lr without log scale',
    setup: (ctx) => ({
      args: importArgs(
        ctx,
        ctx.csv,
        mappingWith(ctx, 'linear.json', (m) => {
          m.hyperparameters[0] = { name: 'lr', type: 'float', log: false };
          return m;
        }),
      ),
    }),
    exit: 2,
    message:
      /linear\.json field "hyperparameters\.0\.log": hyperparameter "lr" is declared differently .*--redeclare/,
  },
  {
    id: 'redeclare-condition',
    fromIssue: true,
    title: 'a mapping that re-declares the condition of momentum',
    setup: (ctx) => ({
      args: importArgs(ctx, ctx.csv, momentumWhen(ctx, 'cond.json', ['adam'])),
    }),
    exit: 2,
    message:
      /cond\.json field "hyperparameters\.2\.condition": .*"momentum" is declared differently .*condition .*--redeclare/,
  },
  {
    id: 'redeclare-choices',
    fromIssue: true,
    title: 'a mapping that drops a stored choice of opt',
    setup: (ctx) => ({
      args: importArgs(
        ctx,
        csvWith(ctx, 'sgd.csv', ['z1,derma,vit,0.001,sgd,0.9,70,2,1']),
        mappingWith(ctx, 'choices.json', (m) => {
          m.hyperparameters[1] = { name: 'opt', type: 'categorical', choices: ['sgd'] };
          return m;
        }),
      ),
    }),
    exit: 2,
    message:
      /choices\.json field "hyperparameters\.1\.choices": .*"opt" .*choices \["sgd"\] here, \["sgd","adam"\] when stored.*--redeclare/,
  },
  {
    id: 'redeclare-explicit',
    fromIssue: false,
    title: 'the same re-declaration with --redeclare: done, and the version changes',
    setup: (ctx) => ({
      args: [
        ...importArgs(
          ctx,
          ctx.csv,
          mappingWith(ctx, 'linear.json', (m) => {
            m.hyperparameters[0] = { name: 'lr', type: 'float', log: false };
            return m;
          }),
        ),
        '--redeclare',
        '--json',
      ],
      mayWrite: /^kb\.sqlite/,
    }),
    exit: 0,
    message: /"version": "[0-9a-f]{16}"/,
    check: (r, ctx) => {
      const version = JSON.parse(r.out).version as string;
      return version === baseVersion(ctx) ? 'the version did not change' : undefined;
    },
  },
  {
    id: 'type-conflict',
    fromIssue: false,
    title: 'a source with opt as a number where the knowledge base stores a categorical',
    setup: (ctx) => ({
      args: importArgs(
        ctx,
        ctx.csv,
        mappingWith(ctx, 'typed.json', (m) => {
          m.hyperparameters = [m.hyperparameters[0], { name: 'opt', type: 'int' } as never];
          return m;
        }),
      ),
    }),
    exit: 2,
    message:
      /typed\.json field "hyperparameters\.1\.type": hyperparameter "opt" is int here but already stored as categorical: add "reconcile": \{ "opt": "categorical" \}/,
  },
  {
    id: 'hex-accuracy',
    fromIssue: true,
    title: '0x1 in an accuracy cell',
    setup: (ctx) => ({
      args: importArgs(ctx, csvWith(ctx, 'hex.csv', ['h1,derma,vit,0.001,adam,0,0x1,2,1'])),
    }),
    exit: 2,
    message: /hex\.csv:2 column "acc": expected a number, got "0x1"/,
  },
  {
    id: 'latin1',
    fromIssue: true,
    title: 'a Latin-1 CSV (é as byte 0xE9)',
    setup: (ctx) => {
      const text = `run,ds,model,lr,opt,momentum,acc,minutes,seed\nl1,derma,vit,0.001,adam,0,70,2,1\nl2,derm\u00e9,vit,0.001,adam,0,70,2,1\n`;
      return { args: importArgs(ctx, ctx.write('latin1.csv', Buffer.from(text, 'latin1'))) };
    },
    exit: 2,
    message: /latin1\.csv:3: source file is not UTF-8 text \(byte 0xe9\).*Latin-1/,
  },
  {
    id: 'percent-on-fractions',
    fromIssue: true,
    title: '"unit": "percent" on a column of fractions',
    setup: (ctx) => ({
      args: importArgs(
        ctx,
        csvWith(ctx, 'fractions.csv', [
          'f1,derma,vit,0.001,adam,0,0.81,2,1',
          'f2,blood,vit,0.001,adam,0,0.92,2,1',
        ]),
      ),
    }),
    exit: 2,
    message:
      /mapping\.json field "metrics\.accuracy\.unit": metric accuracy is declared "unit": "percent", but no value in .*fractions\.csv column "acc" is above 1/,
  },
  {
    id: 'nul-in-name',
    fromIssue: true,
    title: 'a NUL byte in a dataset name',
    setup: (ctx) => ({
      args: importArgs(ctx, csvWith(ctx, 'nul.csv', ['n1,der\u0000ma,vit,0.001,adam,0,70,2,1'])),
    }),
    exit: 2,
    message: /nul\.csv:2 column "ds": dataset contains the control character U\+0000/,
  },
  {
    id: 'malformed-json-category',
    fromIssue: true,
    title: 'a malformed JSON cell in a categorical column',
    setup: (ctx) => ({
      args: importArgs(
        ctx,
        ctx.write(
          'json.csv',
          'run,ds,model,lr,betas,acc,minutes,seed\nj1,derma,vit,0.001,"[0.9, 0.99",70,2,1\n',
        ),
        mappingWith(ctx, 'betas.json', (m) => {
          m.hyperparameters = [
            m.hyperparameters[0],
            { name: 'betas', type: 'categorical' } as never,
          ];
          return m;
        }),
      ),
    }),
    exit: 2,
    message: /json\.csv:2 column "betas": "\[0\.9, 0\.99" looks like JSON but does not parse/,
  },
  {
    id: 'filter-in-without-value',
    fromIssue: true,
    title: 'a filter op "in" without a value',
    setup: (ctx) => ({
      args: importArgs(
        ctx,
        ctx.csv,
        mappingWith(ctx, 'filter.json', (m) => ({ ...m, filters: [{ column: 'ds', op: 'in' }] })),
      ),
    }),
    exit: 2,
    message: /filter\.json field "filters\.0\.value": .*"in" needs "value": a non-empty list/,
  },
  {
    id: 'status-constructor',
    fromIssue: true,
    title: 'a status cell "constructor"',
    setup: (ctx) => ({
      args: importArgs(
        ctx,
        ctx.write(
          'status.csv',
          'run,ds,model,lr,opt,momentum,acc,minutes,seed,state\ns1,derma,vit,0.001,adam,0,70,2,1,constructor\n',
        ),
        mappingWith(ctx, 'status.json', (m) => ({
          ...m,
          status: { column: 'state', map: { done: 'finished' } },
        })),
      ),
    }),
    exit: 2,
    message:
      /status\.csv:2 column "state": status "constructor" is not in the mapping's status\.map \(done\)/,
  },
  {
    id: 'dicom-ct-and-mr',
    fromIssue: true,
    title: 'a folder with one CT and one MR DICOM',
    setup: (ctx) => {
      ctx.write('scans/a/1.dcm', img.dicom({ rows: 8, columns: 8, modality: 'CT' }));
      ctx.write('scans/b/2.dcm', img.dicom({ rows: 8, columns: 8, modality: 'MR' }));
      return { args: ['profile', path.join(ctx.dir, 'scans'), '--quiet'] };
    },
    exit: 2,
    message:
      /scans field "modality": the DICOM files disagree on the modality \(ct 1, mri 1\): say which one the dataset is with --modality/,
  },
  {
    id: 'manifest-repeats',
    fromIssue: true,
    title: 'a manifest listing one file 100,000 times',
    setup: (ctx) => {
      ctx.write('img/x.png', img.png(4, 4));
      ctx.write('img/y.png', img.png(4, 4));
      const rows = ['path,label', 'y.png,b'];
      for (let i = 0; i < 100_000; i++) rows.push(`x.png,a`);
      return {
        args: ['profile', '--manifest', ctx.write('img/manifest.csv', rows.join('\n')), '--quiet'],
      };
    },
    exit: 2,
    message: /manifest\.csv:4 column "path": the same file as line 3; 99999 invalid rows in all/,
  },
  {
    id: 'counts-contradict',
    fromIssue: true,
    title: 'a profile whose class counts sum to 2,400 with 100 instances',
    setup: (ctx) => ({
      args: [
        'recommend',
        '--profile',
        ctx.write('p.json', {
          ...PROFILE,
          numInstances: 100,
          classCounts: { a: 1200, b: 800, c: 400 },
        }),
        '--kb',
        ctx.kb,
      ],
    }),
    exit: 2,
    message:
      /p\.json field "classCounts": dataset profile "new-derma": the class counts add up to 2400, numInstances says 100/,
  },
  {
    id: 'one-class-profile',
    fromIssue: true,
    title: 'recommend on a one-class profile',
    setup: (ctx) => ({
      args: [
        'recommend',
        '--profile',
        ctx.write('one.json', {
          name: 'one',
          task: 'multiclass',
          modality: 'xray',
          numInstances: 50,
          numClasses: 1,
        }),
        '--kb',
        ctx.kb,
      ],
    }),
    exit: 2,
    message:
      /one\.json field "numClasses": dataset profile "one": 1 class: a classification dataset needs at least two/,
  },
  {
    id: 'out-folder',
    fromIssue: true,
    title: '--out dir/ for an export: the default name inside the folder, not dir/.json',
    setup: (ctx) => {
      mkdirSync(path.join(ctx.dir, 'exports'));
      return {
        args: recommendArgs(ctx, '--export', 'json', '--out', `${path.join(ctx.dir, 'exports')}/`),
        mayWrite: /^exports\/metallmix-configs\.json$|\.vectors$/,
      };
    },
    exit: 0,
    message: /wrote .*exports\/metallmix-configs\.json /,
    check: (_r, ctx) =>
      filesIn(
        path.join(ctx.dir, 'exports'),
        (names) => names.join(',') === 'metallmix-configs.json',
      ),
  },
  {
    id: 'out-with-extension',
    fromIssue: true,
    title: '--out cfg.yaml for a YAML export: writes cfg.yaml, not cfg.yaml.yaml',
    setup: (ctx) => ({
      args: recommendArgs(ctx, '--export', 'yaml', '--out', path.join(ctx.dir, 'cfg.yaml')),
      mayWrite: /^cfg\.yaml$|\.vectors$/,
    }),
    exit: 0,
    message: /wrote .*\/cfg\.yaml /,
    check: (_r, ctx) =>
      filesIn(ctx.dir, (names) => names.includes('cfg.yaml') && !names.includes('cfg.yaml.yaml')),
  },
  // Damage to files that are not ours
  {
    id: 'kb-stats-optuna',
    fromIssue: true,
    title: 'kb stats --kb study.db on an Optuna storage',
    setup: (ctx) => ({
      args: ['kb', 'stats', '--kb', optunaStorage(path.join(ctx.dir, 'study.db'))],
    }),
    exit: 2,
    message:
      /study\.db: not a metallmix knowledge base: an SQLite database with tables .*\(an Optuna storage: import it with `metallmix import FILE --format optuna`\)/,
  },
  {
    id: 'recommend-optuna',
    fromIssue: true,
    title: 'recommend --kb study.db on an Optuna storage (no .vectors beside it)',
    setup: (ctx) => ({
      args: [
        'recommend',
        '--profile',
        ctx.write('p.json', PROFILE),
        '--kb',
        optunaStorage(path.join(ctx.dir, 'study.db')),
      ],
    }),
    exit: 2,
    message: /study\.db: not a metallmix knowledge base: .*an Optuna storage/,
  },
  {
    id: 'import-into-optuna',
    fromIssue: false,
    title: 'import --kb study.db into an Optuna storage',
    setup: (ctx) => ({
      args: importArgs(ctx, ctx.csv, ctx.mapping, optunaStorage(path.join(ctx.dir, 'study.db'))),
    }),
    exit: 2,
    message: /study\.db: not a metallmix knowledge base: .*an Optuna storage/,
  },
  {
    id: 'kb-stats-wal-sqlite',
    fromIssue: true,
    title: 'kb stats on another SQLite file in WAL mode (no -wal/-shm beside it)',
    setup: (ctx) => {
      const file = path.join(ctx.dir, 'notes.sqlite');
      const db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES (1)');
      db.close();
      return { args: ['kb', 'stats', '--kb', file] };
    },
    exit: 2,
    message: /notes\.sqlite: not a metallmix knowledge base: an SQLite database with tables notes/,
  },
  {
    id: 'kb-stats-gzip',
    fromIssue: false,
    title: 'kb stats on a gzip file named .db',
    setup: (ctx) => ({
      args: ['kb', 'stats', '--kb', ctx.write('old.db', gzipSync(readFileSync(ctx.kb)))],
    }),
    exit: 2,
    message: /old\.db: not a metallmix knowledge base: it is a gzip-compressed file/,
  },
  {
    id: 'kb-stats-folder',
    fromIssue: false,
    title: 'kb stats --kb on a folder',
    setup: (ctx) => {
      mkdirSync(path.join(ctx.dir, 'adir'));
      return { args: ['kb', 'stats', '--kb', path.join(ctx.dir, 'adir')] };
    },
    exit: 2,
    message: /adir: cannot read the knowledge base: it is a folder, not a regular file/,
  },
  // Hangs
  {
    id: 'catastrophic-pattern',
    fromIssue: true,
    title: 'a mapping pattern (a+)+$ on a 40-character cell (RE2: linear time)',
    setup: (ctx) => ({
      args: importArgs(
        ctx,
        csvWith(ctx, 'redos.csv', [`p1,${'a'.repeat(40)}!,vit,0.001,adam,0,70,2,1`]),
        mappingWith(ctx, 'redos.json', (m) => ({
          ...m,
          dataset: { column: 'ds', pattern: '(a+)+$' },
        })),
      ),
    }),
    exit: 2,
    message: /redos\.csv:2 column "ds": "a{40}!" does not match the pattern \(a\+\)\+\$/,
  },
  {
    id: 'backreference-pattern',
    fromIssue: false,
    title: 'a mapping pattern with a backreference',
    setup: (ctx) => ({
      args: importArgs(
        ctx,
        ctx.csv,
        mappingWith(ctx, 'backref.json', (m) => ({
          ...m,
          model: { column: 'model', pattern: '(a)\\1' },
        })),
      ),
    }),
    exit: 2,
    message: /backref\.json field "model\.pattern": invalid regular expression \(RE2 syntax/,
  },
  {
    id: 'fifo-in-folder',
    fromIssue: true,
    title: 'profile a folder with a FIFO named x.png',
    setup: (ctx) => {
      ctx.write('imgs/a/1.png', img.png(4, 4));
      ctx.write('imgs/b/2.png', img.png(4, 4));
      ctx.write('imgs/b/3.png', img.png(4, 4));
      ctx.fifo('imgs/a/x.png');
      return { args: ['profile', path.join(ctx.dir, 'imgs'), '--quiet'] };
    },
    exit: 0,
    message: /a\/x\.png: not a regular file \(a FIFO \(named pipe\)\)/,
  },
  {
    id: 'fifo-in-manifest',
    fromIssue: true,
    title: 'profile --manifest naming a FIFO x.png',
    setup: (ctx) => {
      ctx.write('m/a.png', img.png(4, 4));
      ctx.write('m/b.png', img.png(4, 4));
      ctx.fifo('m/x.png');
      return {
        args: [
          'profile',
          '--manifest',
          ctx.write('m/list.csv', 'path,label\na.png,a\nb.png,b\nx.png,b\n'),
          '--quiet',
        ],
      };
    },
    exit: 0,
    message: /x\.png \(line 4\): not a regular file \(a FIFO/,
  },
  {
    id: 'fifo-recommend-dataset',
    fromIssue: true,
    title: 'recommend --dataset on a folder with a FIFO named x.png',
    setup: (ctx) => {
      ctx.write('ds/a/1.png', img.png(28, 28, 6));
      ctx.write('ds/b/2.png', img.png(28, 28, 6));
      ctx.fifo('ds/b/x.png');
      return {
        args: ['recommend', '--dataset', path.join(ctx.dir, 'ds'), '--kb', ctx.kb],
        mayWrite: /\.vectors$|-wal$|-shm$/,
      };
    },
    exit: 0,
    message: /1 unreadable file\(s\) were skipped while profiling/,
  },
  {
    id: 'fifo-as-profile',
    fromIssue: false,
    title: 'recommend --profile on a FIFO',
    setup: (ctx) => ({ args: ['recommend', '--profile', ctx.fifo('p.json'), '--kb', ctx.kb] }),
    exit: 2,
    message: /p\.json: cannot read the profile: it is a FIFO \(named pipe\), not a regular file/,
  },
  {
    id: 'fifo-as-manifest',
    fromIssue: false,
    title: 'profile --manifest on a FIFO',
    setup: (ctx) => ({ args: ['profile', '--manifest', ctx.fifo('list.csv'), '--quiet'] }),
    exit: 2,
    message: /list\.csv: cannot read the manifest: it is a FIFO/,
  },
  {
    id: 'fifo-as-source',
    fromIssue: false,
    title: 'import a FIFO as the source file',
    setup: (ctx) => ({ args: importArgs(ctx, ctx.fifo('runs-pipe.csv')) }),
    exit: 2,
    message: /runs-pipe\.csv: cannot read source file: it is a FIFO/,
  },
  {
    id: 'fifo-as-mapping',
    fromIssue: false,
    title: 'import with a FIFO as the mapping',
    setup: (ctx) => ({ args: importArgs(ctx, ctx.csv, ctx.fifo('m.json')) }),
    exit: 2,
    message: /m\.json: cannot read mapping file: it is a FIFO/,
  },
  {
    id: 'device-as-source',
    fromIssue: false,
    title: 'import /dev/zero as the source file',
    setup: (ctx) => ({ args: importArgs(ctx, '/dev/zero') }),
    exit: 2,
    message: /\/dev\/zero: cannot read source file: it is a character device/,
  },
  {
    id: 'out-under-proc',
    fromIssue: true,
    title: '--out /proc/nope/x',
    setup: (ctx) => ({
      args: recommendArgs(ctx, '--export', 'json', '--out', '/proc/nope/x'),
      mayWrite: /\.vectors$/,
    }),
    exit: 2,
    message: /\/proc\/nope: cannot create the folder of the export: no such file or folder/,
  },
  {
    id: 'import-kb-under-proc',
    fromIssue: true,
    title: 'import --kb /proc/nope/kb.sqlite',
    setup: (ctx) => ({
      args: importArgs(ctx, ctx.csv, ctx.mapping, '/proc/nope/kb.sqlite'),
    }),
    exit: 2,
    message: /\/proc\/nope: cannot create the knowledge base folder: no such file or folder/,
  },
  {
    id: 'read-kb-under-proc',
    fromIssue: true,
    title: 'kb stats --kb /proc/nope/kb.sqlite',
    setup: () => ({ args: ['kb', 'stats', '--kb', '/proc/nope/kb.sqlite'] }),
    exit: 2,
    message: /\/proc\/nope\/kb\.sqlite: no knowledge base at this path/,
  },
  // Stack traces where the README documents exit 2 or 4
  {
    id: 'optuna-text',
    fromIssue: true,
    title: 'an Optuna storage that is text',
    setup: (ctx) => ({
      args: importOptuna(ctx, ctx.write('text.db', 'this is not a database\n')),
    }),
    exit: 2,
    message: /text\.db: not an Optuna storage \(an SQLite file\): it is a text file/,
  },
  {
    id: 'optuna-truncated',
    fromIssue: true,
    title: 'a truncated Optuna storage',
    setup: (ctx) => ({
      args: importOptuna(ctx, ctx.write('cut.db', optunaBytes(ctx).subarray(0, 5000))),
    }),
    exit: 2,
    message: /cut\.db: not an Optuna storage \(an SQLite file\): it is a truncated SQLite database/,
  },
  {
    id: 'optuna-gzip',
    fromIssue: true,
    title: 'a gzip-compressed Optuna storage',
    setup: (ctx) => ({
      args: importOptuna(ctx, ctx.write('study.db', gzipSync(optunaBytes(ctx)))),
    }),
    exit: 2,
    message: /study\.db: not an Optuna storage \(an SQLite file\): it is a gzip-compressed file/,
  },
  {
    id: 'optuna-locked',
    fromIssue: true,
    title: 'an Optuna storage locked by another process',
    setup: async (ctx) => {
      const file = optunaStorage(path.join(ctx.dir, 'busy.db'));
      await holdLock(ctx, file);
      return {
        args: importOptuna(ctx, file),
        mayWrite: /^busy\.db-journal$/,
      };
    },
    exit: 4,
    message: /busy\.db: the Optuna storage is locked by another process/,
  },
  {
    id: 'format-optuna-on-csv',
    fromIssue: true,
    title: '--format optuna on a CSV',
    setup: (ctx) => ({ args: [...importArgs(ctx, ctx.csv), '--format', 'optuna'] }),
    exit: 2,
    message:
      /runs\.csv: not an Optuna storage \(an SQLite file\): it is a text file \(CSV\?\); for a CSV export use --format csv or wandb/,
  },
  {
    id: 'optuna-type-reconcile',
    fromIssue: false,
    title:
      'an Optuna categorical batch_size where the knowledge base stores int, reconciled by the mapping',
    setup: async (ctx) => {
      const file = await optunaOverIntBatchSize(ctx);
      // Without a rule the import says which to add; with it, 32 is stored as the int 32.
      return { args: importOptuna(ctx, file) };
    },
    exit: 2,
    message:
      /study\.db field "hyperparameters\.0\.type": hyperparameter "batch_size" is categorical here but already stored as int: add "reconcile": \{ "batch_size": "int" \}/,
  },
  {
    id: 'optuna-type-reconciled',
    fromIssue: false,
    title: 'the same Optuna storage with "reconcile": { "batch_size": "int" } in the mapping',
    setup: async (ctx) => {
      const file = await optunaOverIntBatchSize(ctx);
      return {
        args: [
          ...importOptuna(ctx, file, { ...OPTUNA_MAPPING, reconcile: { batch_size: 'int' } }),
          '--json',
        ],
        mayWrite: /^kb\.sqlite/,
      };
    },
    exit: 0,
    message: /"added": 1/,
  },
  {
    id: 'full-disk-import',
    fromIssue: true,
    title: 'import into a new knowledge base on a full disk (leaves no file)',
    needs: isRoot,
    setup: (ctx) => {
      const disk = smallDisk(ctx, 'disk', 256);
      const rows: string[] = [];
      for (let i = 0; i < 20_000; i++) rows.push(`big${i},derma,vit,0.001,adam,0,70,2,${i}`);
      const csv = csvWith(ctx, 'big.csv', rows);
      return { args: importArgs(ctx, csv, ctx.mapping, path.join(disk, 'kb.sqlite')) };
    },
    exit: 4,
    message: /disk\/kb\.sqlite: could not write to the knowledge base: the disk is full/,
    check: (_r, ctx) =>
      readdirSync(path.join(ctx.dir, 'disk')).length
        ? `left behind: ${readdirSync(path.join(ctx.dir, 'disk'))}`
        : undefined,
  },
  {
    id: 'full-disk-export',
    fromIssue: false,
    title: 'an export to a full disk',
    needs: isRoot,
    setup: (ctx) => {
      const disk = smallDisk(ctx, 'disk', 4);
      writeFileSync(path.join(disk, 'filler'), Buffer.alloc(4096 - 1));
      return {
        args: recommendArgs(ctx, '--export', 'json', '--out', path.join(disk, 'trials')),
        mayWrite: /\.vectors$|-wal$|-shm$|^disk\/trials$/,
      };
    },
    exit: 4,
    message: /disk\/trials: cannot write the export: no space left on the device/,
  },
  {
    id: 'deep-json-wandb',
    fromIssue: true,
    title: 'a W&B cell with 200,000-deep JSON read through a json path',
    setup: (ctx) => ({
      args: importArgs(
        ctx,
        ctx.write('wandb.csv', `run,ds,model,config,acc\nw1,derma,vit,"${deep(200_000)}",70\n`),
        ctx.write('wandb.json', {
          format: 'wandb',
          status: 'finished',
          dataset: 'ds',
          model: 'model',
          runId: 'run',
          metrics: { accuracy: { column: 'acc', unit: 'percent' } },
          hyperparameters: [{ name: 'wd', column: 'config', json: 'wd', type: 'float' }],
        }),
      ),
    }),
    exit: 2,
    message: /wandb\.csv:2 column "config": the JSON in the cell nests deeper than 64 levels/,
  },
  {
    id: 'deep-json-jsonl',
    fromIssue: false,
    title: 'a JSONL line nested 200,000 deep',
    setup: (ctx) => ({
      args: importArgs(ctx, ctx.write('deep.jsonl', `{"run":"j","x":${deep(200_000)}}\n`)),
    }),
    exit: 2,
    message: /deep\.jsonl:1: the line nests deeper than 64 levels/,
  },
  {
    id: 'deep-json-profile',
    fromIssue: false,
    title: 'a profile file nested 200,000 deep',
    setup: (ctx) => ({
      args: ['recommend', '--profile', ctx.write('deep.json', deep(200_000)), '--kb', ctx.kb],
    }),
    exit: 2,
    message: /deep\.json: the profile nests arrays or objects deeper than 64 levels/,
  },
  {
    id: 'llm-text-plain',
    fromIssue: true,
    title: 'an LLM endpoint that answers text/plain',
    setup: (ctx) => recommendWithFakeLlm(ctx, { text: 'hello, I am a web page' }),
    exit: 0,
    message: /did not answer with a chat completion \(plain text\)/,
    check: (r) =>
      /Cannot read properties/.test(r.out + r.err) ? 'a TypeError reached the user' : undefined,
  },
  {
    id: 'missing-gguf',
    fromIssue: true,
    title: 'a missing --llm-gguf file',
    setup: (ctx) => ({
      args: recommendArgs(ctx, '--llm-gguf', path.join(ctx.dir, 'nope.gguf')),
      mayWrite: /\.vectors$/,
    }),
    exit: 2,
    message: /nope\.gguf: GGUF model file not found or not readable/,
  },
  {
    id: 'epipe',
    fromIssue: true,
    title: 'kb records --json | head -c 100',
    setup: (ctx) => ({
      shell: `set -o pipefail; node {bin} kb records --kb ${ctx.kb} --json | head -c 100 >/dev/null; echo "exit $?" >&2`,
    }),
    exit: 0,
    message: /^exit 0\n$/,
  },
  // Scale of input
  {
    id: 'failed-import-new-path',
    fromIssue: true,
    title: 'a failed import into a new path leaves no file behind',
    setup: (ctx) => ({
      args: importArgs(
        ctx,
        csvWith(ctx, 'bad.csv', ['b1,derma,vit,abc,adam,0,70,2,1']),
        ctx.mapping,
        path.join(ctx.dir, 'new.sqlite'),
      ),
    }),
    exit: 2,
    message: /bad\.csv:2 column "lr": expected a number, got "abc"; nothing was imported/,
  },
  // Secrets and paths
  {
    id: 'authorization-echo',
    fromIssue: true,
    title: 'an LLM server that echoes the Authorization header into its reply',
    setup: async (ctx) => ({
      ...(await recommendWithFakeLlm(
        ctx,
        (req) => completion(`echo: ${String(req.headers.authorization)}`),
        '--json',
      )),
      env: { METALLMIX_LLM_API_KEY: 'sk-hardening-secret-0123456789' },
    }),
    exit: 0,
    message: /"raw": "echo: Bearer \[redacted\]"/,
    check: (r) =>
      r.out.includes('sk-hardening-secret') || r.err.includes('sk-hardening-secret')
        ? 'the key was printed'
        : undefined,
  },
  {
    id: 'huge-completion',
    fromIssue: true,
    title: 'a 16 MB completion (the cap is 8 MB)',
    setup: (ctx) => recommendWithFakeLlm(ctx, completion('x'.repeat(16 * 1024 * 1024))),
    exit: 0,
    message: /the LLM endpoint sent more than 8 MB/,
  },
  {
    id: 'mapping-path-escape',
    fromIssue: true,
    title: 'a mapping whose profiles path is ../../etc/passwd',
    setup: (ctx) => ({
      args: importArgs(
        ctx,
        ctx.csv,
        mappingWith(ctx, 'escape.json', (m) => ({
          ...m,
          profiles: '../../../../../../etc/passwd',
        })),
      ),
    }),
    exit: 2,
    message:
      /escape\.json field "profiles": "(\.\.\/)+etc\/passwd" must be a path inside the mapping's folder/,
    check: (r) => (/root:/.test(r.err) ? 'the error quotes the file' : undefined),
  },
  {
    id: 'json-error-quotes-nothing',
    fromIssue: false,
    title: 'a profiles file that is not JSON: the error does not quote it',
    setup: (ctx) => {
      ctx.write('sub/profiles.json', 'secret-token-1234: not json\n');
      return {
        args: importArgs(
          ctx,
          ctx.csv,
          ctx.write('sub/m.json', { ...MAPPING, profiles: 'profiles.json', models: undefined }),
        ),
      };
    },
    exit: 2,
    message: /sub\/profiles\.json: dataset-profiles file is not valid JSON: Unexpected token/,
    check: (r) => (r.err.includes('secret-token') ? 'the error quotes the file' : undefined),
  },
  {
    id: 'impossible-condition',
    fromIssue: false,
    title: 'a condition on a choice its parent does not have',
    setup: (ctx) => ({
      args: importArgs(ctx, ctx.csv, momentumWhen(ctx, 'never.json', ['rmsprop'])),
    }),
    exit: 2,
    message:
      /never\.json field "hyperparameters\.2\.condition\.values": the condition on "opt" can never hold for "rmsprop"/,
  },
  {
    id: 'unclosed-quote',
    fromIssue: false,
    title: 'a CSV with an unclosed quote',
    setup: (ctx) => ({
      args: importArgs(
        ctx,
        ctx.write(
          'quote.csv',
          'run,ds,model,lr,opt,momentum,acc,minutes,seed\nq1,"derma,vit,0.001,adam,0,70,2,1\n',
        ),
      ),
    }),
    exit: 2,
    message: /quote\.csv(:\d+)?: not a readable CSV file: Quote Not Closed/,
  },
  {
    id: 'empty-source',
    fromIssue: false,
    title: 'an empty source file',
    setup: (ctx) => ({ args: importArgs(ctx, ctx.write('empty.csv', '')) }),
    exit: 2,
    message: /empty\.csv: the file is empty/,
  },
  // Added by the second pass, on the newer faces (run, record, bench, gbdt, MLflow, config)
  {
    id: 'export-onto-kb',
    fromIssue: false,
    title: 'recommend --export json --out naming the knowledge base it reads',
    setup: (ctx) => ({
      args: recommendArgs(ctx, '--export', 'json', '--out', ctx.kb),
      mayWrite: /\.vectors$/,
    }),
    exit: 2,
    message:
      /kb\.sqlite: cannot write the export: the file is an SQLite database \(a knowledge base\?\), which an output never replaces/,
  },
  {
    id: 'profile-output-onto-image',
    fromIssue: false,
    title: 'profile --output naming an image of the folder it profiles',
    setup: (ctx) => {
      ctx.write('ds/a/1.png', img.png(28, 28, 6));
      ctx.write('ds/a/2.png', img.png(28, 28, 6));
      ctx.write('ds/b/3.png', img.png(28, 28, 6));
      const dir = path.join(ctx.dir, 'ds');
      return { args: ['profile', dir, '--output', path.join(dir, 'a', '1.png')] };
    },
    exit: 2,
    message:
      /1\.png: cannot write the profile: the file holds binary data \(an image\? a dataset file\?\), which an output never replaces/,
  },
  {
    id: 'bench-report-fifo',
    fromIssue: false,
    title: 'bench --report on a FIFO (refused before the benchmark runs)',
    setup: (ctx) => ({
      args: ['bench', '--kb', ctx.kb, '--methods', 'random', '--report', ctx.fifo('r.html')],
    }),
    exit: 2,
    message: /r\.html: cannot write the report: it is a FIFO \(named pipe\)/,
  },
  {
    id: 'bench-no-methods',
    fromIssue: false,
    title: "bench --methods '' (an empty list, not an empty table)",
    setup: (ctx) => ({ args: ['bench', '--kb', ctx.kb, '--methods', ''] }),
    exit: 2,
    message: /field "methods": invalid bench options: methods: Too small/,
  },
  {
    id: 'gbdt-out-fifo',
    fromIssue: false,
    title: 'gbdt train --out on a FIFO',
    setup: (ctx) => ({
      args: [
        'gbdt',
        'train',
        '--data',
        ctx.write('t.csv', 'a,y\n1,2\n2,4\n3,6\n'),
        '--target',
        'y',
        '--out',
        ctx.fifo('m.json'),
      ],
    }),
    exit: 2,
    message: /m\.json: cannot write the model file: it is a FIFO \(named pipe\)/,
  },
  {
    id: 'gbdt-repeated-feature',
    fromIssue: false,
    title: 'gbdt predict with a model that names one feature twice (would read one column twice)',
    setup: async (ctx) => {
      const { model, rows } = await gbdtModel(ctx);
      model.learner.feature_names = ['a', 'a'];
      return {
        args: ['gbdt', 'predict', '--model', ctx.write('m.json', model), '--data', rows],
      };
    },
    exit: 2,
    message: /m\.json field "learner\.feature_names": the feature name "a" is given twice/,
  },
  {
    id: 'gbdt-missing-trees',
    fromIssue: false,
    title: 'gbdt predict with a model whose trees array is shorter than its num_trees',
    setup: async (ctx) => {
      const { model, rows } = await gbdtModel(ctx);
      model.learner.gradient_booster.model.trees = [];
      return {
        args: ['gbdt', 'predict', '--model', ctx.write('m.json', model), '--data', rows],
      };
    },
    exit: 2,
    message:
      /m\.json field "learner\.gradient_booster\.model\.gbtree_model_param\.num_trees": says 3 trees, the model has 0/,
  },
  {
    id: 'run-deep-result',
    fromIssue: false,
    title: 'run: a trial whose METALLMIX_RESULT line nests 100,000 deep',
    setup: (ctx) => ({
      args: runOneTrial(
        ctx,
        `console.log('METALLMIX_RESULT {"accuracy": 0.8, "x": ' + '['.repeat(1e5) + ']'.repeat(1e5) + '}');`,
      ),
      // The failed trial is recorded: the knowledge base and the run folder change.
      mayWrite: /^kb\.sqlite|^runs(\/|$)/,
    }),
    exit: 3,
    message: /the METALLMIX_RESULT line nests deeper than 64 levels/,
  },
  {
    id: 'run-time-over-24-days',
    fromIssue: false,
    title: 'run --time 40000 (minutes: more than setTimeout holds, 24.8 days)',
    setup: (ctx) => ({
      args: runOneTrial(ctx, reportAfter(500), '--time', '40000'),
      mayWrite: /^kb\.sqlite|^runs(\/|$)/,
    }),
    exit: 0,
    message: /1 +finished/,
    check: (r) =>
      /time limit of/.test(r.out + r.err) ? 'the trial was stopped at once' : undefined,
  },
  {
    id: 'run-dir-under-proc',
    fromIssue: false,
    title: 'run --run-dir /proc/nope/x',
    setup: (ctx) => ({
      args: [...runOneTrial(ctx, reportAfter(0)), '--run-dir', '/proc/nope/x'],
    }),
    exit: 2,
    message: /\/proc\/nope: cannot create the run folder: no such file or folder/,
  },
  {
    id: 'cache-under-proc',
    fromIssue: false,
    title: 'METALLMIX_CACHE=/proc/nope (the cache is skipped, the answer given)',
    setup: (ctx) => ({
      args: recommendArgs(ctx),
      env: { METALLMIX_CACHE: '/proc/nope' },
      mayWrite: /\.vectors$/,
    }),
    exit: 0,
    message: /^Pick +\S+/m,
  },
  {
    id: 'run-name-control-char',
    fromIssue: false,
    title: 'run --dataset-name with a line break in it (records keyed by that name)',
    setup: (ctx) => ({
      args: runOneTrial(ctx, reportAfter(0), '--dataset-name', 'new\nderma'),
      mayWrite: /^runs(\/|$)/,
    }),
    exit: 2,
    message: /field "name": invalid dataset profile: name: must not contain control characters/,
  },
  {
    id: 'record-repeated-column',
    fromIssue: false,
    title: 'record a CSV whose header names config.lr twice (not a new hyperparameter lr#2)',
    setup: (ctx) => ({
      args: [
        'record',
        ctx.write(
          'logged.csv',
          'dataset,model,config.lr,config.lr,metrics.accuracy\nderma,vit,0.001,0.01,0.7\n',
        ),
        '--kb',
        ctx.kb,
      ],
    }),
    exit: 2,
    message: /logged\.csv:1 column "config\.lr": the header names the column "config\.lr" twice/,
  },
  {
    id: 'config-file-fifo',
    fromIssue: false,
    title: 'METALLMIX_CONFIG naming a FIFO',
    setup: (ctx) => ({
      args: recommendArgs(ctx),
      env: { METALLMIX_CONFIG: ctx.fifo('config.yaml') },
    }),
    exit: 2,
    message:
      /config\.yaml: cannot read config file: it is a FIFO \(named pipe\), not a regular file/,
  },
  {
    id: 'config-file-latin1',
    fromIssue: false,
    title: 'a Latin-1 config file (the model name was read with U+FFFD)',
    setup: (ctx) => ({
      args: recommendArgs(ctx),
      env: {
        METALLMIX_CONFIG: ctx.write(
          'config.yaml',
          Buffer.from('llm:\n  baseUrl: http://127.0.0.1:9/v1\n  model: caf\xe9\n', 'latin1'),
        ),
      },
    }),
    exit: 2,
    message: /config\.yaml:3: config file is not UTF-8 text \(byte 0xe9\)/,
  },
  {
    id: 'config-alias-bomb',
    fromIssue: false,
    title: 'a config file of nested YAML aliases ("billion laughs")',
    setup: (ctx) => {
      let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x]\n';
      for (let i = 1; i < 12; i++)
        text += `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(', ')}]\n`;
      return {
        args: recommendArgs(ctx),
        env: { METALLMIX_CONFIG: ctx.write('config.yaml', text) },
      };
    },
    exit: 2,
    message: /config\.yaml: not valid YAML or JSON: Excessive alias count/,
  },
  {
    id: 'mlflow-fifo-metric',
    fromIssue: false,
    title: 'an MLflow file store with a FIFO as a metric file',
    setup: (ctx) => ({
      args: importMlflow(ctx, (root) => {
        const file = path.join(root, '101', 'a1a1a1', 'metrics', 'val_acc');
        rmSync(file);
        spawnSync('mkfifo', [file]);
      }),
    }),
    exit: 2,
    message:
      /101\/a1a1a1\/metrics\/val_acc: cannot read an MLflow metric file: it is a FIFO \(named pipe\), not a regular file/,
  },
  {
    id: 'mlflow-latin1-param',
    fromIssue: false,
    title: 'an MLflow file store with a Latin-1 param file',
    setup: (ctx) => ({
      args: importMlflow(ctx, (root) =>
        writeFileSync(
          path.join(root, '101', 'a1a1a1', 'params', 'optimizer'),
          Buffer.from('ad\xe9m', 'latin1'),
        ),
      ),
    }),
    exit: 2,
    message:
      /101\/a1a1a1\/params\/optimizer:1: an MLflow param or tag file is not UTF-8 text \(byte 0xe9\)/,
  },
  {
    id: 'mlflow-rest-wrong-shape',
    fromIssue: false,
    title:
      'import from a "tracking server" answering JSON that is not MLflow\'s (a TypeError before)',
    setup: async (ctx) => ({
      args: importArgs(
        ctx,
        await jsonServer(ctx, { experiments: 'nope' }),
        ctx.write('mlflow.json', MLFLOW_MAPPING),
      ),
    }),
    exit: 4,
    message:
      /experiments\/search: the MLflow tracking server answered in a shape MLflow's REST API does not have: experiments: Invalid input: expected array/,
  },
  {
    id: 'observed-partial-config',
    fromIssue: false,
    title:
      'recommend --observed with a run that gives opt but not lr (every prediction was NaN [NaN, NaN])',
    setup: (ctx) => ({
      args: recommendArgs(
        ctx,
        '--observed',
        ctx.write(
          'observed.csv',
          'dataset,model,config.opt,metrics.accuracy\nnew-derma,vit,adam,0.7\n',
        ),
      ),
      mayWrite: /\.vectors$/,
    }),
    exit: 2,
    message:
      /observed\.csv:2 column "config\.lr": the run gives no lr, which every run of vit in the knowledge base sets/,
  },
  {
    id: 'jsonl-dotted-and-nested',
    fromIssue: false,
    title: 'a JSONL line giving "lr" nested and as the dotted key "config.lr" (the last one won)',
    setup: (ctx) => ({
      args: importArgs(
        ctx,
        ctx.write(
          'dotted.jsonl',
          '{"run":"j1","ds":"derma","model":"vit","config":{"lr":0.001},"config.lr":0.01,"opt":"adam","momentum":0,"acc":70,"minutes":2,"seed":1}\n',
        ),
        ctx.write('nested.json', {
          ...MAPPING,
          hyperparameters: [
            { name: 'lr', column: 'config.lr', type: 'float', log: true },
            ...MAPPING.hyperparameters.slice(1),
          ],
        }),
      ),
    }),
    exit: 2,
    message: /dotted\.jsonl:1: the key "config\.lr" is given twice \(as a dotted key and nested\)/,
  },
];

// ---- running a case ------------------------------------------------------------------------

const versions = new Map<string, string>();
function baseVersion(ctx: CaseContext): string {
  return versions.get(ctx.kb) ?? '';
}

export interface CaseOutcome {
  case: BadInputCase;
  skipped?: string;
  code: number;
  out: string;
  err: string;
  /** The watched files are byte for byte as before (apart from what the case may write). */
  intact: boolean;
  /** Why the outcome is wrong, or undefined. */
  problem?: string;
}

export async function runCase(c: BadInputCase): Promise<CaseOutcome> {
  const skipped = c.needs?.();
  if (skipped) return { case: c, skipped, code: -1, out: '', err: '', intact: true };
  const base = await baseKnowledgeBase();
  const root = mkdtempSync(path.join(os.tmpdir(), `metallmix-hardening-${c.id}-`));
  const dir = path.join(root, 'watched');
  mkdirSync(dir);
  const afters: (() => void | Promise<void>)[] = [];
  const ctx: CaseContext = {
    dir,
    kb: path.join(dir, 'kb.sqlite'),
    mapping: path.join(dir, 'mapping.json'),
    csv: path.join(dir, 'runs.csv'),
    write(name, content) {
      const file = path.join(dir, name);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(
        file,
        typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content),
      );
      return file;
    },
    fifo(name) {
      const file = path.join(dir, name);
      mkdirSync(path.dirname(file), { recursive: true });
      const r = spawnSync('mkfifo', [file]);
      if (r.status !== 0) throw new Error(`mkfifo: ${r.stderr}`);
      return file;
    },
    after: (fn) => afters.push(fn),
  };
  for (const f of ['kb.sqlite', 'mapping.json', 'profiles.json', 'models.json', 'runs.csv'])
    copyFileSync(path.join(base, f), path.join(dir, f));
  const env = { ...isolatedEnv(root) };
  try {
    const stats = await runCliWith({ env }, 'kb', 'stats', '--kb', ctx.kb, '--json');
    versions.set(ctx.kb, (JSON.parse(stats.out) as { version: string }).version);
    const inv = await c.setup(ctx);
    // Reading our own knowledge base may add its WAL side files: those are ours, not data.
    const ignore = new RegExp(
      `(^kb\\.sqlite-(wal|shm)$)${inv.mayWrite ? `|${inv.mayWrite.source}` : ''}`,
    );
    const before = digest(dir, ignore);
    const result = inv.shell
      ? runShell(inv.shell.replace('{bin}', BIN), { ...env, ...inv.env })
      : await runCliWith({ env: { ...env, ...inv.env } }, ...(inv.args ?? []));
    const intact = digest(dir, ignore) === before;
    const text = `${result.err}${result.out}`;
    const problems = [
      result.code !== c.exit ? `exit ${result.code}, expected ${c.exit}` : undefined,
      c.message.test(text) ? undefined : `message does not match ${c.message}`,
      /\n\s+at .*\(.*:\d+:\d+\)/.test(result.err) || /internal error/.test(result.err)
        ? 'a stack trace was printed'
        : undefined,
      intact ? undefined : 'the watched files changed',
      c.check?.(result, ctx) || undefined,
    ].filter(Boolean);
    return {
      case: c,
      ...result,
      intact,
      problem: problems.length ? problems.join('; ') : undefined,
    };
  } finally {
    for (const fn of afters.reverse()) await fn();
    rmSync(root, { recursive: true, force: true });
  }
}

function runShell(command: string, env: Env): CliResult {
  const r = spawnSync('bash', ['-c', command], {
    env: env as NodeJS.ProcessEnv,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** One line of the table: the message's first line, trimmed, with the temp dir removed. */
export function excerpt(o: CaseOutcome, width = 110): string {
  const text = `${o.err}${o.out}`;
  const line =
    text.split('\n').find((l) => o.case.message.test(l)) ??
    text.split('\n').find((l) => l.startsWith('metallmix:')) ??
    text.split('\n')[0] ??
    '';
  const clean = line
    .replace(/\/tmp\/metallmix-hardening-[^/]+\/watched\//g, '')
    .replace(/^metallmix: /, '');
  return clean.length > width ? `${clean.slice(0, width - 3)}...` : clean;
}
