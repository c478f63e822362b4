// Our HPO baselines against Optuna's TPESampler on the same lookup problems, in one run.
//   node --import tsx bench/hpo-vs-optuna.ts [--problems FILE] [--seeds 10] [--budgets 20,30,50]
//        [--optuna-history evaluated|proposed] [--json]
// Problem sets: FILE (JSON: a LookupProblem array or {"problems": [...]}) when given; otherwise
// 16 synthetic problems, plus the Quick-Tune micro runs (../shared/metadata) when present.
// --optuna-history: what Optuna's study records, the snapped candidate (as ours does, default)
// or its own proposal.
// Prints, per method, the mean regret (± standard error) at budgets past TPE's 10-trial random
// start-up (at 10 trials both TPEs are still random draws), the time of one suggestion (the
// sampler alone: ours timed in this process, Optuna's inside Python around study.ask() and the
// suggest_* calls) and of one whole trial. Optuna runs through scripts/optuna_lookup.py under
// /usr/bin/python3 (Debian python3-optuna).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import type { ExperimentRecord } from '../src/core/experiment.ts';
import type { Config, SearchSpace } from '../src/core/search-space.ts';
import { maxOf, pushAll } from '../src/core/arrays.ts';
import { Rng } from '../src/core/rng.ts';
import {
  LookupIndex,
  lookupProblemsFromRecords,
  searchOnLookup,
  syntheticLookupProblems,
  TpeSampler,
  type LookupMethod,
  type LookupProblem,
  type LookupTrace,
  type Trial,
} from '../src/hpo/index.ts';

const SCRIPT = fileURLToPath(new URL('../scripts/optuna_lookup.py', import.meta.url));
const QUICKTUNE_DIR = fileURLToPath(
  new URL('../../shared/metadata/quicktune-metaalbum-micro-wandb/', import.meta.url),
);

export interface OptunaTrace {
  problem: string;
  seed: number;
  evaluations: number[];
  regrets: number[];
  /** Seconds of each trial's suggestion (study.ask() and suggest_* calls). */
  suggestSec?: number[];
  /** Seconds of each whole trial (suggest, snap, tell). */
  trialSec?: number[];
}

/** Runs Optuna's seeded TPESampler on the problems (curves and costs are not sent). */
export function runOptunaTpe(
  problems: readonly LookupProblem[],
  nTrials: number,
  seeds: readonly number[],
  history: 'evaluated' | 'proposed' = 'evaluated',
): OptunaTrace[] {
  const dir = mkdtempSync(join(tmpdir(), 'metallmix-optuna-'));
  try {
    const file = join(dir, 'problems.json');
    const slim = problems.map((p) => ({
      ...p,
      candidates: p.candidates.map((c) => ({ config: c.config, value: c.value })),
    }));
    writeFileSync(file, JSON.stringify({ problems: slim, nTrials, seeds, history }));
    const out = execFileSync('/usr/bin/python3', [SCRIPT, file], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    return (JSON.parse(out) as { traces: OptunaTrace[] }).traces;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Mean regret after `k` trials over traces. */
export function meanRegretAt(traces: readonly { regrets: number[] }[], k: number): number {
  return traces.reduce((s, t) => s + t.regrets[k - 1], 0) / traces.length;
}

const QUICKTUNE_SPACE: SearchSpace = {
  parameters: [
    { name: 'lr', type: 'float', low: 1e-5, high: 1e-2, log: true },
    { name: 'batch_size', type: 'int', low: 2, high: 512, log: true },
    // 0 is read as 1e-6 so the log scale can hold the runs without weight decay.
    { name: 'weight_decay', type: 'float', low: 1e-6, high: 0.1, log: true },
    { name: 'opt', type: 'categorical', choices: ['sgd', 'momentum', 'adam', 'adamw', 'adamp'] },
    {
      name: 'momentum',
      type: 'float',
      low: 0,
      high: 0.99,
      log: false,
      condition: { parent: 'opt', values: ['sgd', 'momentum'] },
    },
    { name: 'sched', type: 'categorical', choices: ['cosine', 'step', 'multistep', 'plateau'] },
    { name: 'drop', type: 'float', low: 0, high: 0.4, log: false },
    { name: 'pct_to_freeze', type: 'float', low: 0, high: 1, log: false },
    { name: 'mixup', type: 'float', low: 0, high: 8, log: false },
    { name: 'cutmix', type: 'float', low: 0, high: 4, log: false },
    { name: 'smoothing', type: 'float', low: 0, high: 0.1, log: false },
    { name: 'sp_reg', type: 'float', low: 0, high: 0.1, log: false },
    { name: 'delta_reg', type: 'float', low: 0, high: 0.1, log: false },
    { name: 'stoch_norm', type: 'bool' },
    { name: 'trivial_augment', type: 'bool' },
  ],
};

/** Finished 50-epoch Quick-Tune runs as records (metric eval_top1, in percent). */
function quickTuneRecords(dir: string): ExperimentRecord[] {
  const records: ExperimentRecord[] = [];
  for (const name of ['AFT-MC-00.csv', 'AFT-MC-01.csv']) {
    const file = join(dir, name);
    const rows = parse(readFileSync(file), { columns: true }) as Record<string, string>[];
    rows.forEach((row, i) => {
      if (row.State !== 'finished' || Number(row.epoch) !== 49) return;
      const config: Config = {};
      for (const p of QUICKTUNE_SPACE.parameters) {
        const raw = row[p.name];
        if (p.type === 'bool') config[p.name] = raw === 'true';
        else if (p.type === 'categorical') config[p.name] = raw;
        else config[p.name] = p.name === 'weight_decay' && Number(raw) === 0 ? 1e-6 : Number(raw);
      }
      records.push({
        dataset: row.dataset,
        model: row.model,
        config,
        metrics: { eval_top1: Number(row.eval_top1) },
        cost: { trainingTimeSec: Number(row.Runtime) },
        status: 'finished',
        provenance: { source: file, line: i + 2 },
      });
    });
  }
  return records;
}

interface Stat {
  mean: number;
  /** Standard error of the mean over (problem, seed) runs. */
  se: number;
}

interface Row {
  set: string;
  method: string;
  /** Mean regret after each budget (trials), with its standard error. */
  regret: Record<number, Stat>;
  runs: number;
  /** Seconds of one suggestion (the sampler alone) past the random start-up: p10, p50, p90. */
  suggestSec?: [number, number, number];
  /** Seconds of one whole trial (suggest, snap to a run configuration, record): p50. */
  trialSec?: number;
}

/** TPE's random start-up: trials before it models anything (ours and Optuna's default). */
const STARTUP = 10;

function stat(xs: readonly number[]): Stat {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd =
    xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, se: sd / Math.sqrt(xs.length) };
}

function quantiles(xs: readonly number[]): [number, number, number] {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.round(p * (s.length - 1)))];
  return [q(0.1), q(0.5), q(0.9)];
}

/**
 * Our TPE's suggestion time, replayed on each trace: at trial k (past the start-up) the sampler
 * is asked for the next configuration given the k trials the trace evaluated before it.
 */
function oursSuggestSec(index: LookupIndex, trace: LookupTrace, seed: number): number[] {
  const { space, candidates } = index.problem;
  const sampler = new TpeSampler();
  const history: Trial[] = trace.evaluations.map((e, number) => ({
    number,
    config: candidates[e.candidate].config,
    value: e.value,
    status: 'complete',
  }));
  const rng = new Rng(seed).fork('timing');
  const suggest: number[] = [];
  for (let k = STARTUP; k < history.length; k++) {
    const t0 = performance.now();
    sampler.suggest(space, history.slice(0, k), rng, index.direction);
    suggest.push((performance.now() - t0) / 1000);
  }
  return suggest;
}

function compare(
  set: string,
  problems: LookupProblem[],
  seeds: number[],
  budgets: number[],
  optunaHistory: 'evaluated' | 'proposed',
): Row[] {
  const nTrials = maxOf(budgets);
  const methods: LookupMethod[] = ['uniform', 'random', 'tpe'];
  if (problems.every((p) => p.candidates.every((c) => c.curve?.length)))
    methods.push('successive-halving', 'hyperband');
  const indexes = problems.map((p) => new LookupIndex(p));
  const rows: Row[] = methods.map((method) => {
    const trialSec: number[] = [];
    const suggestSec: number[] = [];
    const traces = indexes.flatMap((ix) =>
      seeds.map((s) => {
        const t0 = performance.now();
        const trace = searchOnLookup(ix, method, nTrials, s);
        trialSec.push((performance.now() - t0) / 1000 / Math.max(1, trace.evaluations.length));
        if (method === 'tpe') pushAll(suggestSec, oursSuggestSec(ix, trace, s));
        return trace;
      }),
    );
    return {
      ...row(set, method, traces, budgets),
      trialSec: quantiles(trialSec)[1],
      ...(suggestSec.length ? { suggestSec: quantiles(suggestSec) } : {}),
    };
  });
  const optuna = runOptunaTpe(problems, nTrials, seeds, optunaHistory);
  rows.push({
    ...row(set, 'optuna-tpe', optuna, budgets),
    suggestSec: quantiles(optuna.flatMap((t) => t.suggestSec!.slice(STARTUP))),
    trialSec: quantiles(optuna.flatMap((t) => t.trialSec!))[1],
  });
  return rows;
}

function row(set: string, method: string, traces: { regrets: number[] }[], budgets: number[]): Row {
  return {
    set,
    method,
    regret: Object.fromEntries(budgets.map((b) => [b, stat(traces.map((t) => t.regrets[b - 1]))])),
    runs: traces.length,
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      problems: { type: 'string' },
      seeds: { type: 'string', default: '10' },
      budgets: { type: 'string', default: '20,30,50' },
      'optuna-history': { type: 'string', default: 'evaluated' },
      json: { type: 'boolean', default: false },
    },
  });
  const optunaHistory = values['optuna-history'];
  if (optunaHistory !== 'evaluated' && optunaHistory !== 'proposed')
    throw new Error(`--optuna-history: expected evaluated or proposed, got ${optunaHistory}`);
  const seeds = Array.from({ length: Number(values.seeds) }, (_, i) => i);
  const budgets = values.budgets.split(',').map(Number);
  if (budgets.some((b) => !Number.isInteger(b) || b <= STARTUP))
    throw new Error(
      `--budgets: trial counts past the ${STARTUP}-trial random start-up, got ${values.budgets}`,
    );
  const sets: [string, LookupProblem[]][] = [];
  if (values.problems) {
    const data = JSON.parse(readFileSync(values.problems, 'utf8'));
    sets.push([values.problems, Array.isArray(data) ? data : data.problems]);
  } else {
    sets.push(['synthetic (16 problems)', syntheticLookupProblems({ count: 16, seed: 2024 })]);
    if (existsSync(QUICKTUNE_DIR)) {
      const qt = lookupProblemsFromRecords(
        quickTuneRecords(QUICKTUNE_DIR),
        'eval_top1',
        QUICKTUNE_SPACE,
      );
      sets.push([`quicktune micro (${qt.length} datasets)`, qt]);
    } else {
      process.stderr.write(`skipping Quick-Tune: ${QUICKTUNE_DIR} is absent\n`);
    }
  }
  const rows = sets.flatMap(([name, problems]) =>
    compare(name, problems, seeds, budgets, optunaHistory),
  );
  if (values.json) {
    process.stdout.write(JSON.stringify({ seeds: seeds.length, budgets, rows }, null, 2) + '\n');
    return;
  }
  console.log(
    `mean regret (best value minus incumbent) ± standard error over problems x ${seeds.length} seeds, after ${budgets.join(', ')} trials (TPE's first ${STARTUP} are random);`,
  );
  console.log(
    `ms per suggestion: the sampler alone at trials ${STARTUP + 1}..${maxOf(budgets)} (ours replayed on its own traces; Optuna's study.ask() and suggest_* calls), p50 [p10-p90];`,
  );
  console.log(
    'ms per trial: suggest, snap to a run configuration and record, p50. Load average ' +
      loadavg()
        .map((x) => x.toFixed(1))
        .join(' '),
  );
  const ms = (x: number) => (1000 * x).toFixed(x < 0.001 ? 3 : 2);
  console.log(
    'set'.padEnd(32) +
      'method'.padEnd(20) +
      budgets.map((b) => `@${b}`.padStart(15)).join('') +
      '  ms/suggestion'.padEnd(26) +
      'ms/trial',
  );
  for (const r of rows)
    console.log(
      r.set.padEnd(32) +
        r.method.padEnd(20) +
        budgets
          .map((b) => `${r.regret[b].mean.toFixed(3)}±${r.regret[b].se.toFixed(3)}`.padStart(15))
          .join('') +
        `  ${r.suggestSec ? `${ms(r.suggestSec[1])} [${ms(r.suggestSec[0])}-${ms(r.suggestSec[2])}]` : '-'}`.padEnd(
          26,
        ) +
        (r.trialSec !== undefined ? ms(r.trialSec) : '-'),
    );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
