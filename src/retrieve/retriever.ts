import type { DatasetProfile, EvidenceRef } from '../core/index.ts';
import { MetaTextEmbedder, type DefaultEmbedderOptions } from './default-embedder.ts';
import {
  buildDocuments,
  describeProfile,
  type DocumentOptions,
  type EvidenceDocument,
  type EvidenceKind,
  type Insight,
  type Outcome,
  type StoredRecord,
} from './documents.ts';
import type { Embedder } from './embedder.ts';
import { openOrBuildIndex } from './index-cache.ts';
import { profileMeta } from './profile-features.ts';
import type { SearchFilter, SearchHit, SearchableIndex } from './vector-index.ts';
import type { VectorStore } from '../store/index.ts';
import { pushAll } from '../core/arrays.ts';

export interface EvidenceHit {
  id: string;
  kind: EvidenceKind;
  dataset?: string;
  similarity: number;
  text: string;
  outcome?: Outcome;
  model?: string;
  config?: EvidenceDocument['config'];
}

export interface RetrieveOptions {
  /** Hits per kind (default 5). */
  k?: number;
  /** Kinds to return, in this order (default dataset, run). */
  kinds?: readonly EvidenceKind[];
  /** Applies to datasets and runs; insights are global and only filtered by kind. */
  filter?: Omit<SearchFilter, 'kind'>;
}

/** Nearest past datasets, their runs and matching insights for a dataset profile or a text. */
export class Retriever {
  private readonly byId: Map<string, EvidenceDocument>;

  constructor(
    readonly index: SearchableIndex,
    documents: readonly EvidenceDocument[],
    readonly embedder: Embedder,
  ) {
    this.byId = new Map(documents.map((d) => [d.id, d]));
  }

  /**
   * The k nearest datasets to `profile`, then the k best-matching runs among those datasets'
   * runs (so every run shown is backed by a dataset shown), then the k nearest insights.
   */
  async retrieve(profile: DatasetProfile, options: RetrieveOptions = {}): Promise<EvidenceHit[]> {
    const [query] = await this.embedder.embed([describeProfile(profile)], [profileMeta(profile)]);
    return this.searchVector(query, options);
  }

  /** The same as `retrieve`, for a free-text question (e.g. an LLM's follow-up). */
  async retrieveText(text: string, options: RetrieveOptions = {}): Promise<EvidenceHit[]> {
    const [query] = await this.embedder.embed([text]);
    return this.searchVector(query, options);
  }

  private async searchVector(
    query: Float32Array,
    options: RetrieveOptions,
  ): Promise<EvidenceHit[]> {
    const k = options.k ?? 5;
    const kinds = options.kinds ?? ['dataset', 'run'];
    const filter = options.filter ?? {};
    const hits: EvidenceHit[] = [];
    let nearestDatasets: string[] | undefined;
    for (const kind of kinds) {
      let found: SearchHit[];
      if (kind === 'insight') {
        found = await this.index.search(query, k, { kind });
      } else if (kind === 'run' && nearestDatasets && filter.dataset === undefined) {
        found = await this.index.search(query, k, { ...filter, kind, dataset: nearestDatasets });
      } else {
        found = await this.index.search(query, k, { ...filter, kind });
      }
      const resolved = found.map((h) => this.hit(h)).filter((h) => h !== undefined);
      if (kind === 'dataset') nearestDatasets = resolved.map((h) => h.dataset!);
      pushAll(hits, resolved);
    }
    return hits;
  }

  private hit({ id, score }: SearchHit): EvidenceHit | undefined {
    const d = this.byId.get(id);
    if (!d) return undefined;
    const h: EvidenceHit = { id, kind: d.kind, similarity: score, text: d.text };
    if (d.dataset !== undefined) h.dataset = d.dataset;
    if (d.outcome) h.outcome = d.outcome;
    if (d.model !== undefined) h.model = d.model;
    if (d.config) h.config = d.config;
    return h;
  }
}

/** A hit as the Recommendation schema's evidence reference. */
export function toEvidenceRef(hit: EvidenceHit): EvidenceRef {
  const ref: EvidenceRef = {
    id: hit.id,
    kind: hit.kind,
    similarity: hit.similarity,
    summary: hit.text,
  };
  if (hit.dataset !== undefined) ref.dataset = hit.dataset;
  if (hit.model !== undefined) ref.model = hit.model;
  if (hit.outcome) ref.outcome = hit.outcome;
  return ref;
}

export interface OpenRetrieverInput {
  profiles: readonly DatasetProfile[];
  records: readonly StoredRecord[];
  insights?: readonly Insight[];
  /** The metric outcomes are reported on, e.g. `accuracy`. */
  metric: string;
  /** The knowledge base's content version: the index is rebuilt when it changes. */
  kbVersion: string;
  /** Index file (see indexPathFor); without it (or a database) the index lives in memory only. */
  cachePath?: string;
  /** The knowledge base's own index store (IndexLocation `database`), instead of a file. */
  database?: VectorStore;
  /** Default: the dependency-free MetaTextEmbedder fit on this knowledge base. */
  embedder?: Embedder;
  embedderOptions?: DefaultEmbedderOptions;
  documentOptions?: DocumentOptions;
}

export interface OpenedRetriever {
  retriever: Retriever;
  rebuilt: boolean;
  notices: string[];
  timingsMs: { documents: number; index: number };
}

/**
 * Builds or loads everything retrieval needs for a knowledge base. The documents (and so the
 * records) are read only when the index must be rebuilt: the default embedder's IDF is fit on
 * the documents saved with a current index file, which are the ones the records would give.
 */
export async function openRetriever(input: OpenRetrieverInput): Promise<OpenedRetriever> {
  let documentsMs = 0;
  let built: EvidenceDocument[] | undefined;
  const documents = () => {
    if (!built) {
      const t0 = performance.now();
      built = buildDocuments({ ...input, options: input.documentOptions });
      documentsMs = performance.now() - t0;
    }
    return built;
  };
  const t0 = performance.now();
  const opened = await openOrBuildIndex({
    cachePath: input.cachePath,
    database: input.database,
    kbVersion: input.kbVersion,
    embedder:
      input.embedder ??
      ((saved) =>
        MetaTextEmbedder.fit(
          { profiles: input.profiles, texts: (saved ?? documents()).map((d) => d.text) },
          input.embedderOptions,
        )),
    documents,
    recipe: JSON.stringify({ metric: input.metric, options: input.documentOptions ?? {} }),
  });
  return {
    retriever: new Retriever(opened.index, opened.documents, opened.embedder),
    rebuilt: opened.rebuilt,
    notices: opened.notices,
    // Documents built inside openOrBuildIndex are reported under documents, not index.
    timingsMs: { documents: documentsMs, index: performance.now() - t0 - documentsMs },
  };
}
