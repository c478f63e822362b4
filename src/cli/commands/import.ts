import { Option, type Command } from 'commander';
import { importRuns, type ImportResult } from '../../index.ts';
import { SOURCE_FORMATS, describeProblem, type SourceFormat } from '../../store/index.ts';
import type { CliIo } from '../io.ts';
import { emit, jsonOption, say, table, withExamples } from '../output.ts';
import { progressFor } from '../progress.ts';

interface ImportFlags {
  mapping: string;
  format?: SourceFormat;
  study?: string;
  kb?: string;
  skipInvalid?: boolean;
  redeclare?: boolean;
  quiet?: boolean;
  json?: boolean;
}

const MAX_LISTED_SKIPS = 50;

export function registerImport(program: Command, io: CliIo): void {
  const cmd = program
    .command('import')
    .description(
      'Import past fine-tuning runs into a knowledge base (CSV, JSONL, W&B run-table export, Optuna SQLite storage, MLflow file store or tracking server) through a JSON mapping file; transactional and idempotent',
    )
    .argument(
      '<file...>',
      'files, mlruns/ folders or MLflow tracking-server URLs to import (all in one transaction)',
    )
    .requiredOption('--mapping <file>', 'mapping file (see data/README.md)')
    .addOption(
      new Option(
        '--format <format>',
        'source format (default: the mapping, else the file extension)',
      ).choices(SOURCE_FORMATS),
    )
    .option('--study <name>', 'only this study of an Optuna storage (default: every study)')
    .option(
      '--kb <path>',
      'knowledge base file or postgresql:// URL (default: $METALLMIX_KB, else a per-user file)',
    )
    .option('--skip-invalid', 'import the valid rows and list every invalid one instead of failing')
    .option(
      '--redeclare',
      "replace stored hyperparameter declarations that differ from the mapping's (scale, condition, choices): an explicit migration that changes the knowledge base's version",
    )
    .option('--quiet', 'no progress output')
    .addOption(jsonOption())
    .action(async (files: string[], flags: ImportFlags) => {
      const report = await importRuns({
        files,
        mapping: flags.mapping,
        kb: flags.kb,
        format: flags.format,
        study: flags.study,
        skipInvalid: flags.skipInvalid,
        redeclare: flags.redeclare,
        env: io.env,
        progress: progressFor(io, !flags.quiet && !flags.json),
      });
      if (report.defaultedKnowledgeBase)
        say(
          io,
          `no --kb or METALLMIX_KB given; imported into ${report.knowledgeBase} (read it back with --kb ${report.knowledgeBase} or METALLMIX_KB=${report.knowledgeBase})`,
        );
      emit(io, report, flags.json, render);
    });
  withExamples(cmd, [
    'metallmix import ../shared/metadata/medmnist-finetune-strategies/all_datasets_summary.csv --mapping data/medmnist/mapping.json --kb runs.sqlite',
    'metallmix import optuna.db --format optuna --study resnet-search --mapping my-optuna-mapping.json --kb runs.sqlite --json',
    'metallmix import ./mlruns --mapping mlflow-mapping.json --kb postgresql://ann@db.lab:5432/runs',
  ]);
}

function render(r: ImportResult): string {
  const lines = [
    `knowledge base ${r.knowledgeBase} (version ${r.version})`,
    table(
      ['file', 'format', 'rows', 'added', 'duplicates', 'filtered', 'skipped'],
      r.files.map((f) => [f.file, f.format, f.rows, f.added, f.duplicates, f.filtered, f.skipped]),
    ),
    `profiles: ${r.profiles.added} added, ${r.profiles.updated} updated; model cards: ${r.models.added} added, ${r.models.updated} updated`,
  ];
  if (r.datasetsWithoutProfile.length)
    lines.push(`datasets without a profile: ${r.datasetsWithoutProfile.join(', ')}`);
  if (r.modelsFromCatalog.length) {
    lines.push(
      `model cards from the shipped catalog (the knowledge base has none for these models; \`metallmix models NAME\` shows a card):`,
    );
    for (const c of r.modelsFromCatalog)
      lines.push(
        `  ${c.model} -> ${c.card} (${c.library}${c.matchedBy === 'id' ? '' : `, matched by ${c.matchedBy}`})${c.note ? `; ${c.note}` : ''}`,
      );
  }
  if (r.modelsWithoutCard.length)
    lines.push(
      `models without a card (in the knowledge base or the catalog): ${r.modelsWithoutCard.join(', ')}`,
    );
  if (r.skipped.length) {
    lines.push(`skipped ${r.skipped.length} invalid row(s):`);
    for (const p of r.skipped.slice(0, MAX_LISTED_SKIPS)) lines.push(`  ${describeProblem(p)}`);
    if (r.skipped.length > MAX_LISTED_SKIPS)
      lines.push(`  ... and ${r.skipped.length - MAX_LISTED_SKIPS} more (--json lists all)`);
  }
  return lines.join('\n');
}
