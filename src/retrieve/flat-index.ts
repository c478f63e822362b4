import { MetallmixError } from '../core/index.ts';
import { readIndexFile, writeIndexFile } from './index-file.ts';
import {
  entryMatcher,
  type IndexEntryMeta,
  type SearchFilter,
  type SearchHit,
  type VectorIndex,
} from './vector-index.ts';

/**
 * Exact inner-product search over all vectors, stored row after row in one Float32Array (the
 * equivalent of FAISS IndexFlatIP). With unit vectors the score is cosine similarity.
 * Linear in the number of entries: about a millisecond per 10k vectors of a few hundred dims.
 */
export class FlatIndex implements VectorIndex {
  readonly type = 'flat-ip';
  private data: Float32Array;
  private readonly ids: string[] = [];
  private readonly meta: IndexEntryMeta[] = [];
  private readonly known = new Set<string>();

  constructor(
    readonly dim: number,
    capacity = 64,
  ) {
    if (!Number.isInteger(dim) || dim < 1)
      throw new RangeError(`dim must be a positive integer, got ${dim}`);
    this.data = new Float32Array(dim * Math.max(1, capacity));
  }

  get size(): number {
    return this.ids.length;
  }

  add(
    ids: readonly string[],
    vectors: readonly Float32Array[],
    meta: readonly IndexEntryMeta[],
  ): void {
    if (vectors.length !== ids.length || meta.length !== ids.length)
      throw new RangeError(
        `add: ${ids.length} ids, ${vectors.length} vectors, ${meta.length} meta`,
      );
    const fresh = new Set<string>();
    ids.forEach((id, i) => {
      if (this.known.has(id) || fresh.has(id))
        throw new RangeError(`add: id "${id}" is already in the index`);
      fresh.add(id);
      if (vectors[i].length !== this.dim)
        throw new RangeError(
          `add: vector of "${id}" has ${vectors[i].length} dims, the index ${this.dim}`,
        );
    });
    this.reserve(this.size + ids.length);
    ids.forEach((id, i) => {
      const row = this.ids.length;
      this.data.set(vectors[i], row * this.dim);
      this.known.add(id);
      this.ids.push(id);
      this.meta.push({ ...meta[i] });
    });
  }

  search(query: Float32Array, k: number, filter?: SearchFilter): SearchHit[] {
    if (query.length !== this.dim)
      throw new RangeError(`search: query has ${query.length} dims, the index ${this.dim}`);
    const matches = entryMatcher(filter);
    const top = new TopK(Math.max(0, Math.floor(k)));
    const { data, dim } = this;
    for (let row = 0, n = this.size; row < n; row++) {
      if (matches && !matches(this.meta[row])) continue;
      let dot = 0;
      for (let j = 0, base = row * dim; j < dim; j++) dot += data[base + j] * query[j];
      top.offer(dot, row);
    }
    return top.sorted().map(({ score, row }) => ({ id: this.ids[row], score }));
  }

  save(path: string, extra: Record<string, unknown> = {}): void {
    writeIndexFile(
      path,
      {
        ...extra,
        type: this.type,
        dim: this.dim,
        count: this.size,
        ids: this.ids,
        meta: this.meta,
      },
      this.data.subarray(0, this.size * this.dim),
    );
  }

  /** Ids, metadata and vectors (row after row) in the order they were added: what a store keeps. */
  parts(): { ids: readonly string[]; meta: readonly IndexEntryMeta[]; vectors: Float32Array } {
    return { ids: this.ids, meta: this.meta, vectors: this.data.subarray(0, this.size * this.dim) };
  }

  /** Rebuilds an index from a file's parts, checking that they agree. */
  static fromFile(path: string, header: Record<string, unknown>, payload: Float32Array): FlatIndex {
    const dim = header.dim as number;
    const count = header.count as number;
    const ids = header.ids;
    const meta = header.meta;
    const fail = (reason: string): never => {
      throw new MetallmixError(`not a valid vector index: ${reason}`, { location: { file: path } });
    };
    if (dim < 1) fail('header field "dim" must be at least 1');
    if (!Array.isArray(ids) || ids.length !== count || ids.some((id) => typeof id !== 'string'))
      fail(`header field "ids" is not a list of ${count} strings`);
    if (
      !Array.isArray(meta) ||
      meta.length !== count ||
      meta.some((m) => typeof m?.kind !== 'string')
    )
      fail(`header field "meta" is not a list of ${count} entries with a kind`);
    if (payload.length !== count * dim)
      fail(`payload holds ${payload.length} floats, expected ${count} x ${dim}`);
    if (new Set(ids as string[]).size !== count) fail('header field "ids" has duplicates');
    const index = new FlatIndex(dim, count);
    const vectors = Array.from({ length: count }, (_, i) =>
      payload.subarray(i * dim, (i + 1) * dim),
    );
    index.add(ids as string[], vectors, meta as IndexEntryMeta[]);
    return index;
  }

  private reserve(rows: number): void {
    if (rows * this.dim <= this.data.length) return;
    let capacity = this.data.length / this.dim;
    while (capacity < rows) capacity *= 2;
    const grown = new Float32Array(capacity * this.dim);
    grown.set(this.data.subarray(0, this.size * this.dim));
    this.data = grown;
  }
}

/** Bounded min-heap of (score, row): keeps the k best; equal scores prefer the earlier row. */
class TopK {
  private readonly scores: number[] = [];
  private readonly rowsOf: number[] = [];

  constructor(private readonly k: number) {}

  offer(score: number, row: number): void {
    if (this.k === 0) return;
    if (this.scores.length < this.k) {
      this.scores.push(score);
      this.rowsOf.push(row);
      this.up(this.scores.length - 1);
    } else if (this.worse(0, score, row)) {
      this.scores[0] = score;
      this.rowsOf[0] = row;
      this.down(0);
    }
  }

  sorted(): { score: number; row: number }[] {
    return this.scores
      .map((score, i) => ({ score, row: this.rowsOf[i] }))
      .sort((a, b) => b.score - a.score || a.row - b.row);
  }

  /** Whether heap entry i ranks below (score, row). */
  private worse(i: number, score: number, row: number): boolean {
    return this.scores[i] < score || (this.scores[i] === score && this.rowsOf[i] > row);
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.worse(i, this.scores[parent], this.rowsOf[parent])) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const n = this.scores.length;
    for (;;) {
      let least = i;
      for (const child of [2 * i + 1, 2 * i + 2]) {
        if (child < n && this.worse(child, this.scores[least], this.rowsOf[least])) least = child;
      }
      if (least === i) return;
      this.swap(i, least);
      i = least;
    }
  }

  private swap(a: number, b: number): void {
    [this.scores[a], this.scores[b]] = [this.scores[b], this.scores[a]];
    [this.rowsOf[a], this.rowsOf[b]] = [this.rowsOf[b], this.rowsOf[a]];
  }
}

/** Loads any index file written by `VectorIndex.save`, dispatching on the header's type. */
export function loadIndex(path: string): { index: VectorIndex; header: Record<string, unknown> } {
  const { header, payload } = readIndexFile(path);
  switch (header.type) {
    case 'flat-ip':
      return { index: FlatIndex.fromFile(path, header, payload), header };
    default:
      throw new MetallmixError(`vector index type "${header.type}" is not known to this version`, {
        location: { file: path, field: 'type' },
      });
  }
}
