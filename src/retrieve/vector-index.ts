import type { Modality, Task } from '../core/index.ts';
import type { EvidenceKind } from './documents.ts';

/** What an index keeps beside each vector, so that searches can be filtered. */
export interface IndexEntryMeta {
  kind: EvidenceKind;
  dataset?: string;
  task?: Task;
  modality?: Modality;
  /** For runs: the model trained, so evidence can be gathered per candidate model. */
  model?: string;
}

/**
 * Restricts a search. A field matches when the entry's value is one of those given; an entry
 * without the field (an insight has no task or modality) does not match a filter on it.
 */
export interface SearchFilter {
  kind?: EvidenceKind | readonly EvidenceKind[];
  task?: Task | readonly Task[];
  modality?: Modality | readonly Modality[];
  dataset?: string | readonly string[];
  model?: string | readonly string[];
  /** Leave these datasets out, e.g. the held-out dataset of a leave-one-dataset-out run. */
  excludeDatasets?: readonly string[];
}

export interface SearchHit {
  id: string;
  /** Inner product with the query: cosine similarity when both vectors are unit length. */
  score: number;
}

/**
 * What retrieval searches: an index in memory answers at once, one kept in a database
 * (database-index.ts) answers with a promise; callers await either.
 */
export interface SearchableIndex {
  readonly type: string;
  readonly dim: number;
  readonly size: number;
  /** The k best entries that pass `filter`, highest score first (ties: earlier added first). */
  search(query: Float32Array, k: number, filter?: SearchFilter): SearchHit[] | Promise<SearchHit[]>;
}

/**
 * A searchable set of vectors built in memory and saved to a file. The exact FlatIndex is the
 * reference; an approximate index (HNSW, IVF) for very large knowledge bases implements the same
 * methods, writes its own `type` into the file header and registers a loader in `loadIndex`, and
 * nothing above it changes. An approximate index may miss a true neighbour, never return a
 * wrong score.
 */
export interface VectorIndex extends SearchableIndex {
  /** Written to the file header; `loadIndex` dispatches on it. */
  readonly type: string;
  add(
    ids: readonly string[],
    vectors: readonly Float32Array[],
    meta: readonly IndexEntryMeta[],
  ): void;
  /** The k best entries that pass `filter`, highest score first (ties: earlier added first). */
  search(query: Float32Array, k: number, filter?: SearchFilter): SearchHit[];
  /** Writes the index atomically; `extra` goes into the header (versions, payloads). */
  save(path: string, extra?: Record<string, unknown>): void;
}

/** Compiles a filter into a test on entry metadata (undefined: everything passes). */
export function entryMatcher(
  filter: SearchFilter | undefined,
): ((m: IndexEntryMeta) => boolean) | undefined {
  if (!filter) return undefined;
  const sets: [keyof IndexEntryMeta, Set<string>][] = [];
  for (const field of ['kind', 'task', 'modality', 'dataset', 'model'] as const) {
    const wanted = filter[field];
    if (wanted !== undefined)
      sets.push([field, new Set(typeof wanted === 'string' ? [wanted] : wanted)]);
  }
  const excluded = new Set(filter.excludeDatasets ?? []);
  if (sets.length === 0 && excluded.size === 0) return undefined;
  return (m) => {
    for (const [field, allowed] of sets) {
      const v = m[field];
      if (v === undefined || !allowed.has(v)) return false;
    }
    return m.dataset === undefined || !excluded.has(m.dataset);
  };
}
