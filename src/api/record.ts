// `record`: runs made outside metallmix, logged into the knowledge base with the validation of
// an import (src/run/logged.ts) and, when the dataset is given as a folder, manifest or
// profile, with its profile, so the records inform the next recommendation.
import type { DatasetProfile, Env } from '../core/index.ts';
import { MetallmixError } from '../core/index.ts';
import { loggedRecords, tableOfFile, tableOfRun, type LoggedRun } from '../run/index.ts';
import {
  readLocator,
  recordId,
  writeLocator,
  type DeclaredHyperparameter,
  type UpsertCounts,
} from '../store/index.ts';
import { resolveDataset, type DatasetInput } from './dataset.ts';
import { withKnowledgeBase } from './knowledge-base.ts';

export interface RecordInput {
  /** One run, as flags give it; without a dataset name, the profile's name (the folder's). */
  run?: Omit<LoggedRun, 'dataset'> & { dataset?: string };
  /** Or a CSV/JSONL file of runs (columns in src/run/logged.ts). */
  file?: string;
  /** The dataset's images, manifest or profile: its profile is stored with the records. */
  dataset?: DatasetInput;
  kb?: string;
  /** false: take declarations from the user's own knowledge base alone. */
  builtin?: boolean;
  env?: Env;
}

export interface RecordResult {
  knowledgeBase: string;
  defaultedKnowledgeBase: boolean;
  /** Ids of the records, in input order. */
  records: string[];
  added: number;
  duplicates: number;
  profiles: UpsertCounts;
  datasetsWithoutProfile: string[];
  modelsWithoutCard: string[];
  version: string;
}

export async function recordRuns(input: RecordInput): Promise<RecordResult> {
  if ((input.run === undefined) === (input.file === undefined))
    throw new MetallmixError(
      'give one run (--dataset-name/--model/--metric ...) or a file of runs',
      {
        location: { field: 'file' },
      },
    );
  const env = input.env;
  const { locator, defaulted } = writeLocator(input.kb, env);
  const readFrom = readLocator(input.kb, env, { builtin: input.builtin });
  // Types, choices and conditions of the hyperparameters as the knowledge base declares them.
  const known = await readKnown(readFrom, env);
  const resolved = input.dataset ? (await resolveDataset(input.dataset)).profile : undefined;
  let table;
  if (input.file !== undefined) table = await tableOfFile(input.file);
  else {
    const dataset = input.run!.dataset ?? resolved?.name;
    if (dataset === undefined)
      throw new MetallmixError('name the dataset of the run (or give its folder)', {
        location: { field: 'dataset' },
      });
    table = tableOfRun({ ...input.run!, dataset });
  }
  const { records, hyperparameters } = loggedRecords(table, known.declared);
  let profile: DatasetProfile | undefined;
  if (resolved) {
    const datasets = [...new Set(records.map((r) => r.dataset))];
    if (datasets.length !== 1)
      throw new MetallmixError(
        `a dataset profile belongs to one dataset, but the runs name ${datasets.length}: ${datasets.join(', ')}`,
        { location: { field: 'dataset' } },
      );
    profile = { ...resolved, name: datasets[0]! };
  }
  const declarations: DeclaredHyperparameter[] = hyperparameters.map((h) => ({
    name: h.name,
    type: h.type,
    ...(h.log ? { log: h.log } : {}),
    ...(h.condition ? { condition: h.condition } : {}),
    ...(h.choices ? { choices: h.choices } : {}),
  }));
  return withKnowledgeBase(locator, 'write', env, async (kb) => {
    const result = await kb.importBatch({
      records,
      ...(profile ? { profiles: [profile] } : {}),
      models: known.models.filter((m) => records.some((r) => r.model === m.id)),
      hyperparameters: declarations,
      declaredIn: input.file ?? 'metallmix record',
    });
    const after = await kb.snapshot();
    const profiled = new Set([...after.profiles.map((p) => p.name), ...known.profiles]);
    const carded = new Set(after.models.map((m) => m.id));
    const ids = records.map(recordId);
    return {
      knowledgeBase: kb.label,
      defaultedKnowledgeBase: defaulted,
      records: ids,
      added: result.addedIds.size,
      duplicates: new Set(ids).size - result.addedIds.size,
      profiles: result.profiles,
      datasetsWithoutProfile: [...new Set(records.map((r) => r.dataset))]
        .filter((d) => !profiled.has(d))
        .sort(),
      modelsWithoutCard: [...new Set(records.map((r) => r.model))]
        .filter((m) => !carded.has(m) && !known.models.some((c) => c.id === m))
        .sort(),
      version: after.version,
    };
  });
}

async function readKnown(locator: string, env: Env | undefined) {
  try {
    return await withKnowledgeBase(locator, 'read', env, async (kb) => {
      const s = await kb.snapshot();
      return {
        declared: s.hyperparameters,
        models: s.models,
        profiles: s.profiles.map((p) => p.name),
      };
    });
  } catch (err) {
    // Nothing recorded yet: no declarations to follow.
    if (err instanceof MetallmixError && /no knowledge base at this path/.test(err.message))
      return { declared: [], models: [], profiles: [] };
    throw err;
  }
}
