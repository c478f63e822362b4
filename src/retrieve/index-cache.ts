import path from 'node:path';
import { ensureDirectory } from '../core/files.ts';
import type { VectorStore } from '../store/index.ts';
import { openOrBuildDatabaseIndex } from './database-index.ts';
import type { EvidenceDocument } from './documents.ts';
import type { Embedder } from './embedder.ts';
import { buildIndex, type OpenedIndex } from './build-index.ts';
import { FlatIndex, loadIndex } from './flat-index.ts';
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
 *
 * `embedder` may be a function that fits one: it gets the saved documents when the file was
 * built for this version and recipe (they are what `documents()` would build, so an embedder
 * fitted on them is the one the file was built with), else undefined.
 */
export async function openOrBuildIndex(input: {
  cachePath?: string;
  /** Keep the index in the knowledge base's database instead of a file. */
  database?: VectorStore;
  kbVersion: string;
  embedder: Embedder | ((saved: readonly EvidenceDocument[] | undefined) => Embedder);
  documents: () => EvidenceDocument[];
  /** What else the documents depend on (metric, document options); a change rebuilds. */
  recipe?: string;
}): Promise<OpenedIndex & { embedder: Embedder }> {
  const { cachePath, kbVersion } = input;
  const recipe = input.recipe ?? '';
  const notices: string[] = [];
  const loaded = cachePath ? tryLoad(cachePath, { kbVersion, recipe }) : undefined;
  const saved = loaded && 'index' in loaded ? loaded : undefined;
  const embedder =
    typeof input.embedder === 'function' ? input.embedder(saved?.documents) : input.embedder;
  if (saved && saved.embedderId === embedder.id)
    return { index: saved.index, documents: saved.documents, embedder, rebuilt: false, notices };
  if (input.database) {
    // The copy of this machine is stale or missing: the database's index is the one to use.
    const opened = await openOrBuildDatabaseIndex({
      ...input,
      embedder,
      store: input.database,
      recipe,
    });
    // A failed copy needs no notice: the database keeps the index, the copy saves reading it.
    // The copy's folder is the cache's, ours to create, level by level (a recursive mkdir of a
    // path under /proc hangs).
    if (cachePath && opened.index instanceof FlatIndex)
      try {
        ensureDirectory(path.dirname(cachePath), 'the cache folder');
        saveCopy(opened.index, cachePath, opened.documents, { kbVersion, recipe, embedder });
      } catch {
        // Read from the database again next time.
      }
    return { ...opened, embedder };
  }
  if (cachePath && loaded) {
    const stale = saved
      ? `built with embedder ${String(saved.embedderId)}, now ${embedder.id}`
      : (loaded as { stale: string }).stale;
    notices.push(`rebuilding vector index ${cachePath}: ${stale}`);
  }
  const documents = input.documents();
  const index = await buildIndex(documents, embedder);
  const unsaved =
    cachePath && saveCopy(index, cachePath, documents, { kbVersion, recipe, embedder });
  if (unsaved) notices.push(`${unsaved}; it is rebuilt on every run`);
  return { index, documents, embedder, rebuilt: true, notices };
}

/** Saves an index atomically with what makes it valid; says why when it could not. */
function saveCopy(
  index: FlatIndex,
  cachePath: string,
  documents: EvidenceDocument[],
  valid: { kbVersion: string; recipe: string; embedder: Embedder },
): string | undefined {
  try {
    index.save(cachePath, {
      format: CACHE_FORMAT,
      kbVersion: valid.kbVersion,
      embedderId: valid.embedder.id,
      recipe: valid.recipe,
      documents,
    });
    return undefined;
  } catch (err) {
    return `could not save vector index ${cachePath} (${(err as Error).message})`;
  }
}

function tryLoad(
  path: string,
  { kbVersion, recipe }: { kbVersion: string; recipe: string },
): { index: VectorIndex; documents: EvidenceDocument[]; embedderId: unknown } | { stale: string } {
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
  return { index, documents: documents as EvidenceDocument[], embedderId: header.embedderId };
}
