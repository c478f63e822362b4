import type { EvidenceDocument } from './documents.ts';
import type { Embedder } from './embedder.ts';
import { FlatIndex, loadIndex } from './flat-index.ts';
import type { IndexEntryMeta, VectorIndex } from './vector-index.ts';

/** Bumped when the cache layout or the way documents are written changes, so old files rebuild. */
const CACHE_FORMAT = 1;

export interface OpenedIndex {
  index: VectorIndex;
  /** The documents in index order (read back from the file when it was fresh). */
  documents: EvidenceDocument[];
  rebuilt: boolean;
  /** Why the index was rebuilt, or why the rebuilt index could not be saved. */
  notices: string[];
}

/** Where the index of a knowledge base file lives: beside it, so they travel together. */
export function indexPathFor(knowledgeBasePath: string): string {
  return `${knowledgeBasePath}.vectors`;
}

/**
 * Loads the persisted index when it was built from the same knowledge-base version with the
 * same embedder; otherwise builds it from `documents()` (called only then) and saves it
 * atomically. A missing, corrupt or stale file is rebuilt, never an error; a failed save leaves
 * a notice and a working in-memory index.
 */
export async function openOrBuildIndex(input: {
  cachePath?: string;
  kbVersion: string;
  embedder: Embedder;
  documents: () => EvidenceDocument[];
  /** What else the documents depend on (metric, document options); a change rebuilds. */
  recipe?: string;
}): Promise<OpenedIndex> {
  const { cachePath, kbVersion, embedder } = input;
  const recipe = input.recipe ?? '';
  const notices: string[] = [];
  if (cachePath) {
    const loaded = tryLoad(cachePath, { kbVersion, embedderId: embedder.id, recipe });
    if ('index' in loaded) return { ...loaded, rebuilt: false, notices };
    notices.push(`rebuilding vector index ${cachePath}: ${loaded.stale}`);
  }
  const documents = input.documents();
  const index = await buildIndex(documents, embedder);
  if (cachePath) {
    try {
      index.save(cachePath, {
        format: CACHE_FORMAT,
        kbVersion,
        embedderId: embedder.id,
        recipe,
        documents,
      });
    } catch (err) {
      notices.push(
        `could not save vector index ${cachePath} (${(err as Error).message}); it is rebuilt on every run`,
      );
    }
  }
  return { index, documents, rebuilt: true, notices };
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

function tryLoad(
  path: string,
  { kbVersion, embedderId, recipe }: { kbVersion: string; embedderId: string; recipe: string },
): { index: VectorIndex; documents: EvidenceDocument[] } | { stale: string } {
  let loaded: ReturnType<typeof loadIndex>;
  try {
    loaded = loadIndex(path);
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    return { stale: code === 'ENOENT' ? 'no index file yet' : (err as Error).message };
  }
  const { index, header } = loaded;
  if (header.format !== CACHE_FORMAT)
    return { stale: `file format ${String(header.format)}, expected ${CACHE_FORMAT}` };
  if (header.kbVersion !== kbVersion)
    return {
      stale: `built for knowledge base version ${String(header.kbVersion)}, now ${kbVersion}`,
    };
  if (header.recipe !== recipe)
    return { stale: `documents built for ${String(header.recipe)}, now ${recipe}` };
  if (header.embedderId !== embedderId)
    return { stale: `built with embedder ${String(header.embedderId)}, now ${embedderId}` };
  const documents = header.documents;
  if (
    !Array.isArray(documents) ||
    documents.length !== index.size ||
    documents.some(
      (d, i) =>
        typeof d?.id !== 'string' ||
        typeof d.text !== 'string' ||
        (Array.isArray(header.ids) && header.ids[i] !== d.id),
    )
  )
    return { stale: `its documents do not match its ${index.size} vectors` };
  return { index, documents: documents as EvidenceDocument[] };
}
