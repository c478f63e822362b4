import { Option, type Command } from 'commander';
import {
  DEFAULT_METHODS,
  HPO_BASELINES,
  Objective,
  STRATEGY_NAMES,
  bench,
  type BenchReport,
} from '../../index.ts';
import type { LlmFlags } from '../../llm/index.ts';
import type { CliIo } from '../io.ts';
import { NO_BUILTIN_HELP, READ_KB_HELP } from '../kb-flags.ts';
import { llmOptions } from '../llm-options.ts';
import { emit, jsonOption, listFlag, say, table, withExamples } from '../output.ts';
import { positiveInt } from '../parse-flags.ts';
import { progressFor } from '../progress.ts';

interface BenchFlags {
  kb?: string;
  builtin: boolean;
  methods: string;
  metric: string;
  objective: Objective;
  seeds: number;
  datasets?: string;
  includeMultilabel?: boolean;
  report?: string;
  json?: boolean;
  maxAttempts: number;
  llmJudge: boolean;
  promptsDir?: string;
  llmConfig?: string;
}

const n = (x: number | null, d = 2) => (x === null || Number.isNaN(x) ? '-' : x.toFixed(d));

export function renderBench(r: BenchReport): string {
  const head = `Leave-one-dataset-out on ${r.datasets} datasets, metric ${r.metric}, objective ${r.objective}, ${r.seeds} seed(s)`;
  const skipped = r.skipped.length
    ? `\nLeft out: ${r.skipped.map((s) => `${s.dataset} (${s.reason})`).join(', ')}`
    : '';
  return `${head}${skipped}\n\n${table(
    [
      'method',
      'mean regret',
      'hit@1',
      'hit@3',
      'NDCG@5',
      'Spearman',
      'cost ratio',
      'pick time s',
      'response ms',
      'coverage80',
      'width80',
    ],
    r.methods.map((m) => [
      m.name,
      n(m.meanRegret),
      n(m.hitAt1),
      n(m.hitAt3),
      n(m.ndcgAt5),
      n(m.spearman),
      n(m.meanCostRatio),
      n(m.meanPickTimeSec, 0),
      n(m.responseMsMedian, 1),
      n(m.coverage80),
      n(m.meanWidth80, 1),
    ]),
  )}`;
}

export function registerBench(program: Command, io: CliIo): void {
  const cmd = program
    .command('bench')
    .description(
      'Leave-one-dataset-out evaluation of every strategy and baseline on a knowledge base',
    )
    .option('--kb <path>', READ_KB_HELP)
    .option('--no-builtin', NO_BUILTIN_HELP)
    .option(
      '--methods <list>',
      `comma-separated methods: strategies (${STRATEGY_NAMES.join(', ')}) and HPO baselines NAME@TRIALS (${HPO_BASELINES.join(', ')})`,
      DEFAULT_METHODS.join(','),
    )
    .option('--metric <name>', 'metric scored by lookup', 'accuracy')
    .addOption(
      new Option('--objective <objective>', 'objective the recommenders choose under')
        .choices(Objective.options)
        .default('best'),
    )
    .option(
      '--seeds <n>',
      'repetitions of the random methods (random pick, HPO baselines)',
      positiveInt,
      5,
    )
    .option('--datasets <list>', 'only hold out these datasets (comma-separated)')
    .option('--include-multilabel', 'also hold out multilabel datasets')
    .option(
      '--report <file.html>',
      'write an HTML page with a regret-per-dataset chart and the table',
    )
    .option('--max-attempts <n>', 'LLM attempts per dataset (methods llm, hybrid)', positiveInt, 3)
    .option('--no-llm-judge', 'check LLM answers with the rules only')
    .option('--prompts-dir <dir>', 'prompt templates that replace the built-in ones')
    .option('--llm-config <file>', 'LLM config file (YAML or JSON)')
    .addOption(jsonOption());
  llmOptions(cmd);
  cmd.action(async (flags: BenchFlags & LlmFlags) => {
    const report = await bench({
      kb: flags.kb,
      builtin: flags.builtin,
      methods: listFlag(flags.methods),
      metric: flags.metric,
      objective: flags.objective,
      seeds: flags.seeds,
      datasets: listFlag(flags.datasets),
      includeMultilabel: flags.includeMultilabel,
      report: flags.report,
      // Commander keeps the arguments it parsed (untyped): the report shows the command as typed.
      command: `metallmix ${(program as Command & { rawArgs: string[] }).rawArgs.slice(2).join(' ')}`,
      llm: { flags, configFile: flags.llmConfig },
      maxAttempts: flags.maxAttempts,
      llmJudge: flags.llmJudge,
      promptsDir: flags.promptsDir,
      env: io.env,
      progress: progressFor(io, !flags.json),
    });
    if (flags.report) say(io, `wrote ${flags.report}`);
    emit(io, report, flags.json, renderBench);
  });
  withExamples(cmd, [
    'metallmix bench --kb runs.sqlite --report bench.html',
    'metallmix bench --kb quicktune.sqlite --methods metalearner,random,random-search@10,tpe@10 --seeds 10',
    'metallmix bench --methods metalearner,hybrid --llm-base-url http://127.0.0.1:11434/v1 --llm-model qwen2.5:7b-instruct',
  ]);
}
