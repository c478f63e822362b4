// Where a backend keeps the retrieval index of its knowledge base when the index lives in the
// database (IndexLocation `database`). The store holds vectors as plain data under a key chosen
// by retrieval (src/retrieve/database-index.ts gives them meaning and implements VectorIndex on
// top), so store never imports retrieve, which sits above it.

/** What an index keeps beside each vector; the fields retrieval filters on. */
export interface VectorEntryMeta {
  kind: string;
  dataset?: string;
  task?: string;
  modality?: string;
  model?: string;
}

export interface StoredVectors {
  /** What the index's builder keeps with it (embedder, recipe, documents): JSON. */
  header: Record<string, unknown>;
  dim: number;
  ids: string[];
  meta: VectorEntryMeta[];
  /** ids.length x dim floats, row after row. */
  vectors: Float32Array;
}

/** A field matches when the entry's value is one of those given; excludeDatasets leaves some out. */
export interface VectorFilterSpec {
  kind?: readonly string[];
  task?: readonly string[];
  modality?: readonly string[];
  dataset?: readonly string[];
  model?: readonly string[];
  excludeDatasets?: readonly string[];
}

export interface StoredHeader {
  /** The knowledge-base version the index was built for. */
  kbVersion: string;
  dim: number;
  count: number;
  header: Record<string, unknown>;
}

export interface VectorCandidate {
  /** The entry's row in the index (the order it was added in). */
  position: number;
  id: string;
  vector: Float32Array;
}

export interface VectorStore {
  /** Names the store in notices (the knowledge base's label). */
  readonly label: string;
  /** What is stored under `key`, without the vectors: enough to tell whether it is current. */
  header(key: string): Promise<StoredHeader | undefined>;
  read(key: string): Promise<(StoredVectors & { kbVersion: string }) | undefined>;
  /** Replaces the index under `key`, whole, in one transaction. */
  write(key: string, kbVersion: string, index: StoredVectors): Promise<void>;
  /**
   * Whether `nearest` can search in the database (pgvector installed); otherwise the caller
   * reads the vectors and searches them itself.
   */
  searchesInDatabase(): Promise<boolean>;
  /**
   * Every entry passing `filter` whose inner product with `query`, as the database computes it,
   * is within `margin` of the k-th best: a superset of the exact k best for the caller to rescore.
   */
  nearest(
    key: string,
    query: Float32Array,
    k: number,
    filter: VectorFilterSpec,
    margin: number,
  ): Promise<VectorCandidate[]>;
}
