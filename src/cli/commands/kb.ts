import { Option, type Command } from 'commander';
import {
  RunStatus,
  kbRecords,
  kbStats,
  type KbStatsResult,
  type StoredRecord,
} from '../../index.ts';
import type { CliIo } from '../io.ts';
import { NO_BUILTIN_HELP, READ_KB_HELP } from '../kb-flags.ts';
import { emit, jsonOption, table, withExamples } from '../output.ts';
import { positiveInt } from '../parse-flags.ts';

interface KbFlags {
  kb?: string;
  builtin: boolean;
  json?: boolean;
}

interface RecordsFlags extends KbFlags {
  dataset?: string;
  model?: string;
  status?: RunStatus;
  limit: number;
}

const kbOption = () => new Option('--kb <path>', READ_KB_HELP);
const noBuiltinOption = () => new Option('--no-builtin', NO_BUILTIN_HELP);

export function registerKb(program: Command, io: CliIo): void {
  const kb = program.command('kb').description('Inspect a knowledge base of past fine-tuning runs');
  withExamples(kb, [
    'metallmix kb stats --kb runs.sqlite',
    'metallmix kb records --kb runs.sqlite --dataset dermamnist --status finished',
  ]);

  const stats = kb
    .command('stats')
    .description(
      'Counts of records, datasets, models, statuses and sources, and the content version',
    )
    .addOption(kbOption())
    .addOption(noBuiltinOption())
    .addOption(jsonOption())
    .action(async (flags: KbFlags) => {
      emit(
        io,
        await kbStats({ kb: flags.kb, builtin: flags.builtin, env: io.env }),
        flags.json,
        renderStats,
      );
    });
  withExamples(stats, ['metallmix kb stats', 'metallmix kb stats --kb runs.sqlite --json']);

  const records = kb
    .command('records')
    .description('List experiment records, optionally filtered by dataset, model and status')
    .addOption(kbOption())
    .addOption(noBuiltinOption())
    .option('--dataset <name>', 'only this dataset')
    .option('--model <id>', 'only this model')
    .addOption(new Option('--status <status>', 'only this status').choices(RunStatus.options))
    .option('--limit <n>', 'print at most n records (text output only)', positiveInt, 50)
    .addOption(jsonOption())
    .action(async (flags: RecordsFlags) => {
      const list = await kbRecords({
        kb: flags.kb,
        builtin: flags.builtin,
        env: io.env,
        filter: { dataset: flags.dataset, model: flags.model, status: flags.status },
      });
      emit(io, list, flags.json, (l) => renderRecords(l, flags.limit));
    });
  withExamples(records, [
    'metallmix kb records --dataset dermamnist --status finished',
    'metallmix kb records --kb runs.sqlite --model resnet18 --json',
  ]);
}

function renderStats(s: KbStatsResult): string {
  const counts = (o: Record<string, number>) =>
    Object.entries(o)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  return [
    `knowledge base ${s.label} (version ${s.version})`,
    `${s.records} records, ${s.datasets} datasets, ${s.models} models`,
    `status: ${counts(s.byStatus)}`,
    `sources: ${counts(s.bySource)}`,
    table(
      ['dataset', 'records', 'models'],
      s.perDataset.map((d) => [d.dataset, d.records, d.models]),
    ),
  ].join('\n');
}

function renderRecords(list: StoredRecord[], limit: number): string {
  const fmt = (v: number | undefined) => (v === undefined ? '' : v.toFixed(4));
  const rows = list.slice(0, limit).map((r) => [
    r.id,
    r.dataset,
    r.model,
    r.status,
    fmt(r.metrics.accuracy),
    r.cost.trainingTimeSec === undefined ? '' : r.cost.trainingTimeSec.toFixed(0),
    Object.entries(r.config)
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
  ]);
  const more =
    list.length > limit ? `\n... ${list.length - limit} more (--limit, or --json for all)` : '';
  return `${table(['id', 'dataset', 'model', 'status', 'accuracy', 'time s', 'config'], rows)}${more}`;
}
