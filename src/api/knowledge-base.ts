// Opening the knowledge base a request names (or the default one), and the read-only queries
// the faces show: statistics and records.
import type { Env } from '../core/index.ts';
import {
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
  /** A file path, `builtin`, a database URL; default METALLMIX_KB, else the built-in one. */
  kb?: string;
  env?: Env;
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
  return withKnowledgeBase(readLocator(input.kb, input.env), 'read', input.env, async (kb) => ({
    label: kb.label,
    backend: kb.backend,
    ...statsOf(await kb.snapshot()),
  }));
}

export function kbRecords(
  input: KbInput & { filter?: RecordFilter } = {},
): Promise<StoredRecord[]> {
  return withKnowledgeBase(readLocator(input.kb, input.env), 'read', input.env, (kb) =>
    kb.records(input.filter),
  );
}
