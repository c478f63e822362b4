// Shared fixtures for the store tests: temp dirs, a small generic CSV source, table dumps,
// knowledge bases opened through the public locator API and closed after the test.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Env } from '../../src/core/index.ts';
import { openKnowledgeBase, type KnowledgeBase } from '../../src/store/index.ts';

export const SHARED = new URL('../../../shared/metadata/', import.meta.url);

/** What the tests need of a node:test context: hooks that may be async. */
export interface TestContext {
  after(fn: () => void | Promise<void>): void;
}

export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metallmix-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function write(dir: string, name: string, content: string | object): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

/** Opens (creating it if missing) a knowledge base for writing, closed after the test. */
export async function writableKb(t: TestContext, locator: string): Promise<KnowledgeBase> {
  const kb = await openKnowledgeBase(locator, { mode: 'write' });
  t.after(() => kb.close());
  return kb;
}

export const SMALL_MAPPING = {
  dataset: 'ds',
  model: 'model',
  metrics: { accuracy: { column: 'acc', unit: 'percent' } },
  cost: { trainingTimeSec: { column: 'minutes', unit: 'min' } },
  seed: 'seed',
  runId: 'run',
  hyperparameters: [
    { name: 'lr', type: 'float', log: true },
    { name: 'strategy', type: 'categorical', choices: ['lp', 'full', 'partial'] },
    { name: 'depth', type: 'int', condition: { parent: 'strategy', values: ['partial'] } },
  ],
  profiles: 'profiles.json',
  models: 'models.json',
};

export const SMALL_CSV = [
  'run,ds,model,lr,strategy,depth,acc,minutes,seed',
  'r1,derma,resnet18,0.001,lp,0,81.5,2,1',
  'r2,derma,resnet18,0.01,partial,3,85,3.5,1',
  'r3,blood,vit,0.0001,full,0,90,10,2',
  '',
].join('\n');

export const PROFILES = [
  {
    name: 'derma',
    task: 'multiclass',
    modality: 'dermoscopy',
    numInstances: 30,
    numClasses: 3,
    classCounts: { a: 10, b: 10, c: 10 },
  },
  { name: 'blood', task: 'multiclass', modality: 'blood-smear', numInstances: 40, numClasses: 2 },
];

export const MODELS = [
  { id: 'resnet18', family: 'resnet', architecture: 'cnn', params: 11690000 },
  { id: 'vit', family: 'vit', architecture: 'transformer' },
];

/** Writes the small CSV source with its mapping, profiles and model catalog; returns their paths. */
export function smallSource(dir: string, csv = SMALL_CSV, mapping: object = SMALL_MAPPING) {
  write(dir, 'profiles.json', PROFILES);
  write(dir, 'models.json', MODELS);
  return { csv: write(dir, 'runs.csv', csv), mapping: write(dir, 'mapping.json', mapping) };
}

/** Every row of every table, to compare a knowledge base's content before and after. */
export function dumpTables(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const tables = (
      db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as {
        name: string;
      }[]
    ).map((t) => t.name);
    return JSON.stringify(
      Object.fromEntries(
        tables.map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).all()]),
      ),
    );
  } finally {
    db.close();
  }
}

const WORKER = fileURLToPath(new URL('./fixtures/import-worker.ts', import.meta.url));

export interface WorkerResult {
  added: number;
  /** The ids of the records it added (batches only). */
  addedIds: string[];
  start: number;
  end: number;
}

/** Runs fixtures/import-worker.ts in a child process with these arguments (see that file). */
export function runImportWorker(args: string[], env?: Env): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker exited ${code}: ${err}`)),
    );
  });
}

/** The Optuna 3.1 script that writes the fixture storages (a SQLite file or a PostgreSQL URL). */
export const OPTUNA_FIXTURE_SCRIPT = new URL('./fixtures/make_optuna_storage.py', import.meta.url)
  .pathname;

/** The mapping of the fixture storages: a study attribute names the dataset. */
export const OPTUNA_FIXTURE_MAPPING = {
  format: 'optuna',
  dataset: 'study_user_attrs.dataset',
  model: 'params.model',
  metrics: { accuracy: 'value' },
  cost: { trainingTimeSec: 'user_attrs.train_seconds' },
  runId: 'run_id',
};
