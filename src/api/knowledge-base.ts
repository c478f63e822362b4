// Opening the knowledge base a request names (or the default one), and the read-only queries
// the faces show: statistics and records.
import type { Env } from '../core/index.ts';
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
