import { Option, type Command } from 'commander';
import {
  AUTO,
  EXPORT_FORMATS,
  ExitCode,
  MetallmixError,
  MODALITIES,
  Objective,
  STRATEGIES,
  EXPORT_FILES,
  exportRecommendation,
  recommend,
  type ExportFormat,
  type Modality,
} from '../../index.ts';
import type { LlmFlags } from '../../llm/index.ts';
import { maskLocator } from '../../store/index.ts';
import { embedderOptions, embedderSetup, type EmbedderFlags } from '../embedder-options.ts';
import type { CliIo } from '../io.ts';
import { NO_BUILTIN_HELP, READ_KB_HELP } from '../kb-flags.ts';
import { llmOptions } from '../llm-options.ts';
import { emit, jsonOption, listFlag, say, withExamples } from '../output.ts';
import { exactlyOneOf, integer, positiveInt, positiveNumber } from '../parse-flags.ts';
import { progressFor } from '../progress.ts';
import { terminalWidth } from '../layout.ts';
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
  verbose?: boolean;
  maxAttempts: number;
  llmJudge: boolean;
  promptsDir?: string;
  llmConfig?: string;
  observed?: string;
  continuation: boolean;
}

export function registerRecommend(program: Command, io: CliIo): void {
  const cmd = program
    .command('recommend')
    .description(
      'Recommend a pretrained model and fine-tuning hyperparameters for a dataset: zero-shot, or the next trial when the dataset already has results',
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
        `also write the top-k for another tool: ${EXPORT_FORMATS.map((f) => `${f} (${EXPORT_FILES[f].what}${EXPORT_FILES[f].second ? `, plus ${EXPORT_FILES[f].second!.what}` : ''})`).join('; ')}`,
      ).choices(EXPORT_FORMATS),
    )
    .option(
      '--out <path>',
      `file --export writes, as typed (a directory/ gets the default name inside: ${EXPORT_FORMATS.map((f) => EXPORT_FILES[f].main).join(', ')}); a second file takes the first's name without .json/.yaml plus ${[...new Set(EXPORT_FORMATS.flatMap((f) => EXPORT_FILES[f].second?.suffix ?? []))].join(' or ')}`,
    )
    .option(
      '--verbose',
      'also print the full justification, the evidence texts, LLM attempts and timings',
    )
    .option('--no-cache', 'retrain the meta-learner instead of using the cached one')
    .option(
      '--observed <file>',
      "results already run on this dataset, a CSV/JSONL file in `metallmix record`'s columns (dataset, model, config.NAME, metrics.NAME): the answer continues them, like the knowledge base's own runs of the dataset",
    )
    .option(
      '--no-continuation',
      "answer zero-shot even when the dataset already has results (the knowledge base's runs under its name, --observed)",
    )
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
  cmd.action(async (flags: RecommendFlags & LlmFlags, command: Command) => {
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
      ...(flags.observed ? { observed: flags.observed } : {}),
      continuation: flags.continuation,
      llm: { flags, configFile: flags.llmConfig },
      promptsDir: flags.promptsDir,
      embedder: embedderSetup(flags),
      env: io.env,
      progress: progressFor(io, !flags.json),
    });
    const exported = flags.export
      ? await exportRecommendation({
          recommendation: rec,
          format: flags.export,
          out: flags.out,
          kb: flags.kb,
          models: listFlag(flags.models),
          env: io.env,
        })
      : undefined;
    emit(io, rec, flags.json, (r) =>
      renderRecommendation(r, {
        width: terminalWidth(io),
        verbose: flags.verbose,
        nextStep: exported?.usage ?? exportCommand(command),
      }),
    );
    for (const f of exported?.files ?? []) say(io, `wrote ${f.path} (${f.what})`);
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
    'metallmix recommend --dataset ./my-images --modality xray --kb runs.sqlite --objective balanced --budget-minutes 30',
    'metallmix recommend --profile p.json --export optuna --out tune.py   # then: python3 tune.py sqlite:///study.db',
  ]);
}

// Flags that only shape this output or name this export, left out of the command suggested next.
const NOT_REPEATED = new Set(['--json', '--verbose', '--export', '--out']);

const shellWord = (w: string) =>
  /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`;

/** The same request again (the flags given on the command line), with an Optuna export. */
function exportCommand(command: Command): string {
  const words: string[] = [];
  for (const o of command.options) {
    const key = o.attributeName();
    if (!o.long || NOT_REPEATED.has(o.long) || command.getOptionValueSource(key) !== 'cli')
      continue;
    const value: unknown = command.getOptionValue(key);
    // A --kb URL's password is never printed: it shows as *** here, as everywhere else.
    if (typeof value === 'boolean') words.push(o.long);
    else
      words.push(o.long, shellWord(o.long === '--kb' ? maskLocator(String(value)) : String(value)));
  }
  return `metallmix recommend ${[...words, '--export', 'optuna', '--out', 'tune.py'].join(' ')}`;
}
