// What every backend derives the same way from its content: the search space, the statistics
// and the content version. Backends only store and fetch; these functions give the meaning.
import {
  Hyperparameter,
  type DatasetProfile,
  type ModelCard,
  type ParamValue,
  type SearchSpace,
} from '../core/index.ts';
import { createHash } from 'node:crypto';
import { canonicalJson } from './fingerprint.ts';
import type {
  DeclaredHyperparameter,
  KbSnapshot,
  RecordFilter,
  StoredRecord,
} from './knowledge-base.ts';

export interface KbStats {
  version: string;
  records: number;
  datasets: number;
  models: number;
  byStatus: Record<string, number>;
  bySource: Record<string, number>;
  perDataset: { dataset: string; records: number; models: number }[];
}

export function matchesFilter(r: StoredRecord, filter: RecordFilter): boolean {
  return (
    (filter.dataset === undefined || r.dataset === filter.dataset) &&
    (filter.model === undefined || r.model === filter.model) &&
    (filter.status === undefined || r.status === filter.status)
  );
}

/**
 * The content version: a hash of the record ids, the profiles, the model cards and the
 * declarations, each in a canonical order, so equal content gives an equal version whatever
 * the backend or the order of imports.
 */
export function contentVersion(content: {
  recordIds: readonly string[];
  profiles: readonly DatasetProfile[];
  models: readonly ModelCard[];
  hyperparameters: readonly DeclaredHyperparameter[];
}): string {
  return contentVersionOfSortedIds([...content.recordIds].sort(), content);
}

/**
 * contentVersion with the record ids given already sorted (byte order, as `ORDER BY id` returns
 * them) and read one at a time, so a backend hashes millions of ids without holding them.
 */
export function contentVersionOfSortedIds(
  sortedIds: Iterable<string>,
  rest: {
    profiles: readonly DatasetProfile[];
    models: readonly ModelCard[];
    hyperparameters: readonly DeclaredHyperparameter[];
  },
): string {
  const keyed = (items: readonly object[], key: (x: never) => string) =>
    items
      .map((x) => `${key(x as never)}\t${canonicalJson(x)}`)
      .sort()
      .join('\n');
  const hash = createHash('sha256');
  let first = true;
  for (const id of sortedIds) {
    hash.update(first ? id : `\n${id}`);
    first = false;
  }
  hash.update(
    [
      '',
      keyed(rest.profiles, (p: DatasetProfile) => p.name),
      keyed(rest.models, (m: ModelCard) => m.id),
      keyed(rest.hyperparameters, (h: DeclaredHyperparameter) => h.name),
    ].join('\n--\n'),
  );
  return hash.digest('hex').slice(0, 16);
}

/** Declared hyperparameters with low/high and choices as observed in the records. */
export function searchSpaceOf(
  declared: readonly DeclaredHyperparameter[],
  records: readonly StoredRecord[],
): SearchSpace {
  const parameters: Hyperparameter[] = [];
  for (const d of declared) {
    const values: ParamValue[] = [];
    for (const r of records) {
      const v = r.config[d.name];
      if (v !== undefined) values.push(v);
    }
    if (values.length === 0) continue;
    const base = {
      name: d.name,
      ...(d.condition ? { condition: d.condition } : {}),
      ...(d.description ? { description: d.description } : {}),
    };
    if (d.type === 'float' || d.type === 'int') {
      let low = Infinity;
      let high = -Infinity;
      for (const v of values)
        if (typeof v === 'number') {
          if (v < low) low = v;
          if (v > high) high = v;
        }
      parameters.push(
        Hyperparameter.parse({ ...base, type: d.type, low, high, log: Boolean(d.log) && low > 0 }),
      );
    } else if (d.type === 'bool') {
      parameters.push(Hyperparameter.parse({ ...base, type: 'bool' }));
    } else {
      parameters.push(
        Hyperparameter.parse({
          ...base,
          type: 'categorical',
          choices: orderChoices(values, d.choices),
        }),
      );
    }
  }
  return { parameters };
}

/** Declared choices first, in their order; then the other observed values, numbers before text. */
function orderChoices(values: ParamValue[], declared?: ParamValue[]): ParamValue[] {
  const seen = new Map<string, ParamValue>();
  for (const v of values) seen.set(`${typeof v}:${String(v)}`, v);
  const out: ParamValue[] = [];
  for (const d of declared ?? []) {
    const k = `${typeof d}:${String(d)}`;
    if (seen.has(k)) {
      out.push(d);
      seen.delete(k);
    }
  }
  const rest = [...seen.values()].sort((a, b) =>
    typeof a === 'number' && typeof b === 'number'
      ? a - b
      : typeof a === 'number'
        ? -1
        : typeof b === 'number'
          ? 1
          : String(a).localeCompare(String(b)),
  );
  return [...out, ...rest];
}

export function statsOf(snapshot: Pick<KbSnapshot, 'version' | 'records'>): KbStats {
  const { records } = snapshot;
  const count = (key: (r: StoredRecord) => string) => {
    const out: Record<string, number> = {};
    for (const r of records) out[key(r)] = (out[key(r)] ?? 0) + 1;
    return out;
  };
  const perDataset = new Map<string, { records: number; models: Set<string> }>();
  for (const r of records) {
    const d = perDataset.get(r.dataset) ?? { records: 0, models: new Set<string>() };
    d.records++;
    d.models.add(r.model);
    perDataset.set(r.dataset, d);
  }
  return {
    version: snapshot.version,
    records: records.length,
    datasets: perDataset.size,
    models: new Set(records.map((r) => r.model)).size,
    byStatus: count((r) => r.status),
    bySource: count((r) => r.provenance.source),
    perDataset: [...perDataset.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([dataset, d]) => ({ dataset, records: d.records, models: d.models.size })),
  };
}
