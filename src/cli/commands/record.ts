import { Option, type Command } from 'commander';
import {
  MetallmixError,
  MODALITIES,
  RunStatus,
  recordRuns,
  type Modality,
  type RecordResult,
} from '../../index.ts';
import type { CliIo } from '../io.ts';
import { NO_BUILTIN_HELP } from '../kb-flags.ts';
import { emit, jsonOption, say, withExamples } from '../output.ts';

interface RecordFlags {
  datasetName?: string;
  dataset?: string;
  manifest?: string;
  profile?: string;
  modality?: Modality;
  model?: string;
  param: string[];
  metric: string[];
  trainingTime?: string;
  epochs?: string;
  seed?: string;
  runId?: string;
  status?: string;
  kb?: string;
  builtin: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** NAME=VALUE pairs; the value's type is decided by the knowledge base's declaration later. */
function pairs(list: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0)
      throw new MetallmixError(`${flag} "${item}": expected NAME=VALUE`, {
        location: { field: flag },
      });
    out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return out;
}

function render(r: RecordResult): string {
  const lines = [
    `knowledge base ${r.knowledgeBase} (version ${r.version}): ${r.added} record(s) added, ${r.duplicates} already there`,
    `ids: ${r.records.join(', ')}`,
  ];
  if (r.profiles.added || r.profiles.updated)
    lines.push(`profiles: ${r.profiles.added} added, ${r.profiles.updated} updated`);
  if (r.datasetsWithoutProfile.length)
    lines.push(
      `datasets without a profile (their runs inform no recommendation until one is stored; record again with --dataset DIR): ${r.datasetsWithoutProfile.join(', ')}`,
    );
  if (r.modelsWithoutCard.length)
    lines.push(`models without a card: ${r.modelsWithoutCard.join(', ')}`);
  return lines.join('\n');
}

export function registerRecord(program: Command, io: CliIo): void {
  const cmd = program
    .command('record')
    .description(
      'Record runs made outside metallmix (dataset, model, configuration, metrics, time) in the knowledge base, validated like an import: one run from flags, or a CSV/JSONL file of runs',
    )
    .argument(
      '[file]',
      'CSV or JSONL of runs: dataset, model, config.NAME, metrics.NAME, training_time_sec, epochs, seed, run_id, status',
    )
    .option('--dataset-name <name>', 'the dataset the run trained on')
    .option(
      '--dataset <dir>',
      "the dataset's image folder: its profile is stored with the run (name: --dataset-name, else the folder's)",
    )
    .option('--manifest <file>', "the dataset's CSV manifest (profile stored with the run)")
    .option('--profile <file>', "the dataset's profile JSON (stored with the run)")
    .addOption(
      new Option('--modality <modality>', 'imaging modality of the profile').choices(MODALITIES),
    )
    .option('--model <id>', 'the model')
    .option('--param <NAME=VALUE>', 'a hyperparameter (repeatable)', collect, [])
    .option(
      '--metric <NAME=VALUE>',
      'a metric as a fraction, e.g. accuracy=0.91 (repeatable)',
      collect,
      [],
    )
    .option('--training-time <seconds>', 'training time in seconds')
    .option('--epochs <n>', 'epochs trained')
    .option('--seed <n>', 'seed of the run')
    .option('--run-id <id>', 'your id for the run (recording it again then adds nothing)')
    .addOption(
      new Option('--status <status>', 'how the run ended (default finished)').choices(
        RunStatus.options,
      ),
    )
    .option('--kb <path>', 'knowledge base to write (default: $METALLMIX_KB, else your own)')
    .option('--no-builtin', NO_BUILTIN_HELP)
    .addOption(jsonOption())
    .action(async (file: string | undefined, flags: RecordFlags) => {
      const sources = [flags.dataset, flags.manifest, flags.profile].filter((x) => x !== undefined);
      if (sources.length > 1)
        throw new MetallmixError('give at most one of --dataset, --manifest, --profile');
      const dataset = sources.length
        ? {
            ...(flags.dataset !== undefined ? { imageFolder: flags.dataset } : {}),
            ...(flags.manifest !== undefined ? { manifest: flags.manifest } : {}),
            ...(flags.profile !== undefined ? { profileFile: flags.profile } : {}),
            ...(flags.modality ? { modality: flags.modality } : {}),
          }
        : undefined;
      const flagged =
        flags.model !== undefined || flags.metric.length > 0 || flags.param.length > 0;
      if (file !== undefined && flagged)
        throw new MetallmixError('give a file of runs or one run by flags, not both');
      if (
        file === undefined &&
        ((flags.datasetName === undefined && !dataset) || flags.model === undefined)
      )
        throw new MetallmixError(
          'give --dataset-name (or --dataset DIR) and --model, or a file of runs',
          {
            location: { field: flags.model === undefined ? 'model' : 'dataset-name' },
          },
        );
      const result = await recordRuns({
        ...(file !== undefined
          ? { file }
          : {
              run: {
                ...(flags.datasetName !== undefined ? { dataset: flags.datasetName } : {}),
                model: flags.model!,
                config: pairs(flags.param, '--param'),
                metrics: pairs(flags.metric, '--metric'),
                ...(flags.trainingTime !== undefined
                  ? { trainingTimeSec: flags.trainingTime }
                  : {}),
                ...(flags.epochs !== undefined ? { epochs: flags.epochs } : {}),
                ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
                ...(flags.runId !== undefined ? { runId: flags.runId } : {}),
                ...(flags.status !== undefined ? { status: flags.status } : {}),
              },
            }),
        ...(dataset ? { dataset } : {}),
        kb: flags.kb,
        builtin: flags.builtin,
        env: io.env,
      });
      if (result.defaultedKnowledgeBase && !flags.json)
        say(io, `no --kb or METALLMIX_KB given; recorded in ${result.knowledgeBase}`);
      emit(io, result, flags.json, render);
    });
  withExamples(cmd, [
    'metallmix record --dataset ./my-images --model resnet50 --param lr=0.001 --param batch_size=64 --metric accuracy=0.912 --training-time 812',
    'metallmix record --dataset-name my-images --model vit_small --param strategy=full --metric accuracy=0.93 --status finished',
    'metallmix record runs.jsonl   # {"dataset": "...", "model": "...", "config": {...}, "metrics": {...}, "training_time_sec": 812}',
  ]);
}
