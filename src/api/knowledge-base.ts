// Opening the knowledge base a request names (or the default one), and the read-only queries
// the faces show: statistics and records.
import type { Env, SearchSpace } from '../core/index.ts';
import { viewOf } from '../recommend/kb-view.ts';
import {
  LayeredKnowledgeBase,
  openKnowledgeBase,
  readLocator,
  statsOf,
  type KbMode,
  type KbStats,
  type KnowledgeBase,
  type RecordFilter,
  type StoredRecord,
} from '../store/index.ts';

export interface KbInput {
  /**
   * A file path, `builtin`, a database URL; default METALLMIX_KB, else the user's own knowledge
   * base read together with the built-in one.
   */
  kb?: string;
  /** false: without kb, the user's own knowledge base alone. */
  builtin?: boolean;
  env?: Env;
}

/**
 * One line saying that the user's runs are read together with the built-in ones, for the
 * answers of a layered knowledge base.
 */
export function layerNotices(kb: KnowledgeBase): string[] {
  if (!(kb instanceof LayeredKnowledgeBase)) return [];
  const [own, ...below] = kb.layers;
  return [
    `Read your knowledge base ${own!.label} together with ${below.map((l) => l.label).join(', ')}; --no-builtin leaves the built-in runs out.`,
  ];
}

/** Runs `fn` on an open knowledge base and closes it, whatever happens. */
export async function withKnowledgeBase<T>(
  locator: string,
  mode: KbMode,
  env: Env | undefined,
  fn: (kb: KnowledgeBase) => Promise<T>,
): Promise<T> {
  const kb = await openKnowledgeBase(locator, { mode, env });
  try {
    return await fn(kb);
  } finally {
    await kb.close();
  }
}

export type KbStatsResult = KbStats & { label: string; backend: string };

export function kbStats(input: KbInput = {}): Promise<KbStatsResult> {
  return withKnowledgeBase(
    readLocator(input.kb, input.env, input),
    'read',
    input.env,
    async (kb) => ({
      label: kb.label,
      backend: kb.backend,
      ...statsOf(await kb.snapshot()),
    }),
  );
}

export function kbRecords(
  input: KbInput & { filter?: RecordFilter } = {},
): Promise<StoredRecord[]> {
  return withKnowledgeBase(readLocator(input.kb, input.env, input), 'read', input.env, (kb) =>
    kb.records(input.filter),
  );
}

export interface KbOverview extends KbStatsResult {
  perModel: { model: string; records: number; datasets: number }[];
  /** Records per dataset and model, the pairs that have any. */
  counts: { dataset: string; model: string; records: number }[];
  /** The search space with the ranges and choices observed in the records. */
  space: SearchSpace;
  /** Metrics of finished runs, with how many runs record each. */
  metrics: { name: string; runs: number }[];
}

/** What a person browsing a knowledge base sees: the statistics, counts per model, the search space. */
export function kbOverview(input: KbInput = {}): Promise<KbOverview> {
  return withKnowledgeBase(readLocator(input.kb, input.env), 'read', input.env, async (kb) => {
    const snapshot = await kb.snapshot();
    const pairs = new Map<string, { dataset: string; model: string; records: number }>();
    for (const r of snapshot.records) {
      const key = JSON.stringify([r.dataset, r.model]);
      const pair = pairs.get(key) ?? { dataset: r.dataset, model: r.model, records: 0 };
      pair.records++;
      pairs.set(key, pair);
    }
    const counts = [...pairs.values()].sort(
      (a, b) => a.dataset.localeCompare(b.dataset) || a.model.localeCompare(b.model),
    );
    const perModel = new Map<string, { model: string; records: number; datasets: number }>();
    for (const c of counts) {
      const m = perModel.get(c.model) ?? { model: c.model, records: 0, datasets: 0 };
      m.records += c.records;
      m.datasets++;
      perModel.set(c.model, m);
    }
    const view = viewOf(snapshot, kb.label);
    return {
      label: kb.label,
      backend: kb.backend,
      ...statsOf(snapshot),
      perModel: [...perModel.values()].sort((a, b) => a.model.localeCompare(b.model)),
      counts,
      space: view.space,
      // Metrics of finished runs, most recorded first.
      metrics: Object.entries(view.summary.metrics)
        .map(([name, m]) => ({ name, runs: m.runs }))
        .sort((a, b) => b.runs - a.runs || a.name.localeCompare(b.name)),
    };
  });
}
