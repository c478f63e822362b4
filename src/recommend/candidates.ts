// The candidates a recommendation chooses among: the models the knowledge base has runs for,
// crossed with the hyperparameter space it covers. Parameters observed at only a few values
// (a design grid such as unfreeze 20/40/60) are enumerated on those values; wider ones are
// sampled densely inside their observed range. Past configurations are always candidates.
import {
  isActive,
  MetallmixError,
  type Candidate,
  type Config,
  type Hyperparameter,
  type ParamValue,
  type Rng,
  type SearchSpace,
} from '../core/index.ts';
import { candidateKey } from './kb-view.ts';

/** A parameter observed at this many distinct values or fewer is treated as a grid. */
const GRID_LIMIT = 12;

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
  supports: Map<string, Support>,
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
 * otherwise, plus every past (model, config) pair. Deterministic for the rng's seed.
 */
export function generateCandidates(
  space: SearchSpace,
  models: readonly string[],
  past: readonly Candidate[],
  options: CandidateOptions,
): Candidate[] {
  const observed = observedValues(
    space,
    past.map((c) => c.config),
  );
  const supports = new Map(
    space.parameters.map((p) => [p.name, supportOf(p, observed.get(p.name) ?? [])]),
  );
  const order = parentsFirst(space);
  const perModel = Math.max(1, Math.floor(options.maxCandidates / Math.max(1, models.length)));
  const grid = enumerateGrid(order, supports, perModel);
  const seen = new Set<string>();
  const out: Candidate[] = [];
  const add = (model: string, config: Config) => {
    const key = candidateKey(model, config);
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ model, config });
  };
  for (const model of models) {
    if (grid) {
      for (const config of grid) add(model, config);
      continue;
    }
    const rng = options.rng.fork(`candidates:${model}`);
    for (let i = 0; i < perModel; i++) {
      const config: Config = {};
      for (const p of order) {
        if (!isActive(p, config)) continue;
        const s = supports.get(p.name)!;
        config[p.name] = s.kind === 'grid' ? rng.choice(s.values) : drawFromRange(s.param, rng);
      }
      add(model, config);
    }
  }
  const modelSet = new Set(models);
  for (const c of past) if (modelSet.has(c.model)) add(c.model, c.config);
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

/** Candidates of one request: the caller's list, or generated from the knowledge-base view. */
export function candidatesForRequest(
  view: {
    space: SearchSpace;
    records: readonly { model: string; config: Config; status: string }[];
  },
  given: readonly Candidate[] | undefined,
  rng: Rng,
  maxCandidates = 600,
): Candidate[] {
  if (given) return given.slice();
  const finished = view.records.filter((r) => r.status === 'finished');
  const models = [...new Set(finished.map((r) => r.model))].sort();
  return generateCandidates(view.space, models, finished, { maxCandidates, rng });
}
