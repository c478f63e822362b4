// Import: read every file as a stream of rows, convert them with the mapping and write them in
// batches, all in one transaction (the backend's importStream; otherwise one importBatch of
// everything). Nothing is written when any row is invalid (unless skipInvalid), so a failed
// import leaves the knowledge base exactly as it was. Memory stays bounded by the batch size.
import { statSync } from 'node:fs';
import path from 'node:path';
import {
  MetallmixError,
  type Env,
  type ExperimentRecord,
  type ProgressFactory,
} from '../core/index.ts';
import { Converter, unmatchedReconcile } from './convert.ts';
import { mergeDeclarations, toDeclared } from './declarations.ts';
import { recordId } from './fingerprint.ts';
import type {
  DeclaredHyperparameter,
  ImportBatch,
  KnowledgeBase,
  StreamResult,
  UpsertCounts,
} from './knowledge-base.ts';
import type { LoadedMapping, SourceFormat } from './mapping.ts';
import { lookupModelCard, type CatalogLibrary, type MatchKind } from './model-catalog.ts';
import { detectFormat, readSources } from './sources.ts';
import { maskLocator } from './postgres/locator.ts';
import type { RowProblem, SourceRow, SourceTable } from './source-table.ts';
import { withThousands } from '../core/numbers.ts';

/** Records written per batch: large enough to amortise a statement, small enough to stay light. */
export const IMPORT_BATCH_RECORDS = 5000;
/** Invalid rows kept for the report; the counts cover them all. */
export const MAX_LISTED_PROBLEMS = 10_000;

export interface ImportOptions {
  /** Overrides the mapping's `format` and the guess from the file extension. */
  format?: SourceFormat;
  /** Optuna study name; overrides the mapping's `study`. */
  study?: string;
  /** Import the valid rows and report the invalid ones instead of failing. */
  skipInvalid?: boolean;
  /** Replace stored declarations that differ from the mapping's (an explicit migration). */
  redeclare?: boolean;
  /** Progress while the files are read, in MB of the files' total size. */
  progress?: ProgressFactory;
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
  /** Invalid rows (the first MAX_LISTED_PROBLEMS; `files[].skipped` counts them all). */
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

interface FileState {
  report: FileReport;
  /** Records converted in this file (before duplicates are known). */
  converted: number;
  /** Batches of this file, by index into the stream's batches. */
  batches: number[];
}

async function* rowsOf(table: SourceTable): AsyncGenerator<SourceRow> {
  if (table.streamed) yield* table.streamed;
  else yield* table.rows;
}

export async function importFiles(
  kb: KnowledgeBase,
  files: string[],
  loaded: LoadedMapping,
  options: ImportOptions = {},
): Promise<ImportReport> {
  const states: FileState[] = [];
  const problems: RowProblem[] = [];
  let problemCount = 0;
  const datasets = new Set<string>();
  const models = new Set<string>();
  const progress = options.progress?.(
    'import (MB)',
    Math.max(1, Math.round(files.reduce((n, f) => n + sizeOf(f), 0) / 1e6)),
  );
  let mbBefore = 0;
  let batchIndex = 0;
  // Declarations of every file so far, so two files of one import cannot disagree either.
  let declared: DeclaredHyperparameter[] = [];

  async function* batches(): AsyncGenerator<ImportBatch> {
    // The mapping's profiles, cards and declarations go first, so a conflict with the stored
    // ones fails before a single row is read.
    const first: ImportBatch = {
      records: [],
      profiles: loaded.profiles,
      models: loaded.models,
      declaredIn: loaded.file,
      redeclare: options.redeclare,
    };
    let pendingFirst: ImportBatch | undefined = first;
    for (const file of files) {
      const format = options.format ?? loaded.mapping.format ?? detectFormat(file);
      const tables = await readSources(file, format, {
        study: options.study ?? loaded.mapping.study,
        mapping: loaded.mapping,
        env: options.env,
      });
      // A storage with several studies (experiments) is one file of the report.
      const state: FileState = {
        report: {
          // A password in a PostgreSQL or MLflow URL is never shown.
          file: maskLocator(file),
          format,
          rows: 0,
          added: 0,
          duplicates: 0,
          filtered: 0,
          skipped: 0,
        },
        converted: 0,
        batches: [],
      };
      states.push(state);
      if (options.sourceLabel) for (const table of tables) table.label = options.sourceLabel;
      // Every table's declarations are checked before a row is read. A `reconcile` rule may miss
      // a study of a storage, but not every table of the file.
      const converters = tables.map((table) => new Converter(table, loaded));
      for (const name of Object.keys(loaded.mapping.reconcile ?? {}))
        if (!converters.some((c) => c.reconciledNames.has(name)))
          throw unmatchedReconcile(name, loaded.file);
      for (const [t, table] of tables.entries()) {
        const converter = converters[t];
        const own = converter.hyperparameters.map(toDeclared);
        const fromFile = loaded.mapping.hyperparameters ? loaded.file : table.file;
        const merged = mergeDeclarations(declared, own, {
          declaredIn: fromFile,
          field: (i, key) => `hyperparameters.${i}.${key}`,
        });
        declared = [...declared.filter((d) => !merged.some((m) => m.name === d.name)), ...merged];
        const decl: ImportBatch = {
          records: [],
          hyperparameters: own,
          declaredIn: fromFile,
          redeclare: options.redeclare,
        };
        if (pendingFirst) {
          yield { ...pendingFirst, hyperparameters: own, declaredIn: fromFile };
          pendingFirst = undefined;
        } else yield decl;
        batchIndex++;
        for (const p of table.problems) addProblem(state, p);
        let records: ExperimentRecord[] = [];
        const flush = function* () {
          state.batches.push(batchIndex++);
          yield { records } as ImportBatch;
          records = [];
        };
        for await (const row of rowsOf(table)) {
          state.report.rows++;
          const out = converter.convert(row);
          if ('filtered' in out) state.report.filtered++;
          else if ('problem' in out) addProblem(state, out.problem);
          // Once the import is bound to fail, rows are still checked (to count them) but not written.
          else if (options.skipInvalid || problemCount === 0) {
            records.push(out.record);
            datasets.add(out.record.dataset);
            models.add(out.record.model);
            state.converted++;
            if (records.length >= IMPORT_BATCH_RECORDS) yield* flush();
          }
          if (state.report.rows % 10_000 === 0) tick(table, file);
        }
        // A source whose rows are all invalid has its rows reported, not its columns questioned.
        if (!problemCount || options.skipInvalid) converter.finish();
        if (records.length) yield* flush();
        tick(table, file);
      }
      mbBefore += sizeOf(file) / 1e6;
    }
    if (pendingFirst) yield pendingFirst;
    if (problemCount && !options.skipInvalid) {
      const first = problems[0];
      const more = problemCount - 1;
      throw new MetallmixError(
        `${first.reason}${more ? ` (and ${more} more invalid row${more > 1 ? 's' : ''})` : ''}; nothing was imported. Fix the rows, or pass --skip-invalid to import the rest.`,
        { location: { file: first.file, line: first.line, column: first.column } },
      );
    }
  }

  function addProblem(state: FileState, p: RowProblem): void {
    state.report.skipped++;
    problemCount++;
    if (problems.length < MAX_LISTED_PROBLEMS) problems.push(p);
  }

  function tick(table: SourceTable, file: string): void {
    const read = table.bytes?.().read ?? sizeOf(file);
    const rows = states.reduce((n, s) => n + s.report.rows, 0);
    progress?.tick(
      Math.floor(mbBefore + read / 1e6),
      `${withThousands(rows)} rows, ${path.basename(file)}`,
    );
  }

  const result = kb.importStream
    ? await kb.importStream(batches())
    : await importAllAtOnce(kb, batches());
  progress?.finish(`${withThousands(result.addedPerBatch.reduce((a, b) => a + b, 0))} added`);

  for (const s of states) {
    s.report.added = s.batches.reduce((n, b) => n + (result.addedPerBatch[b] ?? 0), 0);
    s.report.duplicates = s.converted - s.report.added;
  }
  // Records are not read back: at millions of runs that alone would not fit in memory.
  const after = await kb.snapshot({ maxRecords: 0 });
  const profiled = new Set(after.profiles.map((p) => p.name));
  const carded = new Set(after.models.map((m) => m.id));
  const fileReports = states.map((s) => s.report);
  const uncarded = [...models].filter((m) => !carded.has(m)).sort();
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
  const sum = (k: keyof RowCounts) => fileReports.reduce((n, f) => n + f[k], 0);
  return {
    knowledgeBase: kb.label,
    mapping: loaded.file,
    files: fileReports,
    rows: sum('rows'),
    added: sum('added'),
    duplicates: sum('duplicates'),
    filtered: sum('filtered'),
    skipped: problems,
    profiles: result.profiles,
    models: result.models,
    datasetsWithoutProfile: [...datasets].filter((d) => !profiled.has(d)).sort(),
    modelsWithoutCard: uncarded.filter((m) => !fromCatalog.some((c) => c.model === m)),
    modelsFromCatalog: fromCatalog,
    version: after.version,
  };
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** For a backend without importStream: every batch in one importBatch (memory grows with it). */
async function importAllAtOnce(
  kb: KnowledgeBase,
  batches: AsyncIterable<ImportBatch>,
): Promise<StreamResult> {
  const all: ImportBatch[] = [];
  for await (const b of batches) all.push(b);
  const merged: ImportBatch = {
    records: all.flatMap((b) => b.records),
    profiles: all.flatMap((b) => b.profiles ?? []),
    models: all.flatMap((b) => b.models ?? []),
    hyperparameters: mergeAll(all),
    declaredIn: all.find((b) => b.declaredIn)?.declaredIn,
    redeclare: all.some((b) => b.redeclare),
  };
  const result = await kb.importBatch(merged);
  const counted = new Set<string>();
  return {
    addedPerBatch: all.map((b) => {
      let n = 0;
      for (const r of b.records) {
        const id = recordId(r);
        if (result.addedIds.has(id) && !counted.has(id)) {
          counted.add(id);
          n++;
        }
      }
      return n;
    }),
    profiles: result.profiles,
    models: result.models,
  };
}

function mergeAll(batches: ImportBatch[]): DeclaredHyperparameter[] {
  const out = new Map<string, DeclaredHyperparameter>();
  for (const b of batches) for (const h of b.hyperparameters ?? []) out.set(h.name, h);
  return [...out.values()];
}
