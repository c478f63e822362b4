// The loop of `metallmix run` on the digits example, measured for real: does the few-shot
// continuation after five trials (the sixth suggestion) beat the zero-shot pick and the best of
// the first five? Per digits variant (image folders written by examples/digits/make_folder.py,
// none of them in the starter knowledge base) and seed, it imports the starter runs, asks the
// public `recommend` for trial 1 (zero-shot), trains it with examples/train_digits.py, then asks
// again with the results so far (`observed`, as `run` does with the records it writes) for trials
// 2..6. Beside it, the zero-shot list (ranks 1..6 of one zero-shot answer) as the baseline the
// continuation must beat. The seed is the recommendation's (its candidate pool) and the training
// script's (split and initial weights).
//
//   node --import tsx bench/run-loop.ts [--seeds 3] [--variants full,odd,0to6] [--trials 6]
//     [--work DIR]
//
// Trained results are kept in DIR/trained.json (default a folder under the system's temp dir):
// accuracy is deterministic for a configuration and seed, so a re-run trains only what is new.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { importRuns, recommend, type Recommendation } from '../src/index.ts';
import { candidateKey } from '../src/recommend/kb-view.ts';
import { maxOf } from '../src/core/arrays.ts';

const PYTHON = '/usr/bin/python3';
const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));

/** make_folder.py options of each variant: digit sets and sizes the starter runs do not hold. */
const VARIANTS: Record<string, string[]> = {
  full: [],
  odd: ['--classes', '1,3,5,7,9'],
  '0to6': ['--classes', '0,1,2,3,4,5,6'],
  'few-8': ['--per-class', '60'],
};

const { values: opts } = parseArgs({
  options: {
    seeds: { type: 'string', default: '3' },
    variants: { type: 'string', default: 'full,odd,0to6' },
    trials: { type: 'string', default: '6' },
    work: { type: 'string', default: path.join(os.tmpdir(), 'metallmix-bench-run-loop') },
  },
});
const seeds = Array.from({ length: Number(opts.seeds) }, (_, i) => i);
const variants = opts.variants!.split(',');
for (const v of variants)
  if (!(v in VARIANTS)) throw new Error(`unknown variant ${v}; known: ${Object.keys(VARIANTS)}`);
const trials = Number(opts.trials);
const work = opts.work!;
mkdirSync(work, { recursive: true });

const env: Record<string, string | undefined> = {
  ...process.env,
  METALLMIX_DATA: path.join(work, 'data'),
  METALLMIX_CACHE: path.join(work, 'cache'),
};
delete env.METALLMIX_KB;
const kb = path.join(work, 'starter.sqlite');
if (!existsSync(kb))
  await importRuns({
    files: [path.join(EXAMPLES, 'digits', 'runs.csv')],
    mapping: path.join(EXAMPLES, 'digits', 'mapping.json'),
    kb,
    env,
  });

const trainedFile = path.join(work, 'trained.json');
const trained: Record<string, { accuracy: number; sec: number }> = existsSync(trainedFile)
  ? JSON.parse(readFileSync(trainedFile, 'utf8'))
  : {};
let trainedNow = 0;
let trainSec = 0;

function folderOf(variant: string): string {
  const dir = path.join(work, `digits-${variant}`);
  if (!existsSync(dir)) {
    const made = spawnSync(
      PYTHON,
      [path.join(EXAMPLES, 'digits', 'make_folder.py'), dir, ...VARIANTS[variant]],
      { encoding: 'utf8' },
    );
    if (made.status !== 0) throw new Error(made.stderr);
  }
  return dir;
}

type Config = Record<string, string | number | boolean>;

function train(variant: string, seed: number, model: string, config: Config) {
  const key = `${variant}|${seed}|${candidateKey(model, config)}`;
  const hit = trained[key];
  if (hit) return hit;
  const args = Object.entries(config).flatMap(([k, v]) => [`--${k}`, String(v)]);
  const t0 = performance.now();
  const r = spawnSync(
    PYTHON,
    [
      path.join(EXAMPLES, 'train_digits.py'),
      '--data',
      folderOf(variant),
      '--model',
      model,
      '--seed',
      String(seed),
      ...args,
    ],
    { encoding: 'utf8' },
  );
  trainSec += (performance.now() - t0) / 1000;
  const line = r.stdout.split('\n').find((l) => l.startsWith('METALLMIX_RESULT '));
  if (r.status !== 0 || !line) throw new Error(`training failed: ${r.stderr}`);
  const res = JSON.parse(line.slice('METALLMIX_RESULT '.length));
  const out = { accuracy: res.accuracy as number, sec: res.training_time_sec as number };
  trained[key] = out;
  trainedNow++;
  writeFileSync(trainedFile, JSON.stringify(trained));
  return out;
}

async function ask(variant: string, seed: number, observedFile?: string, topK = 1) {
  return recommend({
    dataset: { imageFolder: folderOf(variant), modality: 'other', name: `bench-${variant}` },
    kb,
    seed,
    topK,
    env,
    ...(observedFile ? { observed: observedFile } : {}),
  });
}

interface Row {
  variant: string;
  seed: number;
  continued: number[];
  zeroList: number[];
  predicted6: number;
}

const rows: Row[] = [];
const t0 = performance.now();
let recommendMs = 0;
for (const variant of variants)
  for (const seed of seeds) {
    const name = `bench-${variant}`;
    let t = performance.now();
    const zero: Recommendation = await ask(variant, seed, undefined, trials);
    recommendMs += performance.now() - t;
    const zeroList = zero.topK.map((e) => train(variant, seed, e.model, e.config).accuracy);
    const observedFile = path.join(work, `observed-${variant}-${seed}.jsonl`);
    const lines: string[] = [];
    const continued: number[] = [];
    let pick = zero.topK[0];
    let predicted6 = NaN;
    for (let k = 1; k <= trials; k++) {
      const res = train(variant, seed, pick.model, pick.config);
      continued.push(res.accuracy);
      if (k === trials) break;
      lines.push(
        JSON.stringify({
          dataset: name,
          model: pick.model,
          config: pick.config,
          metrics: { accuracy: res.accuracy },
          training_time_sec: res.sec,
        }),
      );
      writeFileSync(observedFile, lines.join('\n') + '\n');
      t = performance.now();
      const next = await ask(variant, seed, observedFile);
      recommendMs += performance.now() - t;
      pick = next.topK[0];
      if (k === trials - 1) predicted6 = pick.predictedMetric.mean;
    }
    rows.push({ variant, seed, continued, zeroList, predicted6 });
  }

const f = (x: number) => x.toFixed(4);
const n5 = trials - 1;
process.stdout.write(
  `variant  seed  zero-shot  best-of-${n5}  trial-${trials}  (pred)   | zero-shot list: best-of-${trials}  rank-${trials}\n`,
);
for (const r of rows) {
  const best5 = maxOf(r.continued.slice(0, n5));
  process.stdout.write(
    `${r.variant.padEnd(8)} ${String(r.seed).padStart(4)}  ${f(r.continued[0])}     ${f(best5)}     ${f(r.continued[n5])}  (${f(r.predicted6)}) | ${f(maxOf(r.zeroList))}  ${f(r.zeroList[n5])}   trials ${r.continued.map(f).join(' ')}\n`,
  );
}
const count = (p: (r: Row) => boolean) => rows.filter(p).length;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const last = (r: Row) => r.continued[n5];
const best5 = (r: Row) => maxOf(r.continued.slice(0, n5));
process.stdout.write(
  [
    `${rows.length} studies; trial ${trials} (the continuation after ${n5}) beats the zero-shot pick in ${count((r) => last(r) > r.continued[0])}, ties ${count((r) => last(r) === r.continued[0])}; beats the best of the first ${n5} in ${count((r) => last(r) > best5(r))}, ties ${count((r) => last(r) === best5(r))}`,
    `mean accuracy: zero-shot ${f(mean(rows.map((r) => r.continued[0])))}, best of ${n5} continued ${f(mean(rows.map(best5)))}, trial ${trials} ${f(mean(rows.map(last)))}, best of ${trials} continued ${f(mean(rows.map((r) => maxOf(r.continued))))}; zero-shot list best of ${trials} ${f(mean(rows.map((r) => maxOf(r.zeroList))))}`,
    `mean |predicted - observed| of trial ${trials}: ${f(mean(rows.map((r) => Math.abs(r.predicted6 - last(r)))))}`,
    `wall ${((performance.now() - t0) / 1000).toFixed(0)} s: recommendations ${(recommendMs / 1000).toFixed(0)} s, training ${trainSec.toFixed(0)} s (${trainedNow} trained now, the rest from ${trainedFile})`,
    '',
  ].join('\n'),
);
