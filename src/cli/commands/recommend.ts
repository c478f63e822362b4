import { Option, type Command } from 'commander';
import {
  AUTO,
  EXPORT_FORMATS,
  ExitCode,
  MetallmixError,
  MODALITIES,
  Objective,
  STRATEGIES,
  exportTrials,
  recommend,
  type ExportFormat,
  type Modality,
} from '../../index.ts';
import type { LlmFlags } from '../../llm/index.ts';
import { embedderOptions, embedderSetup, type EmbedderFlags } from '../embedder-options.ts';
import type { CliIo } from '../io.ts';
import { NO_BUILTIN_HELP, READ_KB_HELP } from '../kb-flags.ts';
import { llmOptions } from '../llm-options.ts';
import { emit, jsonOption, listFlag, say, withExamples } from '../output.ts';
import { exactlyOneOf, integer, positiveInt, positiveNumber } from '../parse-flags.ts';
import { progressFor } from '../progress.ts';
import { renderRecommendation } from '../render-recommendation.ts';

interface RecommendFlags extends EmbedderFlags {
  profile?: string;
  dataset?: string;
  manifest?: string;
  modality?: Modality;
  kb?: string;
  builtin: boolean;
  metric: string;
  objective: Objective;
  budgetMinutes?: number;
  topK: number;
  seed: number;
  strategy: string;
  models?: string;
  export?: ExportFormat;
  out?: string;
  cache: boolean;
  json?: boolean;
  maxAttempts: number;
  llmJudge: boolean;
  promptsDir?: string;
  llmConfig?: string;
}

export function registerRecommend(program: Command, io: CliIo): void {
  const cmd = program
    .command('recommend')
    .description(
      'Recommend a pretrained model and fine-tuning hyperparameters for a dataset, zero-shot (no trial runs)',
    )
    .option(
      '--profile <file>',
      'dataset profile JSON (written by `metallmix profile DIR --output FILE` or `--json`; format: `metallmix schema DatasetProfile`)',
    )
    .option('--dataset <dir>', 'image folder, one sub-folder per class (profiled on the fly)')
    .option('--manifest <file>', 'CSV manifest with path,label[,split] (profiled on the fly)')
    .addOption(
      new Option('--modality <modality>', 'imaging modality (overrides the profile)').choices(
        MODALITIES,
      ),
    )
    .option('--kb <path>', READ_KB_HELP)
    .option('--no-builtin', NO_BUILTIN_HELP)
    .option(
      '--metric <name>',
      'metric to maximize (any stored metric; losses are minimized)',
      'accuracy',
    )
    .addOption(
      new Option(
        '--objective <objective>',
        'best metric, balanced (fastest not credibly worse than the best), or fastest',
      )
        .choices(Objective.options)
        .default('best'),
    )
    .option(
      '--budget-minutes <n>',
      'training-time budget: also report the best pick predicted to fit it',
      positiveNumber,
    )
    .option('--top-k <k>', 'how many configurations to list', positiveInt, 5)
    .option(
      '--seed <n>',
      'seed of every random draw (same inputs and seed, same answer)',
      integer,
      0,
    )
    .addOption(
      new Option(
        '--strategy <name>',
        `${AUTO} (hybrid with an LLM, else metalearner); ${STRATEGIES.map((s) => `${s.name}: ${s.description}`).join('; ')}`,
      )
        .choices([AUTO, ...STRATEGIES.map((s) => s.name)])
        .default(AUTO),
    )
    .option(
      '--models <ids>',
      'only consider these models (comma-separated ids from the knowledge base)',
    )
    .addOption(
      new Option(
        '--export <format>',
        'also write the top-k configs: optuna (trials JSON + enqueue_trial snippet), json or yaml',
      ).choices(EXPORT_FORMATS),
    )
    .option('--out <path>', 'file name (without extension) for --export', 'metallmix-trials')
    .option('--no-cache', 'retrain the meta-learner instead of using the cached one')
    .option(
      '--max-attempts <n>',
      'LLM attempts before falling back to the meta-learner',
      positiveInt,
      3,
    )
    .option('--no-llm-judge', 'check LLM answers with the rules only (no LLM-as-judge)')
    .option(
      '--prompts-dir <dir>',
      'directory of prompt templates that replace the built-in ones (see prompts/)',
    )
    .option(
      '--llm-config <file>',
      'LLM config file (YAML or JSON; default $METALLMIX_CONFIG or ~/.config/metallmix/config.yaml)',
    )
    .addOption(jsonOption());
  llmOptions(cmd);
  embedderOptions(cmd);
  cmd.action(async (flags: RecommendFlags & LlmFlags) => {
    exactlyOneOf({
      '--profile FILE': flags.profile,
      '--dataset DIR': flags.dataset,
      '--manifest FILE': flags.manifest,
    });
    const rec = await recommend({
      dataset: {
        profileFile: flags.profile,
        imageFolder: flags.dataset,
        manifest: flags.manifest,
        modality: flags.modality,
      },
      kb: flags.kb,
      builtin: flags.builtin,
      metric: flags.metric,
      objective: flags.objective,
      budgetMinutes: flags.budgetMinutes,
      topK: flags.topK,
      seed: flags.seed,
      strategy: flags.strategy,
      models: listFlag(flags.models),
      maxAttempts: flags.maxAttempts,
      llmJudge: flags.llmJudge,
      cache: flags.cache,
      llm: { flags, configFile: flags.llmConfig },
      promptsDir: flags.promptsDir,
      embedder: embedderSetup(flags),
      env: io.env,
      progress: progressFor(io, !flags.json),
    });
    emit(io, rec, flags.json, renderRecommendation);
    if (flags.export)
      for (const file of exportTrials(rec, flags.export, flags.out!)) say(io, `wrote ${file}`);
    if (rec.unmet.length)
      throw new MetallmixError(
        `${rec.unmet.map((u) => u.message).join('; ')} (see the notice above)`,
        {
          exitCode: ExitCode.unsatisfiable,
        },
      );
  });
  withExamples(cmd, [
    'metallmix recommend --profile examples/chest-xray-small.json',
    'metallmix recommend --dataset ./my-images --modality xray --objective balanced --budget-minutes 30',
    'metallmix recommend --profile p.json --kb runs.sqlite --metric auc --top-k 10 --json',
    'metallmix recommend --profile p.json --export optuna --out trials/first   # then: python3 trials/first.py sqlite:///study.db my-study',
    'metallmix recommend --profile p.json --llm-base-url http://127.0.0.1:11434/v1 --llm-model qwen2.5:7b-instruct   # Ollama',
    'metallmix recommend --profile p.json --llm-gguf ./model.gguf --llm-threads 2   # in-process llama.cpp',
  ]);
}
