// The retrieval index of a knowledge base that keeps it in its database (IndexLocation
// `database`), so every machine of a team shares one index instead of each re-embedding the
// documents. The store keeps plain rows; this file gives them the meaning of the file cache
// (index-cache.ts): one index per embedder and recipe, rebuilt when the knowledge-base version
// moves. Where the database can search (pgvector) the index stays there and `search` asks it
// for candidates, rescored here exactly as FlatIndex scores, so both give the same hits;
// otherwise the vectors are read into a FlatIndex.
import type { StoredHeader, VectorFilterSpec, VectorStore } from '../store/index.ts';
import { sha256 } from '../store/fingerprint.ts';
import { buildIndex, type OpenedIndex } from './build-index.ts';
import type { EvidenceDocument } from './documents.ts';
import type { Embedder } from './embedder.ts';
import { FlatIndex } from './flat-index.ts';
import type { SearchFilter, SearchHit, SearchableIndex } from './vector-index.ts';

/** Bumped when what is stored or how documents are written changes, so old indexes rebuild. */
const DATABASE_FORMAT = 1;

/** Float32 rounding of one product term, as a fraction of |q| |v| (a bound, with room). */
const FLOAT32_TERM_ERROR = 1.2e-7;

function keyOf(embedderId: string, recipe: string): string {
  return sha256(JSON.stringify({ format: DATABASE_FORMAT, embedderId, recipe })).slice(0, 24);
}

const asList = (v: string | readonly string[] | undefined) =>
  v === undefined ? undefined : typeof v === 'string' ? [v] : v;

function filterSpec(filter: SearchFilter | undefined): VectorFilterSpec {
  if (!filter) return {};
  return {
    kind: asList(filter.kind),
    task: asList(filter.task),
    modality: asList(filter.modality),
    dataset: asList(filter.dataset),
    model: asList(filter.model),
    excludeDatasets: filter.excludeDatasets,
  };
}

function norm(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** An index searched in the database; only the candidates it returns travel. */
export class DatabaseIndex implements SearchableIndex {
  readonly type = 'database-ip';

  constructor(
    private readonly store: VectorStore,
    private readonly key: string,
    readonly dim: number,
    readonly size: number,
    /** The largest vector norm in the index, which bounds the database's rounding error. */
    private readonly maxNorm: number,
  ) {}

  async search(query: Float32Array, k: number, filter?: SearchFilter): Promise<SearchHit[]> {
    if (query.length !== this.dim)
      throw new RangeError(`search: query has ${query.length} dims, the index ${this.dim}`);
    const wanted = Math.max(0, Math.floor(k));
    if (wanted === 0 || this.size === 0) return [];
    const margin = 2 * this.dim * FLOAT32_TERM_ERROR * norm(query) * this.maxNorm;
    const candidates = await this.store.nearest(
      this.key,
      query,
      wanted,
      filterSpec(filter),
      margin,
    );
    const scored = candidates.map((c) => {
      let dot = 0;
      for (let j = 0; j < this.dim; j++) dot += c.vector[j] * query[j];
      return { id: c.id, score: dot, position: c.position };
    });
    scored.sort((a, b) => b.score - a.score || a.position - b.position);
    return scored.slice(0, wanted).map(({ id, score }) => ({ id, score }));
  }
}

/** Why a stored index cannot be used, or undefined when it can. */
function stale(head: StoredHeader | undefined, kbVersion: string): string | undefined {
  if (!head) return 'no index in the database yet';
  if (head.kbVersion !== kbVersion)
    return `built for knowledge base version ${head.kbVersion}, now ${kbVersion}`;
  const documents = head.header.documents;
  if (!Array.isArray(documents) || documents.length !== head.count)
    return `its documents do not match its ${head.count} vectors`;
  return undefined;
}

export async function openOrBuildDatabaseIndex(input: {
  store: VectorStore;
  kbVersion: string;
  embedder: Embedder;
  documents: () => EvidenceDocument[];
  recipe: string;
}): Promise<OpenedIndex> {
  const { store, kbVersion, embedder } = input;
  const key = keyOf(embedder.id, input.recipe);
  const notices: string[] = [];
  try {
    const head = await store.header(key);
    const why = stale(head, kbVersion);
    if (why === undefined && head) {
      const documents = head.header.documents as EvidenceDocument[];
      if (await store.searchesInDatabase()) {
        const maxNorm = Number(head.header.maxNorm);
        return {
          index: new DatabaseIndex(store, key, head.dim, head.count, maxNorm),
          documents,
          rebuilt: false,
          notices,
        };
      }
      const stored = await store.read(key);
      if (stored && stored.kbVersion === kbVersion && stored.ids.length === documents.length) {
        const index = FlatIndex.fromFile(
          store.label,
          { dim: stored.dim, count: stored.ids.length, ids: stored.ids, meta: stored.meta },
          stored.vectors,
        );
        return { index, documents, rebuilt: false, notices };
      }
      notices.push(`rebuilding the vector index in ${store.label}: it changed while read`);
    } else notices.push(`rebuilding the vector index in ${store.label}: ${why}`);
  } catch (err) {
    notices.push(
      `rebuilding the vector index: cannot read it from ${store.label} (${(err as Error).message})`,
    );
  }
  const documents = input.documents();
  const index = await buildIndex(documents, embedder);
  const { ids, meta, vectors } = index.parts();
  let maxNorm = 0;
  for (let i = 0; i < ids.length; i++)
    maxNorm = Math.max(maxNorm, norm(vectors.subarray(i * index.dim, (i + 1) * index.dim)));
  try {
    await store.write(key, kbVersion, {
      header: { embedderId: embedder.id, recipe: input.recipe, maxNorm, documents },
      dim: index.dim,
      ids: [...ids],
      meta: [...meta],
      vectors,
    });
  } catch (err) {
    notices.push(
      `could not save the vector index in ${store.label} (${(err as Error).message}); it is rebuilt on every run`,
    );
  }
  return { index, documents, rebuilt: true, notices };
}
