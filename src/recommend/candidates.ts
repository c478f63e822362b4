// The candidates a recommendation chooses among. A knowledge base may join several sources
// (MedMNIST's adaptation-depth grid, Quick-Tune's 30-parameter space): a candidate is only ever
// a configuration some source defines for that model, never a cross of one source's models with
// another's hyperparameters.
//   - Usable runs: finished, with the metric, on a profiled dataset (what the meta-learner
//     trains on). A model without usable runs is never a candidate.
//   - Families: sources that use the same hyperparameters form one family; each family has its
//     own search space (the declared types and conditions, the values and ranges its runs
//     cover). A model's candidates come from the families it was run in, over the parameters
//     its own runs set.
//   - Support: when a family's runs were all on datasets unlike the one asked about (its
//     meta-features outside their range) and another family's cover it, the first family's
//     candidates are left out, with a notice: predictions there would be extrapolations.
//   - Size: at most `maxCandidates` generated (the full grid when it fits, seeded random draws
//     otherwise), plus at most MAX_PAST_CANDIDATES of the best past configurations, deduplicated.
//     A knowledge base of 100k runs no longer makes 100k candidates.
import {
  isActive,
  isLowerBetter,
  MetallmixError,
  type Candidate,
  type Config,
  type DatasetProfile,
  type Hyperparameter,
  type ParamValue,
  type Rng,
  type SearchSpace,
} from '../core/index.ts';
import { createHash } from 'node:crypto';
import { candidateKey, derived, headOf, lazyView, type Derive, type KbView } from './kb-view.ts';
import { minOf, pushAll } from '../core/arrays.ts';

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/** A parameter observed at this many distinct values or fewer is treated as a grid. */
const GRID_LIMIT = 12;
/** Generated candidates of one request when the caller sets no bound. */
export const DEFAULT_MAX_CANDIDATES = 600;
/** Past configurations added to the generated ones: the best by their mean effect per dataset. */
export const MAX_PAST_CANDIDATES = 200;

export interface CandidateOptions {
  /** Upper bound on generated candidates (past configurations come on top). */
  maxCandidates: number;
  rng: Rng;
}

type Support = { kind: 'grid'; values: ParamValue[] } | { kind: 'range'; param: Hyperparameter };

/** Distinct observed values per parameter, from past configurations. */
function observedValues(space: SearchSpace, configs: readonly Config[]): Map<string, ParamValue[]> {
  const out = new Map<string, Set<ParamValue>>();
  for (const p of space.parameters) out.set(p.name, new Set());
  for (const c of configs) for (const [k, v] of Object.entries(c)) out.get(k)?.add(v);
  return new Map(
    [...out].map(([k, s]) => [k, [...s].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))]),
  );
}

function supportOf(p: Hyperparameter, observed: ParamValue[]): Support {
  if (p.type === 'categorical')
    return { kind: 'grid', values: observed.length ? observed : p.choices };
  if (p.type === 'bool')
    return { kind: 'grid', values: observed.length ? observed : [false, true] };
  if (observed.length > 0 && observed.length <= GRID_LIMIT)
    return { kind: 'grid', values: observed };
  return { kind: 'range', param: p };
}

/** Parameters ordered so that every condition's parent comes before its children. */
export function parentsFirst(space: SearchSpace): Hyperparameter[] {
  const done = new Set<string>();
  const out: Hyperparameter[] = [];
  let pending = space.parameters.slice();
  while (pending.length) {
    const ready = pending.filter(
      (p) =>
        !p.condition ||
        done.has(p.condition.parent) ||
        !space.parameters.some((q) => q.name === p.condition!.parent),
    );
    if (ready.length === 0)
      throw new MetallmixError(
        `the search space's conditions form a cycle among ${pending.map((p) => p.name).join(', ')}`,
        { location: { field: 'hyperparameters' } },
      );
    for (const p of ready) {
      out.push(p);
      done.add(p.name);
    }
    pending = pending.filter((p) => !done.has(p.name));
  }
  return out;
}

function drawFromRange(p: Hyperparameter, rng: Rng): ParamValue {
  // Only numeric parameters get a range support (supportOf); this guard narrows the type.
  if (p.type !== 'float' && p.type !== 'int') throw new TypeError(`range draw for ${p.type}`);
  const v = p.log
    ? Math.exp(rng.uniform(Math.log(p.low), Math.log(p.high)))
    : rng.uniform(p.low, p.high);
  return p.type === 'int' ? Math.min(p.high, Math.max(p.low, Math.round(v))) : v;
}

/** All grid combinations, or undefined when some parameter is a continuous range or there are too many. */
function enumerateGrid(
  order: Hyperparameter[],
  supports: ReadonlyMap<string, Support>,
  limit: number,
): Config[] | undefined {
  let configs: Config[] = [{}];
  for (const p of order) {
    const s = supports.get(p.name)!;
    if (s.kind !== 'grid') return undefined;
    const next: Config[] = [];
    for (const c of configs) {
      if (!isActive(p, c)) next.push(c);
      else for (const v of s.values) next.push({ ...c, [p.name]: v });
      if (next.length > limit) return undefined;
    }
    configs = next;
  }
  return configs;
}

/**
 * Candidates for `models` over `space`: the full grid when it is small enough, random draws
 * otherwise, plus every (model, config) pair of `past`. Deterministic for the rng's seed.
 */
export function generateCandidates(
  space: SearchSpace,
  models: readonly string[],
  past: readonly Candidate[],
  options: CandidateOptions,
): Candidate[] {
  const out: Candidate[] = [];
  const seen = new Set<string>();
  const add = (model: string, config: Config) => {
    const key = candidateKey(model, config);
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ model, config });
  };
  const perModel = Math.max(1, Math.floor(options.maxCandidates / Math.max(1, models.length)));
  const observed = observedValues(
    space,
    past.map((c) => c.config),
  );
  const supports = supportsOf(space, observed);
  for (const model of models)
    for (const config of drawConfigs(
      space,
      supports,
      perModel,
      options.rng.fork(`candidates:${model}`),
    ))
      add(model, config);
  const modelSet = new Set(models);
  for (const c of past) if (modelSet.has(c.model)) add(c.model, c.config);
  return out;
}

/** Each parameter's support, from the values observed in past configurations. */
function supportsOf(
  space: SearchSpace,
  observed: ReadonlyMap<string, ParamValue[]>,
): Map<string, Support> {
  return new Map(space.parameters.map((p) => [p.name, supportOf(p, observed.get(p.name) ?? [])]));
}

/**
 * Up to `count` configurations over `space`, with each parameter's support (computed once by
 * the caller from the observed values: a pass over every past run).
 */
function drawConfigs(
  space: SearchSpace,
  supports: ReadonlyMap<string, Support>,
  count: number,
  rng: Rng,
): Config[] {
  const order = parentsFirst(space);
  const grid = enumerateGrid(order, supports, count);
  if (grid) return grid;
  const out: Config[] = [];
  for (let i = 0; i < count; i++) {
    const config: Config = {};
    for (const p of order) {
      if (!isActive(p, config)) continue;
      const s = supports.get(p.name)!;
      config[p.name] = s.kind === 'grid' ? rng.choice(s.values) : drawFromRange(s.param, rng);
    }
    out.push(config);
  }
  return out;
}

/** Parameters of `config` outside the range (or choices) the knowledge base has observed. */
export function extrapolatedParameters(space: SearchSpace, config: Config): string[] {
  const out: string[] = [];
  for (const p of space.parameters) {
    const v = config[p.name];
    if (v === undefined) continue;
    if (
      (p.type === 'float' || p.type === 'int') &&
      typeof v === 'number' &&
      (v < p.low || v > p.high)
    )
      out.push(p.name);
    if (p.type === 'categorical' && !p.choices.includes(v)) out.push(p.name);
  }
  return out;
}

/** What candidate generation reads of a knowledge-base view. */
export interface CandidateView {
  space: SearchSpace;
  records: readonly {
    dataset: string;
    model: string;
    config: Config;
    status: string;
    metrics?: Record<string, number>;
    count?: number;
    provenance?: { source: string };
  }[];
  profiles?: ReadonlyMap<string, DatasetProfile>;
  /** With `derive`: the plan of the candidates is kept under this content version. */
  version?: string;
  derive?: Derive;
}

type ViewRecord = CandidateView['records'][number];

export interface CandidateRequest {
  /** Runs without this metric are not usable (the meta-learner cannot learn from them). */
  metric?: string;
  maxCandidates?: number;
  rng: Rng;
}

/** One family: sources that set the same hyperparameters, with their usable runs. */
interface Family {
  params: string[];
  records: ViewRecord[];
  sources: string[];
}

function usableRecords(view: CandidateView, metric: string | undefined): ViewRecord[] {
  return view.records.filter(
    (r) =>
      r.status === 'finished' &&
      (metric === undefined || Number.isFinite(r.metrics?.[metric])) &&
      (view.profiles === undefined || view.profiles.has(r.dataset)),
  );
}

/** Sources grouped by the set of hyperparameters their runs set (one family per set). */
function familiesOf(records: readonly ViewRecord[]): Family[] {
  const bySource = new Map<string, { params: Set<string>; records: ViewRecord[] }>();
  for (const r of records) {
    const source = r.provenance?.source ?? '';
    let s = bySource.get(source);
    if (!s) bySource.set(source, (s = { params: new Set(), records: [] }));
    for (const k of Object.keys(r.config)) s.params.add(k);
    s.records.push(r);
  }
  const families = new Map<string, Family>();
  for (const [source, s] of [...bySource].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const params = [...s.params].sort();
    const key = params.join('\u0000');
    const f = families.get(key);
    if (f) {
      pushAll(f.records, s.records);
      f.sources.push(source);
    } else families.set(key, { params, records: s.records.slice(), sources: [source] });
  }
  return [...families.values()];
}

/**
 * What some records' configurations took for one parameter: how many set it, the range of its
 * numeric values, the categorical values seen (as `type:value`). Stats of disjoint record sets
 * merge into those of their union, so a space over some sources needs no pass over records.
 */
interface ParamStats {
  n: number;
  low?: number;
  high?: number;
  seen?: string[];
}
type SpaceStats = Record<string, ParamStats>;

const seenKey = (v: ParamValue) => `${typeof v}:${String(v)}`;

function statsOf(
  space: SearchSpace,
  names: ReadonlySet<string>,
  records: readonly ViewRecord[],
): SpaceStats {
  const out: SpaceStats = {};
  for (const p of space.parameters) {
    if (!names.has(p.name)) continue;
    let n = 0;
    let low = Infinity;
    let high = -Infinity;
    const seen = p.type === 'categorical' ? new Set<string>() : undefined;
    for (const r of records) {
      const v = r.config[p.name];
      if (v === undefined) continue;
      n++;
      if (typeof v === 'number') {
        if (v < low) low = v;
        if (v > high) high = v;
      }
      seen?.add(seenKey(v));
    }
    if (n > 0)
      out[p.name] = {
        n,
        ...(low <= high ? { low, high } : {}),
        ...(seen ? { seen: [...seen].sort() } : {}),
      };
  }
  return out;
}

function mergeStats(parts: readonly SpaceStats[]): SpaceStats {
  const out: SpaceStats = {};
  for (const part of parts)
    for (const [name, st] of Object.entries(part)) {
      const m = out[name];
      if (!m) {
        out[name] = { ...st };
        continue;
      }
      m.n += st.n;
      if (st.low !== undefined && st.high !== undefined) {
        m.low = m.low === undefined ? st.low : Math.min(m.low, st.low);
        m.high = m.high === undefined ? st.high : Math.max(m.high, st.high);
      }
      if (st.seen) m.seen = [...new Set([...(m.seen ?? []), ...st.seen])].sort();
    }
  return out;
}

/** The view's space restricted to `names`, with low/high and choices as the stats observed them. */
function spaceFromStats(
  space: SearchSpace,
  names: ReadonlySet<string>,
  stats: SpaceStats,
): SearchSpace {
  const parameters: Hyperparameter[] = [];
  for (const p of space.parameters) {
    if (!names.has(p.name)) continue;
    const st = stats[p.name];
    if (!st) continue;
    const condition = p.condition && names.has(p.condition.parent) ? p.condition : undefined;
    const base = { ...p, condition };
    if (!condition) delete base.condition;
    if (p.type === 'float' || p.type === 'int') {
      if (st.low === undefined || st.high === undefined) continue;
      parameters.push({
        ...base,
        type: p.type,
        low: st.low,
        high: st.high,
        log: p.log && st.low > 0,
      } as Hyperparameter);
    } else if (p.type === 'categorical') {
      const present = new Set(st.seen);
      const choices = p.choices.filter((c) => present.has(seenKey(c)));
      parameters.push({ ...base, choices: choices.length ? choices : p.choices } as Hyperparameter);
    } else parameters.push(base as Hyperparameter);
  }
  return { parameters };
}

/** The view's space restricted to `names`, with low/high and choices as `records` observed them. */
function spaceOver(
  space: SearchSpace,
  names: ReadonlySet<string>,
  records: readonly ViewRecord[],
): SearchSpace {
  return spaceFromStats(space, names, statsOf(space, names, records));
}

/** Meta-features compared for support, as numbers (the image side is the geometric mean). */
const SUPPORT_FEATURES: [name: string, get: (p: DatasetProfile) => number | undefined][] = [
  ['images', (p) => p.numInstances],
  ['classes', (p) => p.numClasses],
  [
    'image side (px)',
    (p) =>
      p.resolution ? Math.sqrt(p.resolution.medianWidth * p.resolution.medianHeight) : undefined,
  ],
  ['channels', (p) => p.channels],
];

/** The ways `profile` lies outside the datasets (names) some runs were on. */
function outsideOf(
  profile: DatasetProfile,
  names: readonly string[],
  profiles: ReadonlyMap<string, DatasetProfile>,
): string[] {
  const datasets = names
    .map((d) => profiles.get(d))
    .filter((p): p is DatasetProfile => p !== undefined);
  const out: string[] = [];
  for (const [name, get] of SUPPORT_FEATURES) {
    const x = get(profile);
    const seen = datasets.map(get).filter((v): v is number => v !== undefined);
    if (x === undefined || seen.length === 0) continue;
    let low = Infinity;
    let high = -Infinity;
    for (const v of seen) {
      if (v < low) low = v;
      if (v > high) high = v;
    }
    if (x < low || x > high)
      out.push(`${name} ${fmt(x)} outside ${fmt(low)}${low === high ? '' : ` to ${fmt(high)}`}`);
  }
  const modalities = new Set(datasets.map((p) => p.modality));
  if (profile.modality !== 'unknown' && !modalities.has(profile.modality))
    out.push(`modality ${profile.modality} not among ${[...modalities].sort().join(', ')}`);
  return out;
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));

/**
 * The best past configurations (by mean effect: the metric minus its dataset's mean run,
 * averaged over the datasets it ran on), at most `limit`; all of them when no metric is given.
 */
function bestPast(records: readonly ViewRecord[], metric: string | undefined, limit: number) {
  const byKey = new Map<string, { c: Candidate; sum: number; n: number }>();
  if (metric === undefined) {
    for (const r of records) {
      const key = candidateKey(r.model, r.config);
      if (!byKey.has(key))
        byKey.set(key, { c: { model: r.model, config: r.config }, sum: 0, n: 1 });
    }
    return [...byKey.values()].slice(0, limit).map((e) => e.c);
  }
  const sign = isLowerBetter(metric) ? -1 : 1;
  const means = new Map<string, { s: number; w: number }>();
  for (const r of records) {
    const m = means.get(r.dataset) ?? { s: 0, w: 0 };
    m.s += r.metrics![metric] * (r.count ?? 1);
    m.w += r.count ?? 1;
    means.set(r.dataset, m);
  }
  for (const r of records) {
    const key = candidateKey(r.model, r.config);
    const m = means.get(r.dataset)!;
    const effect = sign * (r.metrics![metric] - m.s / m.w);
    const e = byKey.get(key);
    if (e) {
      e.sum += effect;
      e.n++;
    } else byKey.set(key, { c: { model: r.model, config: r.config }, sum: effect, n: 1 });
  }
  return [...byKey.entries()]
    .sort(([ka, a], [kb, b]) => b.sum / b.n - a.sum / a.n || (ka < kb ? -1 : ka > kb ? 1 : 0))
    .slice(0, limit)
    .map(([, e]) => e.c);
}

/** Where one family's model draws its generated candidates: its parameters, each with its support. */
interface PlanPair {
  /** The family's parameters (they name the pair's random stream). */
  family: string[];
  model: string;
  space: SearchSpace;
  supports: [string, Support][];
}

/**
 * What the candidates of a request are drawn from, as plain data: a pass over the usable runs
 * made once per content version and metric (and kept with the view when it has a store), so a
 * cached recommendation draws its candidates without reading a record.
 */
export interface CandidatePlan {
  pairs: PlanPair[];
  /** The best past configurations (bestPast), at most MAX_PAST_CANDIDATES. */
  past: Candidate[];
}

/** Bumped when a plan's content or meaning changes, so kept plans of older code are not reused. */
const PLAN_FORMAT = 1;

export function candidatePlan(view: CandidateView, metric: string | undefined): CandidatePlan {
  const usable = usableRecords(view, metric);
  const families = familiesOf(usable);
  const pairs: PlanPair[] = [];
  for (const f of families) {
    // The parameters each model's runs set, in one pass over the family's runs.
    const byModel = new Map<string, Set<string>>();
    let last: { model: string; names: Set<string> } | undefined;
    for (const r of f.records) {
      if (last?.model !== r.model) {
        let names = byModel.get(r.model);
        if (!names) byModel.set(r.model, (names = new Set()));
        last = { model: r.model, names };
      }
      for (const k of Object.keys(r.config)) last.names.add(k);
    }
    // The family's space and the values its runs took, once for all of its models.
    const space = spaceOver(view.space, new Set(f.params), f.records);
    const observed = observedValues(
      space,
      f.records.map((r) => r.config),
    );
    for (const model of [...byModel.keys()].sort()) {
      const names = byModel.get(model)!;
      const modelSpace = { parameters: space.parameters.filter((p) => names.has(p.name)) };
      pairs.push({
        family: f.params,
        model,
        space: modelSpace,
        supports: [...supportsOf(modelSpace, observed)],
      });
    }
  }
  return { pairs, past: bestPast(usable, metric, MAX_PAST_CANDIDATES) };
}

/**
 * The candidates of a plan: per family and model, generated configurations over the family's
 * space (the budget shared equally), plus the best past ones, deduplicated.
 */
export function drawCandidates(plan: CandidatePlan, rng: Rng, maxCandidates: number): Candidate[] {
  const perPair = Math.max(1, Math.floor(maxCandidates / Math.max(1, plan.pairs.length)));
  const out: Candidate[] = [];
  const seen = new Set<string>();
  const add = (c: Candidate) => {
    const key = candidateKey(c.model, c.config);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(c);
  };
  for (const pair of plan.pairs) {
    const pairRng = rng.fork(`candidates:${pair.family.join(',')}:${pair.model}`);
    for (const config of drawConfigs(pair.space, new Map(pair.supports), perPair, pairRng))
      add({ model: pair.model, config });
  }
  for (const c of plan.past) add(c);
  return out;
}

/** The candidates of one request from a knowledge-base view (its plan kept when it has a store). */
export function candidatesFor(view: CandidateView, request: CandidateRequest): Candidate[] {
  const plan = derived(
    view,
    'candidate-plans',
    { format: PLAN_FORMAT, metric: request.metric ?? null },
    () => candidatePlan(view, request.metric),
  );
  return drawCandidates(plan, request.rng, request.maxCandidates ?? DEFAULT_MAX_CANDIDATES);
}

/** What supportedView reads of a family: its sources, parameters, models and datasets. */
interface FamilyFacts {
  params: string[];
  sources: string[];
  models: string[];
  datasets: string[];
}

/**
 * The families of a view's usable runs and, when there are several, the stats of every source's
 * records (usable or not): enough to cut the supported view without a pass over the records.
 */
interface SupportFacts {
  families: FamilyFacts[];
  sources?: [string, SpaceStats][];
}

const SUPPORT_FORMAT = 1;

function supportFacts(view: KbView, metric: string): SupportFacts {
  const families = familiesOf(usableRecords(view, metric)).map((f): FamilyFacts => ({
    params: f.params,
    sources: f.sources,
    models: [...new Set(f.records.map((r) => r.model))].sort(),
    datasets: [...new Set(f.records.map((r) => r.dataset))].sort(),
  }));
  if (families.length < 2) return { families };
  const bySource = new Map<string, ViewRecord[]>();
  for (const r of view.records) {
    const list = bySource.get(r.provenance.source);
    if (list) list.push(r);
    else bySource.set(r.provenance.source, [r]);
  }
  const names = new Set(view.space.parameters.map((p) => p.name));
  return {
    families,
    sources: [...bySource].map(([source, records]) => [
      source,
      statsOf(view.space, names, records),
    ]),
  };
}

/**
 * The part of a view that can speak to `profile`: when the knowledge base joins families of
 * sources and some family's runs cover the dataset's meta-features better than the others, only
 * the best-covering families' runs are kept (for the candidates, the meta-learner and the
 * evidence alike), with a notice per family left out. A view of one family is returned as is.
 * The families are derived once per content version and metric (kept when the view has a
 * store), and the records of the cut view are read only when a caller needs them.
 */
export function supportedView(
  view: KbView,
  profile: DatasetProfile,
  metric: string,
): { view: KbView; notices: string[] } {
  const facts = derived(view, 'support-facts', { format: SUPPORT_FORMAT, metric }, () =>
    supportFacts(view, metric),
  );
  const families = facts.families;
  if (families.length < 2) return { view, notices: [] };
  const outside = families.map((f) => outsideOf(profile, f.datasets, view.profiles));
  const fewest = minOf(outside.map((o) => o.length));
  const left = families.flatMap((f, i) =>
    outside[i].length > fewest ? [{ f, why: outside[i] }] : [],
  );
  if (left.length === 0) return { view, notices: [] };
  const notices = left.map(({ f, why }) => {
    const models = f.models;
    return `The runs of ${models.length} model(s) (${models.slice(0, 3).join(', ')}${models.length > 3 ? ', ...' : ''}; from ${f.sources.map((s) => s.split('/').pop()).join(', ')}) were left out: they ran on datasets unlike this one (${why.join('; ')}), so the meta-learner cannot support predictions for them here.`;
  });
  const dropped = new Set(left.flatMap(({ f }) => f.sources));
  const kept = (facts.sources ?? []).filter(([s]) => !dropped.has(s)).map(([, st]) => st);
  const names = new Set(view.space.parameters.map((p) => p.name));
  return {
    view: lazyView(
      {
        ...headOf(view),
        label: `${view.label} (the runs that cover this dataset)`,
        // A view of other content: its own version, so cached meta-learners never mix them up.
        version: `${view.version}-${sha256Hex([...dropped].sort().join('\n')).slice(0, 8)}`,
        space: spaceFromStats(view.space, names, mergeStats(kept)),
      },
      () => view.records.filter((r) => !dropped.has(r.provenance.source)),
    ),
    notices,
  };
}

/** Candidates of one request: the caller's list, or generated from the knowledge-base view. */
export function candidatesForRequest(
  view: CandidateView,
  given: readonly Candidate[] | undefined,
  rng: Rng,
  maxCandidates = DEFAULT_MAX_CANDIDATES,
): Candidate[] {
  if (given) return given.slice();
  return candidatesFor(view, { rng, maxCandidates });
}
