import {
  configKey,
  isLowerBetter,
  type Config,
  type DatasetProfile,
  type ExperimentRecord,
  type ModelCard,
  type SearchSpace,
} from '../core/index.ts';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../store/fingerprint.ts';
import {
  catalogCardFor,
  searchSpaceOf,
  type KbSnapshot,
  type StoredRecord,
} from '../store/index.ts';

/**
 * What a request checks and reports about a knowledge base without reading its records: counts,
 * the models with finished runs, and for each metric how many finished runs record it and on
 * how many profiled datasets.
 */
export interface KbSummary {
  records: number;
  datasets: number;
  finishedRuns: number;
  /** Models with at least one finished run, sorted. */
  finishedModels: string[];
  metrics: Record<string, { runs: number; profiledDatasets: number }>;
}

/**
 * The slice of a knowledge base a recommender is fitted on: everything for `recommend`, all but
 * the held-out dataset in the leave-one-dataset-out benchmark. Everything but `records` is small
 * (profiles, cards, space, summary); `records` may be read from disk on first use (a view loaded
 * from the cache, see recommend/cache.ts), so code that can answer from the rest should.
 */
export interface KbView {
  /** The knowledge base's label, and for a benchmark fold what was held out. */
  label: string;
  version: string;
  readonly records: StoredRecord[];
  profiles: Map<string, DatasetProfile>;
  /** The knowledge base's cards, plus shipped catalog cards for models it has none for. */
  cards: Map<string, ModelCard>;
  /** Models whose card came from the shipped catalog (data/model-catalog), sorted. */
  catalogCards: string[];
  space: SearchSpace;
  summary: KbSummary;
  /**
   * Where values derived from the records are kept between calls (the cache directory of a
   * view loaded by recommend/cache.ts); absent: they are computed on every call.
   */
  derive?: Derive;
}

/** Bytes of a derived value and back (undefined: not bytes this code wrote). */
export interface Codec<T> {
  encode(value: T): Buffer;
  decode(bytes: Buffer): T | undefined;
}

/**
 * Keeps `compute()` (data derived from a view's records: JSON, or bytes through `codec`) under
 * the view's content version, `kind` and `key`, and returns the kept value when there is one.
 */
export type Derive = <T>(
  kind: string,
  version: string,
  key: unknown,
  compute: () => T,
  codec?: Codec<T>,
) => T;

/**
 * A value derived from a view's records, computed once per content version when the view has a
 * store (a cached recommendation then reads no records). Keyed by the version at the call, so
 * a view of other content (a fold, the supported part of a view) never meets another's values.
 */
export function derived<T>(
  view: { version?: string; derive?: Derive },
  kind: string,
  key: unknown,
  compute: () => T,
  codec?: Codec<T>,
): T {
  return view.derive && view.version !== undefined
    ? view.derive(kind, view.version, key, compute, codec)
    : compute();
}

/** One distinct configuration run on one dataset, averaged over its seeds / repeated runs. */
export interface AggregatedRun {
  dataset: string;
  model: string;
  config: Config;
  key: string;
  /** Mean metric (fraction) over the runs. */
  value: number;
  /** Mean training time in seconds, when known. */
  timeSec?: number;
  runs: number;
  recordIds: string[];
}

/**
 * Canonical texts of configurations already keyed: a request keys each candidate several times
 * (deduplication, the portfolio's and the neighbours' lookups). Configurations are values: no
 * code changes one after it is built.
 */
const configKeys = new WeakMap<Config, string>();

/** Canonical text of a model + config, equal for equal candidates whatever the key order. */
export function candidateKey(model: string, config: Config): string {
  let key = configKeys.get(config);
  if (key === undefined) configKeys.set(config, (key = configKey(config)));
  return `${model}|${key}`;
}

/**
 * Finished runs with the metric, grouped by dataset x model x config and averaged (weighted by
 * the record's count, so aggregated records such as means over seeds weigh as their runs).
 */
export function aggregateRuns(
  records: readonly ExperimentRecord[],
  metric: string,
): AggregatedRun[] {
  const groups = new Map<
    string,
    { run: AggregatedRun; wSum: number; vSum: number; tSum: number; tW: number }
  >();
  for (const r of records as (ExperimentRecord & { id?: string })[]) {
    const v = r.metrics[metric];
    if (r.status !== 'finished' || v === undefined || !Number.isFinite(v)) continue;
    const key = candidateKey(r.model, r.config);
    const gk = `${r.dataset}\u0000${key}`;
    const w = r.count ?? 1;
    let g = groups.get(gk);
    if (!g) {
      g = {
        run: {
          dataset: r.dataset,
          model: r.model,
          config: r.config,
          key,
          value: 0,
          runs: 0,
          recordIds: [],
        },
        wSum: 0,
        vSum: 0,
        tSum: 0,
        tW: 0,
      };
      groups.set(gk, g);
    }
    g.wSum += w;
    g.vSum += w * v;
    g.run.runs += w;
    if (r.id) g.run.recordIds.push(r.id);
    const t = r.cost?.trainingTimeSec;
    if (t !== undefined && Number.isFinite(t)) {
      g.tSum += w * t;
      g.tW += w;
    }
  }
  return [...groups.values()].map((g) => ({
    ...g.run,
    value: g.vSum / g.wSum,
    ...(g.tW > 0 ? { timeSec: g.tSum / g.tW } : {}),
  }));
}

/** Aggregated runs per view and metric, computed once (a benchmark asks for them per method and seed). */
const runsMemo = new WeakMap<KbView, Map<string, readonly AggregatedRun[]>>();
/** A fold's view and the view and dataset it was cut from: its runs are the parent's minus that dataset's. */
const cutFrom = new WeakMap<KbView, { parent: KbView; dataset: string }>();

/**
 * aggregateRuns(view.records, metric), computed once per view and metric and shared: callers
 * must not change what they get. A view without one dataset filters its parent's runs, which
 * gives the same runs in the same order (aggregation never mixes datasets).
 */
export function runsOf(view: KbView, metric: string): readonly AggregatedRun[] {
  let byMetric = runsMemo.get(view);
  if (!byMetric) runsMemo.set(view, (byMetric = new Map()));
  let runs = byMetric.get(metric);
  if (!runs) {
    const cut = cutFrom.get(view);
    runs = cut
      ? runsOf(cut.parent, metric).filter((r) => r.dataset !== cut.dataset)
      : aggregateRuns(view.records, metric);
    byMetric.set(metric, runs);
  }
  return runs;
}

/** Sign that turns "larger is better" into a maximization for any metric. */
export function metricSign(metric: string): 1 | -1 {
  return isLowerBetter(metric) ? -1 : 1;
}

/** Scale from stored values to the points users read (accuracy 0.91 -> 91 points; losses as is). */
export function metricScale(metric: string): number {
  return isLowerBetter(metric) ? 1 : 100;
}

/** A metric value as users read it: points for scores (0.913 -> "91.3"), three decimals for losses. */
export function formatMetricValue(metric: string, value: number): string {
  return metricScale(metric) === 100 ? (value * 100).toFixed(1) : value.toFixed(3);
}

/** Records grouped by dataset name. */
export function byDataset<T extends { dataset: string }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const list = out.get(it.dataset);
    if (list) list.push(it);
    else out.set(it.dataset, [it]);
  }
  return out;
}

/** The summary of some records, given the profiled datasets. */
export function summarize(
  records: readonly ExperimentRecord[],
  profiles: ReadonlyMap<string, DatasetProfile>,
): KbSummary {
  const datasets = new Set<string>();
  const models = new Set<string>();
  const metrics = new Map<string, { runs: number; datasets: Set<string> }>();
  let finishedRuns = 0;
  for (const r of records) {
    datasets.add(r.dataset);
    if (r.status !== 'finished') continue;
    finishedRuns++;
    models.add(r.model);
    for (const m of Object.keys(r.metrics)) {
      let entry = metrics.get(m);
      if (!entry) metrics.set(m, (entry = { runs: 0, datasets: new Set() }));
      entry.runs++;
      if (profiles.has(r.dataset)) entry.datasets.add(r.dataset);
    }
  }
  return {
    records: records.length,
    datasets: datasets.size,
    finishedRuns,
    finishedModels: [...models].sort(),
    metrics: Object.fromEntries(
      [...metrics].map(([m, e]) => [m, { runs: e.runs, profiledDatasets: e.datasets.size }]),
    ),
  };
}

/** The parts of a view other than its records. */
export type ViewHead = Omit<KbView, 'records'>;

/** A view whose records are read by `load` on first use, once. */
export function lazyView(head: ViewHead, load: () => StoredRecord[]): KbView {
  let records: StoredRecord[] | undefined;
  return {
    ...head,
    get records() {
      return (records ??= load());
    },
  };
}

/** The view's parts other than its records, read without touching them (a spread would). */
export function headOf(view: KbView): ViewHead {
  const { label, version, profiles, cards, catalogCards, space, summary, derive } = view;
  return { label, version, profiles, cards, catalogCards, space, summary, derive };
}

/**
 * The same content under another label and version (the answer names the knowledge base the
 * view was cut from); derived values stay keyed by the content's own version.
 */
export function renamedView(view: KbView, label: string, version: string): KbView {
  const { derive } = view;
  return lazyView(
    {
      ...headOf(view),
      label,
      version,
      derive:
        derive &&
        ((kind, _version, key, compute, codec) => derive(kind, view.version, key, compute, codec)),
    },
    () => view.records,
  );
}

/**
 * The view of a whole knowledge base (what `recommend` fits on), from one consistent snapshot.
 * Models without a card in the knowledge base get the shipped catalog's card when it knows them
 * (a card the knowledge base has is never replaced); the version then says so, so that cached
 * meta-learners and indexes built without those cards are not reused.
 */
export function viewOf(snapshot: KbSnapshot, label: string): KbView {
  const profiles = new Map(snapshot.profiles.map((p) => [p.name, p]));
  const cards = new Map(snapshot.models.map((c) => [c.id, c]));
  const catalogCards: string[] = [];
  for (const model of [...new Set(snapshot.records.map((r) => r.model))].sort()) {
    if (cards.has(model)) continue;
    const card = catalogCardFor(model);
    if (!card) continue;
    cards.set(model, card);
    catalogCards.push(model);
  }
  const version = catalogCards.length
    ? `${snapshot.version}+catalog.${createHash('sha256')
        .update(JSON.stringify(catalogCards.map((m) => cards.get(m))))
        .digest('hex')
        .slice(0, 8)}`
    : snapshot.version;
  return {
    label,
    version,
    records: snapshot.records,
    profiles,
    cards,
    catalogCards,
    space: searchSpaceOf(snapshot.hyperparameters, snapshot.records),
    summary: summarize(snapshot.records, profiles),
  };
}

/**
 * A version named by the content itself: record ids are hashes of what the records say
 * (store/fingerprint.ts), so equal content gives an equal version whatever it was cut from. A
 * continued dataset's training view then keeps its version while its own trials are added to the
 * knowledge base, and its cached meta-learner, validation and index stay valid from trial to trial.
 */
function contentVersion(
  records: readonly StoredRecord[],
  profiles: ReadonlyMap<string, DatasetProfile>,
  view: KbView,
): string {
  const hash = createHash('sha256');
  for (const r of records) hash.update(r.id).update('\n');
  hash.update(
    canonicalJson({
      profiles: Object.fromEntries(profiles),
      cards: Object.fromEntries(view.cards),
      space: view.space,
    }),
  );
  return `cut.${hash.digest('hex').slice(0, 20)}`;
}

/** The view without one dataset (a benchmark fold's training view); the space is kept whole. */
export function withoutDataset(view: KbView, dataset: string): KbView {
  const records = view.records.filter((r) => r.dataset !== dataset);
  const profiles = new Map(view.profiles);
  profiles.delete(dataset);
  const fold: KbView = {
    label: `${view.label} without ${dataset}`,
    version: contentVersion(records, profiles, view),
    records,
    profiles,
    cards: view.cards,
    catalogCards: view.catalogCards,
    space: view.space,
    summary: summarize(records, profiles),
  };
  cutFrom.set(fold, { parent: view, dataset });
  return fold;
}
