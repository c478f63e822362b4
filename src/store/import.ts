// Import: read every file, convert its rows with the mapping, then write everything in one
// transaction. Nothing is written when any row is invalid (unless skipInvalid), so a failed
// import leaves the knowledge base exactly as it was.
import path from 'node:path';
import { MetallmixError, silentProgress, type Env, type Progress } from '../core/index.ts';
import { convertTable } from './convert.ts';
import { recordId } from './fingerprint.ts';
import type { KnowledgeBase, UpsertCounts } from './knowledge-base.ts';
import type { LoadedMapping, SourceFormat } from './mapping.ts';
import { lookupModelCard, type CatalogLibrary, type MatchKind } from './model-catalog.ts';
import { detectFormat, readSources } from './sources.ts';
import type { RowProblem } from './source-table.ts';

export interface ImportOptions {
  /** Overrides the mapping's `format` and the guess from the file extension. */
  format?: SourceFormat;
  /** Optuna study name; overrides the mapping's `study`. */
  study?: string;
  /** Import the valid rows and report the invalid ones instead of failing. */
  skipInvalid?: boolean;
  /** Ticks once per file read; give it a total of files.length. */
  progress?: Progress;
  /** provenance.source for the records instead of the absolute file path. */
  sourceLabel?: string;
  /** The environment remote sources read credentials from (MLFLOW_TRACKING_TOKEN, ...). */
  env?: Env;
}

/** What became of the rows read, per file and in total. */
interface RowCounts {
  rows: number;
  added: number;
  duplicates: number;
  filtered: number;
}

export interface FileReport extends RowCounts {
  file: string;
  format: SourceFormat;
  skipped: number;
}

export interface ImportReport extends RowCounts {
  knowledgeBase: string;
  mapping: string;
  files: FileReport[];
  skipped: RowProblem[];
  profiles: UpsertCounts;
  models: UpsertCounts;
  /** Datasets and models of the imported records that have no profile / model card anywhere. */
  datasetsWithoutProfile: string[];
  modelsWithoutCard: string[];
  /**
   * Models of the imported records without a card in the knowledge base whose card comes from
   * the shipped catalog when recommending (data/model-catalog; never written into the knowledge
   * base, never over a card it has).
   */
  modelsFromCatalog: CatalogUse[];
  version: string;
}

export interface CatalogUse {
  model: string;
  /** The catalog card's id. */
  card: string;
  library: CatalogLibrary;
  matchedBy: MatchKind;
  source: string;
  note?: string;
}

/** `file:line column "x": reason`, as the CLI lists skipped rows. */
export function describeProblem(p: RowProblem): string {
  return `${p.file}:${p.line}${p.column ? ` column "${p.column}"` : ''}: ${p.reason}`;
}

export async function importFiles(
  kb: KnowledgeBase,
  files: string[],
  loaded: LoadedMapping,
  options: ImportOptions = {},
): Promise<ImportReport> {
  const progress = options.progress ?? silentProgress;
  const conversions = [];
  for (const [i, file] of files.entries()) {
    const format = options.format ?? loaded.mapping.format ?? detectFormat(file);
    const tables = await readSources(file, format, {
      study: options.study ?? loaded.mapping.study,
      mapping: loaded.mapping,
      env: options.env,
    });
    // A storage with several studies (experiments) is one file of the report.
    const parts = tables.map((table) => {
      if (options.sourceLabel) table.label = options.sourceLabel;
      return { rows: table.rows.length + table.problems.length, ...convertTable(table, loaded) };
    });
    conversions.push({
      file,
      format,
      rows: parts.reduce((n, p) => n + p.rows, 0),
      records: parts.flatMap((p) => p.records),
      filtered: parts.reduce((n, p) => n + p.filtered, 0),
      problems: parts.flatMap((p) => p.problems),
      hyperparameters: parts.flatMap((p) => p.hyperparameters),
    });
    progress.tick(i + 1, path.basename(file));
  }
  const total = conversions.reduce((n, c) => n + c.rows, 0);
  const problems = conversions.flatMap((c) => c.problems);
  if (problems.length && !options.skipInvalid) {
    const first = problems[0];
    const more = problems.length - 1;
    throw new MetallmixError(
      `${first.reason}${more ? ` (and ${more} more invalid row${more > 1 ? 's' : ''})` : ''}; nothing was imported. Fix the rows, or pass --skip-invalid to import the rest.`,
      { location: { file: first.file, line: first.line, column: first.column } },
    );
  }
  const declared = new Map(
    conversions
      .flatMap((c) => c.hyperparameters)
      .map(({ name, type, log, condition, choices, description }) => [
        name,
        Object.fromEntries(
          Object.entries({ name, type, log, condition, choices, description }).filter(
            ([, v]) => v !== undefined,
          ),
        ) as { name: string; type: 'float' | 'int' | 'categorical' | 'bool' },
      ]),
  );
  const result = await kb.importBatch({
    records: conversions.flatMap((c) => c.records),
    profiles: loaded.profiles,
    models: loaded.models,
    hyperparameters: [...declared.values()],
    declaredIn: loaded.file,
  });
  progress.finish(`${result.addedIds.size} added`);

  const counted = new Set<string>();
  const fileReports: FileReport[] = conversions.map((c) => {
    let added = 0;
    for (const r of c.records) {
      const id = recordId(r);
      if (result.addedIds.has(id) && !counted.has(id)) {
        counted.add(id);
        added++;
      }
    }
    return {
      file: c.file,
      format: c.format,
      rows: c.rows,
      added,
      duplicates: c.records.length - added,
      filtered: c.filtered,
      skipped: c.problems.length,
    };
  });
  const after = await kb.snapshot();
  const profiled = new Set(after.profiles.map((p) => p.name));
  const carded = new Set(after.models.map((m) => m.id));
  const records = conversions.flatMap((c) => c.records);
  const uncarded = [...new Set(records.map((r) => r.model))].filter((m) => !carded.has(m)).sort();
  const fromCatalog: CatalogUse[] = uncarded.flatMap((model) => {
    const match = lookupModelCard(model);
    if (!match) return [];
    return [
      {
        model,
        card: match.card.id,
        library: match.library,
        matchedBy: match.matchedBy,
        source: match.card.source ?? '',
        ...(match.note ? { note: match.note } : {}),
      },
    ];
  });
  const sum = (k: keyof FileReport) => fileReports.reduce((n, f) => n + (f[k] as number), 0);
  return {
    knowledgeBase: kb.label,
    mapping: loaded.file,
    files: fileReports,
    rows: total,
    added: sum('added'),
    duplicates: sum('duplicates'),
    filtered: sum('filtered'),
    skipped: problems,
    profiles: result.profiles,
    models: result.models,
    datasetsWithoutProfile: [...new Set(records.map((r) => r.dataset))]
      .filter((d) => !profiled.has(d))
      .sort(),
    modelsWithoutCard: uncarded.filter((m) => !fromCatalog.some((c) => c.model === m)),
    modelsFromCatalog: fromCatalog,
    version: after.version,
  };
}
