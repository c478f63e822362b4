// The knowledge-base contract: the only way in or out of experiment records. Every backend
// (SQLite in ./sqlite, the built-in starter in ./builtin.ts, PostgreSQL for teams) implements
// this interface and passes the conformance suite in test/store/conformance.ts.
//
// The contract, in the manner of Optuna's storage documentation:
// - Reads are consistent: `snapshot()` sees one committed state (no half of an import); the
//   other read methods each see one committed state, not necessarily the same one.
// - `importBatch` is atomic: every record, profile, model card and declaration of the batch is
//   written, or (on any error) none is, and the stored data is exactly as before. `importStream`
//   (optional) is the same over batches that arrive while a source is read: all or none.
// - Declarations follow the rules of `declarations.ts` (`mergeDeclarations`, called inside the
//   writing transaction): a changed declaration is written only with `redeclare`.
// - It is idempotent: a record is identified by its content (`recordId`); importing a record
//   already stored adds nothing, so re-running an import is safe.
// - Concurrent writers (several processes, and for a server backend several machines) may call
//   `importBatch` at once: each batch is applied whole and in some order; nothing is lost and
//   nothing is duplicated. Readers are never blocked by a writer for longer than one batch.
// - `version()` changes exactly when the content changes (records, profiles, model cards,
//   declarations), so anything cached per version (meta-learners, retrieval indexes) stays valid
//   across processes and machines.
// - Returned objects are the caller's: mutating them never changes what the next call returns.
// - One instance is used by one caller at a time (no concurrent calls on the same instance);
//   open one instance per thread or request. `close()` is idempotent.
import type { DatasetProfile, ExperimentRecord, ModelCard, RunStatus } from '../core/index.ts';
import type { DeclaredHyperparameter } from './declarations.ts';

export type { DeclaredHyperparameter };
import type { VectorStore } from './vector-store.ts';

export interface RecordFilter {
  dataset?: string;
  model?: string;
  status?: RunStatus;
}

export type StoredRecord = ExperimentRecord & { id: string };

/** What one import writes, in one transaction. */
export interface ImportBatch {
  records: ExperimentRecord[];
  profiles?: DatasetProfile[];
  models?: ModelCard[];
  hyperparameters?: DeclaredHyperparameter[];
  /** The mapping file the declarations come from, named in conflict errors. */
  declaredIn?: string;
  /** Replace stored declarations that differ (an explicit migration; see declarations.ts). */
  redeclare?: boolean;
}

/** What `importStream` wrote: records added per batch, in the order the batches came. */
export interface StreamResult {
  addedPerBatch: number[];
  profiles: UpsertCounts;
  models: UpsertCounts;
}

export interface SnapshotOptions {
  /**
   * At most this many records: when the knowledge base holds more, a deterministic sample, the
   * records with the smallest ids (ids are content hashes, so this is a uniform sample).
   */
  maxRecords?: number;
}

export interface UpsertCounts {
  added: number;
  updated: number;
  unchanged: number;
}

export interface BatchResult {
  /** Ids of the records that were new to the knowledge base. */
  addedIds: Set<string>;
  profiles: UpsertCounts;
  models: UpsertCounts;
}

/** Everything a knowledge base holds, read in one consistent state. */
export interface KbSnapshot {
  version: string;
  records: StoredRecord[];
  /** How many records the knowledge base holds, when `records` is a sample of fewer. */
  totalRecords?: number;
  profiles: DatasetProfile[];
  models: ModelCard[];
  /** Declarations in the order they were first declared. */
  hyperparameters: DeclaredHyperparameter[];
}

/**
 * Where the retrieval index of a knowledge base is kept; decided by the backend, so a file
 * knowledge base keeps it beside itself and a server one keeps it in its database, shared by
 * every machine (the store's interface is plain data; src/retrieve builds the index on it).
 */
export type IndexLocation =
  | { kind: 'file'; path: string }
  | { kind: 'memory' }
  | {
      kind: 'database';
      store: VectorStore;
      /**
       * A file of this machine's cache that keeps a copy of an index read whole from the
       * database (no pgvector), so a later request does not move every vector again. It is
       * valid for the same knowledge-base version, embedder and recipe, as the database's is.
       */
      localCopy?: string;
    };

export interface KnowledgeBase {
  /** What to show a user: a file path, `builtin:medmnist`, a URL with the password masked. */
  readonly label: string;
  /** The backend's name (`sqlite`, `builtin`, ...). */
  readonly backend: string;
  /** False when opened for reading only: importBatch then fails and nothing is ever written. */
  readonly writable: boolean;
  readonly indexLocation: IndexLocation;
  snapshot(options?: SnapshotOptions): Promise<KbSnapshot>;
  records(filter?: RecordFilter): Promise<StoredRecord[]>;
  /** Content hash: changes iff records, profiles, model cards or declarations change. */
  version(): Promise<string>;
  importBatch(batch: ImportBatch): Promise<BatchResult>;
  /**
   * One transaction over batches read while they arrive (bounded memory for large sources);
   * without it, importers collect everything into one importBatch.
   */
  importStream?(batches: AsyncIterable<ImportBatch>): Promise<StreamResult>;
  close(): Promise<void>;
}
