import type { EvidenceDocument } from './documents.ts';
import type { Embedder } from './embedder.ts';
import { FlatIndex } from './flat-index.ts';
import type { IndexEntryMeta, SearchableIndex } from './vector-index.ts';

export interface OpenedIndex {
  index: SearchableIndex;
  /** The documents in index order (read back from the file when it was fresh). */
  documents: EvidenceDocument[];
  rebuilt: boolean;
  /** Why the index was rebuilt, or why the rebuilt index could not be saved. */
  notices: string[];
}

/** Embeds every document and adds it to a new exact index. */
export async function buildIndex(
  documents: readonly EvidenceDocument[],
  embedder: Embedder,
): Promise<FlatIndex> {
  const vectors = await embedder.embed(
    documents.map((d) => d.text),
    documents.map((d) => d.meta),
  );
  const index = new FlatIndex(embedder.dim, documents.length);
  index.add(
    documents.map((d) => d.id),
    vectors,
    documents.map(entryMeta),
  );
  return index;
}

export function entryMeta(d: EvidenceDocument): IndexEntryMeta {
  const m: IndexEntryMeta = { kind: d.kind };
  if (d.dataset !== undefined) m.dataset = d.dataset;
  if (d.meta.task !== undefined) m.task = d.meta.task;
  if (d.meta.modality !== undefined) m.modality = d.meta.modality;
  if (d.model !== undefined) m.model = d.model;
  return m;
}
