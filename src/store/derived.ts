// What every backend derives the same way from its content: the search space, the statistics
// and the content version. Backends only store and fetch; these functions give the meaning.
import {
  Hyperparameter,
  type DatasetProfile,
  type ModelCard,
  type ParamValue,
  type SearchSpace,
} from '../core/index.ts';
import { canonicalJson, sha256 } from './fingerprint.ts';
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
 * The content version, kept up to date by every write so that reading it costs O(1) whatever
 * the size of the knowledge base.
 *
 * Content is a set of elements: one per record id, and one per (profile name, body), (model id,
 * body) and (declaration name, body), each body as canonical JSON. The version is a hash of
 * the number of elements and of their digests summed modulo 2^128: a sum does not depend on the
 * order of imports, so equal content gives an equal version whatever the backend or the order
 * the records came in, and it can be maintained incrementally.
 *
 * What a backend must maintain, inside the same transaction as the write it describes:
 * - a stored `VersionState` (start from `EMPTY_VERSION_STATE`);
 * - for each record inserted: `addElement(state, recordElement(id))`;
 * - for each profile, model card or declaration written: `removeElement` of the element of the
 *   body it replaces (if any), then `addElement` of the element of the new body, both from
 *   `profileElement` / `modelElement` / `declarationElement` over the canonical JSON stored;
 * - `version()` returns `versionOf(state)` of the committed state.
 * A knowledge base written before the state existed computes it once with `contentState`.
 */
export interface VersionState {
  /** Number of elements. */
  count: number;
  /** Sum of the element digests modulo 2^128, as 32 hex digits. */
  sum: string;
}

export const EMPTY_VERSION_STATE: VersionState = { count: 0, sum: '0'.repeat(32) };

const MOD = 1n << 128n;

function digest(element: string): bigint {
  return BigInt(`0x${sha256(element).slice(0, 32)}`);
}

export const recordElement = (id: string): string => `record\t${id}`;
export const profileElement = (name: string, body: string): string => `profile\t${name}\t${body}`;
export const modelElement = (id: string, body: string): string => `model\t${id}\t${body}`;
export const declarationElement = (name: string, body: string): string =>
  `declaration\t${name}\t${body}`;

function shift(state: VersionState, elements: readonly string[], sign: 1n | -1n): VersionState {
  let sum = BigInt(`0x${state.sum}`);
  for (const e of elements) sum = (((sum + sign * digest(e)) % MOD) + MOD) % MOD;
  return {
    count: state.count + Number(sign) * elements.length,
    sum: sum.toString(16).padStart(32, '0'),
  };
}

/** The state with `elements` added (each must not be in it already). */
export function addElements(state: VersionState, elements: readonly string[]): VersionState {
  return shift(state, elements, 1n);
}

/** The state with `elements` removed (each must be in it). */
export function removeElements(state: VersionState, elements: readonly string[]): VersionState {
  return shift(state, elements, -1n);
}

/** The version a state stands for. */
export function versionOf(state: VersionState): string {
  return sha256(`metallmix-content/2\n${state.count}\n${state.sum}`).slice(0, 16);
}

export interface Content {
  recordIds: readonly string[];
  profiles: readonly DatasetProfile[];
  models: readonly ModelCard[];
  hyperparameters: readonly DeclaredHyperparameter[];
}

/** The state of some content, computed from all of it (for a migration or a check). */
export function contentState(content: Content): VersionState {
  return addElements(EMPTY_VERSION_STATE, [
    ...content.recordIds.map(recordElement),
    ...content.profiles.map((p) => profileElement(p.name, canonicalJson(p))),
    ...content.models.map((m) => modelElement(m.id, canonicalJson(m))),
    ...content.hyperparameters.map((h) => declarationElement(h.name, canonicalJson(h))),
  ]);
}

/** The version of some content, computed from all of it: what an up-to-date state gives. */
export function contentVersion(content: Content): string {
  return versionOf(contentState(content));
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
