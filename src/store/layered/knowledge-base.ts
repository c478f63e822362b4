// The layered backend: several knowledge bases read as one, the first layer on top. It is how
// the user's own knowledge base is read together with the built-in one, so that "import my runs,
// then recommend" sees both. Writes go to the top layer; the layers below are only read.
//
// Merge rules (the contract of knowledge-base.ts holds for the merged content):
// - records: the union by record id (a record stored in two layers is one record);
// - profiles by dataset name and model cards by id: the upper layer's wins, so a user's profile
//   of a dataset replaces the built-in one of the same name;
// - declarations by name: the upper layer's wins; order is the upper layer's, then the others'.
// The version is the content version of the merged content (derived.ts), so it changes when
// either layer changes what the merge holds, and equals the version of a single knowledge base
// holding the same content (a meta-learner cached for one is valid for the other).
import { MetallmixError } from '../../core/index.ts';
import { contentVersion, matchesFilter } from '../derived.ts';
import type {
  BatchResult,
  ImportBatch,
  IndexLocation,
  KbSnapshot,
  KnowledgeBase,
  RecordFilter,
  SnapshotOptions,
  StoredRecord,
} from '../knowledge-base.ts';

function firstByKey<T>(lists: readonly T[][], key: (x: T) => string): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const list of lists)
    for (const item of list) {
      const k = key(item);
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(item);
    }
  return out;
}

/** The merge of layer snapshots, top layer first. */
export function mergeSnapshots(layers: readonly Omit<KbSnapshot, 'version'>[]): KbSnapshot {
  const records = firstByKey(
    layers.map((l) => l.records),
    (r) => r.id,
  );
  const profiles = firstByKey(
    layers.map((l) => l.profiles),
    (p) => p.name,
  );
  const models = firstByKey(
    layers.map((l) => l.models),
    (m) => m.id,
  );
  const hyperparameters = firstByKey(
    layers.map((l) => l.hyperparameters),
    (h) => h.name,
  );
  return {
    version: contentVersion({
      recordIds: records.map((r) => r.id),
      profiles,
      models,
      hyperparameters,
    }),
    records,
    profiles,
    models,
    hyperparameters,
  };
}

export class LayeredKnowledgeBase implements KnowledgeBase {
  readonly backend = 'layered';
  readonly label: string;
  readonly writable: boolean;
  // The merged version, valid while every layer keeps the version it had.
  private cached: { key: string; version: string } | undefined;

  /** `layers[0]` is the top layer: it wins on profiles, cards and declarations and takes writes. */
  constructor(
    readonly layers: readonly KnowledgeBase[],
    readonly indexLocation: IndexLocation,
  ) {
    if (layers.length === 0) throw new RangeError('a layered knowledge base needs a layer');
    this.label = layers.map((l) => l.label).join(' + ');
    this.writable = layers[0]!.writable;
  }

  async snapshot(options: SnapshotOptions = {}): Promise<KbSnapshot> {
    const snaps: KbSnapshot[] = [];
    for (const layer of this.layers) snaps.push(await layer.snapshot());
    const merged = mergeSnapshots(snaps);
    this.cached = { key: snaps.map((s) => s.version).join('\n'), version: merged.version };
    const max = options.maxRecords;
    if (max === undefined || merged.records.length <= max) return merged;
    // The same sample a single backend takes: the records with the smallest (content-hash) ids.
    const records = [...merged.records]
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, max);
    return { ...merged, records, totalRecords: merged.records.length };
  }

  async records(filter: RecordFilter = {}): Promise<StoredRecord[]> {
    const lists: StoredRecord[][] = [];
    for (const layer of this.layers) lists.push(await layer.records());
    return firstByKey(lists, (r) => r.id).filter((r) => matchesFilter(r, filter));
  }

  async version(): Promise<string> {
    const versions: string[] = [];
    for (const layer of this.layers) versions.push(await layer.version());
    if (this.cached?.key === versions.join('\n')) return this.cached.version;
    return (await this.snapshot()).version;
  }

  async importBatch(batch: ImportBatch): Promise<BatchResult> {
    if (!this.writable)
      throw new MetallmixError(
        `the knowledge base was opened read-only; writes go to ${this.layers[0]!.label}`,
        { location: { file: this.layers[0]!.label } },
      );
    const result = await this.layers[0]!.importBatch(batch);
    // A record the lower layers already hold was not new to the merged knowledge base.
    const below = new Set<string>();
    for (const layer of this.layers.slice(1))
      for (const r of await layer.records()) below.add(r.id);
    return { ...result, addedIds: new Set([...result.addedIds].filter((id) => !below.has(id))) };
  }

  async close(): Promise<void> {
    for (const layer of this.layers) await layer.close();
  }
}
