import { Option, type Command } from 'commander';
import {
  MODALITIES,
  MetallmixError,
  TASKS,
  profileDataset,
  saveProfile,
  type Modality,
  type ProfileResult,
  type Task,
} from '../../index.ts';
import type { CliIo } from '../io.ts';
import { emit, jsonOption, say, table, withExamples } from '../output.ts';
import { progressFor } from '../progress.ts';
import { maxOf } from '../../core/arrays.ts';

const MAX_LISTED_SKIPS = 20;

interface ProfileFlags {
  manifest?: string;
  split?: string;
  modality?: Modality;
  name?: string;
  task?: Task;
  output?: string;
  save?: boolean;
  kb?: string;
  quiet?: boolean;
  json?: boolean;
}

export function registerProfile(program: Command, io: CliIo): void {
  const cmd = program
    .command('profile')
    .description(
      'Profile an image classification dataset (image headers only, no decoding): class balance, resolution, channels, formats, modality',
    )
    .argument('[dir]', 'ImageFolder root: one sub-folder of images per class')
    .option('--manifest <file>', 'CSV with a header row path,label[,split]; paths relative to it')
    .option('--split <name>', 'with --manifest: profile only the rows of this split')
    .addOption(
      new Option(
        '--modality <modality>',
        'imaging modality (default: from DICOM files, else unknown)',
      ).choices(MODALITIES),
    )
    .option('--name <name>', 'dataset name (default: folder or manifest name)')
    .addOption(
      new Option('--task <task>', 'default: binary for 2 classes, multiclass otherwise').choices(
        TASKS,
      ),
    )
    .option('--output <file>', 'also write the DatasetProfile as JSON to this file')
    .option(
      '--save',
      'also store the profile in your knowledge base, so runs of this dataset you import later need no profiles file',
    )
    .option(
      '--kb <path>',
      'with --save: knowledge base to write (default: $METALLMIX_KB, else your own)',
    )
    .option('--quiet', 'no progress output')
    .addOption(jsonOption())
    .action(async (dir: string | undefined, flags: ProfileFlags) => {
      if (flags.kb !== undefined && !flags.save)
        throw new MetallmixError('--kb names where --save stores the profile: add --save', {
          location: { field: 'kb' },
        });
      const result = await profileDataset({
        imageFolder: dir,
        manifest: flags.manifest,
        split: flags.split,
        modality: flags.modality,
        name: flags.name,
        task: flags.task,
        output: flags.output,
        progress: progressFor(io, !flags.quiet && !flags.json),
      });
      if (!flags.save) return emit(io, result, flags.json, render);
      const saved = await saveProfile(result.profile, { kb: flags.kb, env: io.env });
      if (saved.defaultedKnowledgeBase && !flags.json)
        say(io, `no --kb or METALLMIX_KB given; stored the profile in ${saved.knowledgeBase}`);
      emit(io, { ...result, saved }, flags.json, (r) =>
        [
          render(r),
          '',
          `profile ${r.profile.name} ${saved.profile} in ${saved.knowledgeBase}`,
        ].join('\n'),
      );
    });
  withExamples(cmd, [
    'metallmix profile data/chest_xray/train',
    'metallmix profile --manifest data/isic/labels.csv --split train --modality dermoscopy --json',
    'metallmix profile scans/ --name my-ct --output my-ct.profile.json --save',
  ]);
}

function render({ profile: p, skipped, counts, notices }: ProfileResult): string {
  const fixed = (x: number | undefined, digits = 2): string =>
    x === undefined ? '-' : x.toFixed(digits);
  const r = p.resolution;
  const facts: [string, string][] = [
    ['dataset', p.name],
    ['task', p.task],
    ['modality', p.modality],
    ['images', `${p.numInstances} (${counts.skipped} of ${counts.files} files skipped)`],
    ['classes', String(p.numClasses)],
    ['imbalance ratio', fixed(p.imbalanceRatio)],
    [
      'class entropy',
      `${fixed(p.classEntropy, 3)} bits (normalized ${fixed(p.normalizedEntropy, 3)})`,
    ],
    [
      'class size',
      `mean ${fixed(p.classSizeMean, 1)}, std ${fixed(p.classSizeStd, 1)}, min ${p.classSizeMin}, max ${p.classSizeMax}`,
    ],
    [
      'resolution',
      r
        ? `median ${r.medianWidth}x${r.medianHeight}, min ${r.minWidth}x${r.minHeight}, max ${r.maxWidth}x${r.maxHeight}`
        : '-',
    ],
    ['channels', String(p.channels ?? '-')],
    [
      'formats',
      Object.entries(p.fileFormats ?? {})
        .map(([f, n]) => `${f} ${n}`)
        .join(', '),
    ],
  ];
  const width = maxOf(facts.map(([k]) => k.length));
  const lines = facts.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  const classRows = Object.entries(p.classCounts ?? {}).map(([c, n]) => [
    c,
    n,
    `${((100 * n) / p.numInstances).toFixed(1)}%`,
  ]);
  lines.push('', table(['class', 'images', 'share'], classRows));
  for (const n of notices) lines.push('', `Notice: ${n}`);
  if (skipped.length) {
    lines.push('', `skipped (${skipped.length}):`);
    for (const s of skipped.slice(0, MAX_LISTED_SKIPS)) {
      lines.push(`  ${s.file}${s.line !== undefined ? ` (line ${s.line})` : ''}: ${s.reason}`);
    }
    if (skipped.length > MAX_LISTED_SKIPS) {
      lines.push(`  ... and ${skipped.length - MAX_LISTED_SKIPS} more (--json lists all)`);
    }
  }
  return lines.join('\n');
}
