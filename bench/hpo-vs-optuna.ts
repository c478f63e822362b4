// Our HPO baselines against Optuna's TPESampler on the same lookup problems.
//   node --import tsx bench/hpo-vs-optuna.ts [--problems FILE] [--seeds 10] [--trials 20]
//        [--optuna-history evaluated|proposed] [--json]
// Problem sets: FILE (JSON: a LookupProblem array or {"problems": [...]}) when given; otherwise
// 16 synthetic problems, plus the Quick-Tune micro runs (../shared/metadata) when present.
// --optuna-history: what Optuna's study records, the snapped candidate (as ours does, default)
// or its own proposal.
// Prints mean regret after 10 and 20 trials per method; Optuna runs through
// scripts/optuna_lookup.py under /usr/bin/python3 (Debian python3-optuna).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'csv-parse/sync';
import type { ExperimentRecord } from '../src/core/experiment.ts';
import type { Config, SearchSpace } from '../src/core/search-space.ts';
import {
  LookupIndex,
  lookupProblemsFromRecords,
  searchOnLookup,
  syntheticLookupProblems,
  type LookupMethod,
  type LookupProblem,
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

interface Row {
  set: string;
  method: string;
  regretAt10: number;
  regretAt20: number;
  runs: number;
}

function compare(
  set: string,
  problems: LookupProblem[],
  seeds: number[],
  nTrials: number,
  optunaHistory: 'evaluated' | 'proposed',
): Row[] {
  const methods: LookupMethod[] = ['uniform', 'random', 'tpe'];
  if (problems.every((p) => p.candidates.every((c) => c.curve?.length)))
    methods.push('successive-halving', 'hyperband');
  const indexes = problems.map((p) => new LookupIndex(p));
  const rows: Row[] = methods.map((method) => {
    const traces = indexes.flatMap((ix) =>
      seeds.map((s) => searchOnLookup(ix, method, nTrials, s)),
    );
    return row(set, method, traces);
  });
  rows.push(row(set, 'optuna-tpe', runOptunaTpe(problems, nTrials, seeds, optunaHistory)));
  return rows;
}

function row(set: string, method: string, traces: { regrets: number[] }[]): Row {
  return {
    set,
    method,
    regretAt10: meanRegretAt(traces, 10),
    regretAt20: meanRegretAt(traces, 20),
    runs: traces.length,
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      problems: { type: 'string' },
      seeds: { type: 'string', default: '10' },
      trials: { type: 'string', default: '20' },
      'optuna-history': { type: 'string', default: 'evaluated' },
      json: { type: 'boolean', default: false },
    },
  });
  const optunaHistory = values['optuna-history'];
  if (optunaHistory !== 'evaluated' && optunaHistory !== 'proposed')
    throw new Error(`--optuna-history: expected evaluated or proposed, got ${optunaHistory}`);
  const seeds = Array.from({ length: Number(values.seeds) }, (_, i) => i);
  const nTrials = Math.max(20, Number(values.trials));
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
    compare(name, problems, seeds, nTrials, optunaHistory),
  );
  if (values.json) {
    process.stdout.write(JSON.stringify({ seeds: seeds.length, nTrials, rows }, null, 2) + '\n');
    return;
  }
  console.log(`mean regret (best value minus incumbent), ${seeds.length} seeds per problem`);
  console.log('set'.padEnd(32) + 'method'.padEnd(22) + '@10'.padStart(9) + '@20'.padStart(9));
  for (const r of rows)
    console.log(
      r.set.padEnd(32) +
        r.method.padEnd(22) +
        r.regretAt10.toFixed(3).padStart(9) +
        r.regretAt20.toFixed(3).padStart(9),
    );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
