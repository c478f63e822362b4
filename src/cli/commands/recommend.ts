import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Option, type Command } from 'commander';
import {
  ExitCode,
  MetallmixError,
  MODALITIES,
  Objective,
  type Modality,
  type Recommendation,
} from '../../core/index.ts';
import { defaultCacheDir } from '../../recommend/cache.ts';
import { EXPORT_FORMATS, exportRecommendation, type ExportFormat } from '../../recommend/export.ts';
import { runPipeline } from '../../recommend/pipeline.ts';
import { commanderLlmOptions, type LlmFlags } from '../../llm/index.ts';
import {
  embedderFrom,
  embedderOptions,
  indexPathForKb,
  languageModelsFrom,
  type EmbedderFlags,
} from '../llm-setup.ts';
import { resolveKnowledgeBase } from '../../store/index.ts';
import { emit, jsonOption, withExamples } from '../output.ts';
import { resolveProfile } from '../profile-input.ts';
import { renderRecommendation } from '../render-recommendation.ts';
import { positiveInt, positiveNumber, integer } from '../parse-flags.ts';

interface RecommendFlags {
  profile?: string;
  dataset?: string;
  manifest?: string;
  modality?: Modality;
  kb?: string;
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

export function registerRecommend(program: Command): void {
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
    .option(
      '--kb <path>',
      'knowledge base file (default: $METALLMIX_KB, else the built-in MedMNIST starter)',
    )
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
    .option(
      '--strategy <name>',
      'auto (hybrid with an LLM, else metalearner), metalearner, hybrid, llm, random, single-best or knn',
      'auto',
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
  commanderLlmOptions(cmd);
  embedderOptions(cmd);
  cmd.action(async (flags: RecommendFlags & LlmFlags & EmbedderFlags) => {
    const { profile, ms } = await resolveProfile(flags, flags.json);
    // Settings that can fail are read before anything is opened, so nothing is left open.
    const embedder = await embedderFrom(flags);
    const models = languageModelsFrom(flags);
    const cacheDir = defaultCacheDir();
    let rec: Recommendation;
    let kb: ReturnType<typeof resolveKnowledgeBase> | undefined;
    try {
      kb = resolveKnowledgeBase(flags.kb);
      rec = await runPipeline(kb, profile, {
        strategy: flags.strategy,
        llm: models.llm,
        judge: models.judge,
        llmJudge: flags.llmJudge,
        llmSeed: models.seed,
        maxAttempts: flags.maxAttempts,
        promptsDir: flags.promptsDir,
        indexPath: indexPathForKb(kb.path, cacheDir),
        embedder,
        metric: flags.metric,
        objective: flags.objective,
        topK: flags.topK,
        seed: flags.seed,
        budgetMinutes: flags.budgetMinutes,
        models: flags.models
          ?.split(',')
          .map((m) => m.trim())
          .filter(Boolean),
        cacheDir: flags.cache ? cacheDir : undefined,
      });
    } finally {
      kb?.close();
      await models.close();
    }
    rec = { ...rec, timingsMs: { profile: ms, ...rec.timingsMs } };
    emit(rec, flags.json, renderRecommendation);
    if (flags.export) {
      for (const file of exportRecommendation(rec, flags.export, flags.out!)) {
        mkdirSync(dirname(file.name), { recursive: true });
        writeFileSync(file.name, file.content);
        process.stderr.write(`metallmix: wrote ${file.name}\n`);
      }
    }
    if (rec.budgetMinutes !== undefined && !rec.budgetPick)
      throw new MetallmixError(
        `no candidate is predicted to train within ${rec.budgetMinutes} minutes (see the notice above)`,
        { exitCode: ExitCode.unsatisfiable },
      );
  });
  withExamples(cmd, [
    'metallmix recommend --profile p.json --llm-base-url http://127.0.0.1:11434/v1 --llm-model qwen2.5:7b-instruct   # Ollama',
    'metallmix recommend --profile p.json --llm-gguf ./model.gguf --llm-threads 2   # in-process llama.cpp',
    'metallmix recommend --profile examples/chest-xray-small.json',
    'metallmix recommend --dataset ./my-images --modality xray --objective balanced --budget-minutes 30',
    'metallmix recommend --profile p.json --kb runs.sqlite --metric auc --top-k 10 --json',
    'metallmix recommend --profile p.json --export optuna --out trials/first   # then: python3 trials/first.py sqlite:///study.db my-study',
  ]);
}
