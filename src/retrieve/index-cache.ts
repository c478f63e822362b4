import type { VectorStore } from '../store/index.ts';
import { openOrBuildDatabaseIndex } from './database-index.ts';
import type { EvidenceDocument } from './documents.ts';
import type { Embedder } from './embedder.ts';
import { buildIndex, type OpenedIndex } from './build-index.ts';
import { loadIndex } from './flat-index.ts';
import type { VectorIndex } from './vector-index.ts';

/** Bumped when the cache layout or the way documents are written changes, so old files rebuild. */
const CACHE_FORMAT = 1;

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
  /** Keep the index in the knowledge base's database instead of a file. */
  database?: VectorStore;
  kbVersion: string;
  embedder: Embedder;
  documents: () => EvidenceDocument[];
  /** What else the documents depend on (metric, document options); a change rebuilds. */
  recipe?: string;
}): Promise<OpenedIndex> {
  const { cachePath, kbVersion, embedder } = input;
  const recipe = input.recipe ?? '';
  if (input.database) return openOrBuildDatabaseIndex({ ...input, store: input.database, recipe });
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
