import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { Objective } from '../../core/index.ts';
import { DEFAULT_METHODS, benchMethod } from '../../bench/methods.ts';
import { runLodo, type BenchReport } from '../../bench/lodo.ts';
import { renderHtmlReport } from '../../bench/report-html.ts';
import { checkRequest } from '../../recommend/request.ts';
import { viewOfKnowledgeBase } from '../../recommend/kb-view.ts';
import { resolveKnowledgeBase } from '../../store/index.ts';
import { emit, jsonOption, table, withExamples } from '../output.ts';
import { createProgress, silentProgress } from '../progress.ts';
import { positiveInt } from '../parse-flags.ts';
import { commanderLlmOptions, type LlmFlags } from '../../llm/index.ts';
import { languageModelsFrom } from '../llm-setup.ts';

interface BenchFlags {
  kb?: string;
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
    ]),
  )}`;
}

export function registerBench(program: Command): void {
  const cmd = program
    .command('bench')
    .description(
      'Leave-one-dataset-out evaluation of every strategy and baseline on a knowledge base',
    )
    .option(
      '--kb <path>',
      'knowledge base file (default: $METALLMIX_KB, else the built-in MedMNIST starter)',
    )
    .option('--methods <list>', 'comma-separated methods', DEFAULT_METHODS.join(','))
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
  commanderLlmOptions(cmd);
  cmd.action(async (flags: BenchFlags & LlmFlags) => {
    const models = languageModelsFrom(flags);
    try {
      const pipeline = {
        llm: models.llm,
        judge: models.judge,
        llmJudge: flags.llmJudge,
        maxAttempts: flags.maxAttempts,
        promptsDir: flags.promptsDir,
        llmSeed: models.seed,
      };
      const methods = flags.methods.split(',').map((m) => benchMethod(m.trim(), pipeline));
      const kb = resolveKnowledgeBase(flags.kb);
      let view;
      try {
        view = viewOfKnowledgeBase(kb);
        checkRequest(view, kb.path, { metric: flags.metric });
      } finally {
        kb.close();
      }
      const datasets = flags.datasets?.split(',').map((d) => d.trim());
      let progress = silentProgress;
      const report = await runLodo(view, {
        metric: flags.metric,
        objective: flags.objective,
        methods,
        seeds: flags.seeds,
        datasets,
        includeMultilabel: flags.includeMultilabel,
        // The bar is sized once the number of held-out datasets is known.
        progress: {
          tick: (done, note) => progress.tick(done, note),
          finish: (note) => progress.finish(note),
        },
        onFolds: (count) => {
          if (!flags.json) progress = createProgress('held-out datasets', count);
        },
      });
      if (flags.report) {
        writeFileSync(flags.report, renderHtmlReport(report));
        process.stderr.write(`metallmix: wrote ${flags.report}\n`);
      }
      emit(report, flags.json, renderBench);
    } finally {
      await models.close();
    }
  });
  withExamples(cmd, [
    'metallmix bench',
    'metallmix bench --kb quicktune.sqlite --methods metalearner,random,random-search@10,tpe@10 --seeds 10',
    'metallmix bench --kb medmnist.sqlite --objective balanced --report bench.html --json',
    'metallmix bench --methods metalearner,hybrid --llm-base-url http://127.0.0.1:11434/v1 --llm-model qwen2.5:7b-instruct',
  ]);
}
