// The retrieval index of a PostgreSQL knowledge base, in its own tables: one row per vector
// (float32 little-endian bytes), with the metadata searches filter on. Where the pgvector
// extension is installed, each row also gets an `embedding vector` column and the nearest
// entries are found in the database; otherwise the caller reads the rows and searches them.
import type pg from 'pg';
import type {
  StoredHeader,
  StoredVectors,
  VectorCandidate,
  VectorEntryMeta,
  VectorFilterSpec,
  VectorStore,
} from '../vector-store.ts';
import { LOCK_CLASS, quoteIdent } from './migrations.ts';

const META_FIELDS = ['kind', 'dataset', 'task', 'modality', 'model'] as const;
const WRITE_CHUNK = 2000;

const bytesOf = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

function floatsOf(bytes: Buffer): Float32Array {
  // Copied into an aligned buffer: a Buffer may sit at any offset of a shared pool.
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

const vectorLiteral = (v: Float32Array) => `[${Array.from(v).join(',')}]`;

export class PostgresVectorStore implements VectorStore {
  private readonly s: string;
  private pgvector: boolean | undefined;

  constructor(
    private readonly client: pg.Client,
    private readonly schema: string,
    readonly label: string,
  ) {
    this.s = quoteIdent(schema);
  }

  async header(key: string): Promise<StoredHeader | undefined> {
    const r = await this.client.query<{ kb_version: string; header: string; count: number }>(
      `SELECT kb_version, header, (SELECT count(*)::int FROM ${this.s}.vector_entries e WHERE e.key = i.key) AS count
       FROM ${this.s}.vector_indexes i WHERE key = $1`,
      [key],
    );
    const row = r.rows[0];
    if (!row) return undefined;
    const { dim, ...header } = JSON.parse(row.header) as { dim: number };
    return { kbVersion: row.kb_version, dim, count: row.count, header };
  }

  async read(key: string): Promise<(StoredVectors & { kbVersion: string }) | undefined> {
    await this.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      const head = (
        await this.client.query<{ header: string; kb_version: string }>(
          `SELECT header, kb_version FROM ${this.s}.vector_indexes WHERE key = $1`,
          [key],
        )
      ).rows[0];
      if (!head) {
        await this.client.query('COMMIT');
        return undefined;
      }
      const rows = (
        await this.client.query<
          Record<(typeof META_FIELDS)[number] | 'id', string | null> & {
            vector: Buffer;
          }
        >(
          `SELECT id, kind, dataset, task, modality, model, vector FROM ${this.s}.vector_entries WHERE key = $1 ORDER BY position`,
          [key],
        )
      ).rows;
      await this.client.query('COMMIT');
      const { dim, ...header } = JSON.parse(head.header) as { dim: number };
      const vectors = new Float32Array(rows.length * dim);
      rows.forEach((row, i) => vectors.set(floatsOf(row.vector), i * dim));
      return {
        kbVersion: head.kb_version,
        header,
        dim,
        ids: rows.map((r) => r.id!),
        meta: rows.map((r) => {
          const m: VectorEntryMeta = { kind: r.kind! };
          for (const f of META_FIELDS.slice(1)) if (r[f] !== null) m[f] = r[f]!;
          return m;
        }),
        vectors,
      };
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  async write(key: string, kbVersion: string, index: StoredVectors): Promise<void> {
    const { dim, ids, meta, vectors } = index;
    await this.client.query('BEGIN');
    try {
      await this.client.query(
        `SELECT pg_advisory_xact_lock(${LOCK_CLASS}, hashtext('index:' || $1::text || ':' || $2::text))`,
        [this.schema, key],
      );
      const withEmbedding = await this.preparePgvector();
      await this.client.query(`DELETE FROM ${this.s}.vector_indexes WHERE key = $1`, [key]);
      await this.client.query(
        `INSERT INTO ${this.s}.vector_indexes (key, kb_version, header) VALUES ($1, $2, $3)`,
        [key, kbVersion, JSON.stringify({ ...index.header, dim })],
      );
      for (let start = 0; start < ids.length; start += WRITE_CHUNK) {
        const end = Math.min(ids.length, start + WRITE_CHUNK);
        const rows = Array.from({ length: end - start }, (_, j) => start + j);
        const row = (i: number) => vectors.subarray(i * dim, (i + 1) * dim);
        const params: unknown[] = [
          key,
          rows,
          rows.map((i) => ids[i]),
          ...META_FIELDS.map((f) => rows.map((i) => meta[i][f] ?? null)),
          rows.map((i) => bytesOf(row(i))),
        ];
        if (withEmbedding) params.push(rows.map((i) => vectorLiteral(row(i))));
        await this.client.query(
          `INSERT INTO ${this.s}.vector_entries (key, position, id, kind, dataset, task, modality, model, vector${withEmbedding ? ', embedding' : ''})
           SELECT $1, p, i, k, d, t, mo, md, v${withEmbedding ? ', e::vector' : ''}
           FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bytea[]${withEmbedding ? ', $10::text[]' : ''})
             AS u(p, i, k, d, t, mo, md, v${withEmbedding ? ', e' : ''})`,
          params,
        );
      }
      await this.client.query('COMMIT');
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  async searchesInDatabase(): Promise<boolean> {
    if (this.pgvector === undefined) {
      const r = await this.client.query<{ ready: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector')
            AND EXISTS (SELECT 1 FROM information_schema.columns
                        WHERE table_schema = $1 AND table_name = 'vector_entries' AND column_name = 'embedding') AS ready`,
        [this.schema],
      );
      this.pgvector = r.rows[0].ready;
    }
    return this.pgvector;
  }

  /**
   * Inside a write transaction: whether rows get an embedding column, installing pgvector when
   * the server has it and the role may (a savepoint keeps a refusal from failing the write).
   */
  private async preparePgvector(): Promise<boolean> {
    const available = await this.client.query(
      `SELECT 1 FROM pg_available_extensions WHERE name = 'vector'`,
    );
    if (available.rowCount === 0) return (this.pgvector = false);
    await this.client.query('SAVEPOINT pgvector');
    try {
      await this.client.query('CREATE EXTENSION IF NOT EXISTS vector');
      await this.client.query(
        `ALTER TABLE ${this.s}.vector_entries ADD COLUMN IF NOT EXISTS embedding vector`,
      );
      await this.client.query('RELEASE SAVEPOINT pgvector');
      return (this.pgvector = true);
    } catch {
      await this.client.query('ROLLBACK TO SAVEPOINT pgvector');
      return (this.pgvector = false);
    }
  }

  async nearest(
    key: string,
    query: Float32Array,
    k: number,
    filter: VectorFilterSpec,
    margin: number,
  ): Promise<VectorCandidate[]> {
    const params: unknown[] = [key, vectorLiteral(query), k, margin];
    const where = ['key = $1'];
    for (const f of META_FIELDS) {
      const wanted = filter[f];
      if (wanted === undefined) continue;
      params.push([...wanted]);
      where.push(`${f} = ANY($${params.length}::text[])`);
    }
    if (filter.excludeDatasets?.length) {
      params.push([...filter.excludeDatasets]);
      where.push(`(dataset IS NULL OR NOT dataset = ANY($${params.length}::text[]))`);
    }
    // `<#>` is the negative inner product: smaller is nearer.
    const r = await this.client.query<{ position: number; id: string; vector: Buffer }>(
      `WITH scored AS (
         SELECT position, id, vector, embedding <#> $2::vector AS d
         FROM ${this.s}.vector_entries WHERE ${where.join(' AND ')}
       ), kth AS (SELECT d FROM scored ORDER BY d LIMIT 1 OFFSET $3::int - 1)
       SELECT position, id, vector FROM scored
       WHERE d <= coalesce((SELECT d FROM kth), 'Infinity'::float8) + $4::float8
       ORDER BY position`,
      params,
    );
    return r.rows.map((row) => ({
      position: row.position,
      id: row.id,
      vector: floatsOf(row.vector),
    }));
  }
}
