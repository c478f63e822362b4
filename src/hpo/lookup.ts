// HPO on lookup objectives (HPO-B style): a problem is the list of configurations actually run
// on one dataset, with their results, and a method may only evaluate those. Samplers that
// propose points of the continuous space (random search, TPE) are snapped to the nearest
// candidate not evaluated yet, by this normalized distance:
//   - numeric parameters: position in [0, 1] between low and high (on the log scale for log
//     parameters), squared difference;
//   - categorical and bool parameters: one-hot vectors scaled by 1/sqrt(2), so a mismatch
//     counts 1, as much as the two ends of a numeric range;
//   - a parameter active in one config and inactive in the other counts 1, inactive in both 0.
// Ties go to the candidate listed first. The history then holds the evaluated candidate's
// configuration, so the sampler learns from what was really run.
import { z } from 'zod';
import { MetallmixError } from '../core/errors.ts';
import { Rng } from '../core/rng.ts';
import { Config, configKey, configViolations, SearchSpace } from '../core/search-space.ts';
import { parseWith } from '../core/validate.ts';
import {
  incumbent,
  runHyperband,
  runSuccessiveHalving,
  type MultiFidelityOptions,
} from './hyperband.ts';
import { RandomSampler } from './random-sampler.ts';
import { choicesOf, orderedParameters, toInternal, type NumericParam } from './space.ts';
import { Study } from './study.ts';
import { TpeSampler, type TpeOptions } from './tpe-sampler.ts';
import { isBetter, type Direction, type Sampler, type Trial } from './types.ts';
import { maxOf, minOf } from '../core/arrays.ts';

export const CurvePointSchema = z.object({ budget: z.number().positive(), value: z.number() });

export const LookupCandidate = z.object({
  config: Config,
  value: z.number(),
  costSec: z.number().nonnegative().optional(),
  /** Results at lower budgets (e.g. per epoch), for successive halving and Hyperband. */
  curve: z.array(CurvePointSchema).optional(),
});
export type LookupCandidate = z.infer<typeof LookupCandidate>;

export const LookupProblem = z.object({
  name: z.string().min(1),
  space: SearchSpace,
  /** Maximize by default (accuracy-like values). */
  direction: z.enum(['maximize', 'minimize']).optional(),
  candidates: z.array(LookupCandidate).min(1),
});
export type LookupProblem = z.infer<typeof LookupProblem>;

export const LOOKUP_METHODS = [
  'random',
  'uniform',
  'tpe',
  'successive-halving',
  'hyperband',
] as const;
export type LookupMethod = (typeof LOOKUP_METHODS)[number];

export interface LookupEvaluation {
  candidate: number;
  value: number;
  budget?: number;
  /** In full-budget trials: 1 for a full evaluation, budget / maxBudget below it. */
  cost: number;
}

export interface LookupTrace {
  problem: string;
  method: LookupMethod;
  seed: number;
  /** Best value among all candidates: regret is measured from it. */
  bestValue: number;
  evaluations: LookupEvaluation[];
  /**
   * regrets[k - 1]: |bestValue - value of the incumbent| after k full-budget trials' worth of
   * evaluations. Before any evaluation the worst candidate stands as incumbent.
   */
  regrets: number[];
}

/** Coordinates for the snapping distance: numeric in [0, 1], categorical as choice index, NaN when inactive. */
export function encodeForDistance(space: SearchSpace, config: Config): number[] {
  return orderedParameters(space).map((p) => {
    const v = config[p.name];
    if (v === undefined) return NaN;
    if (p.type === 'float' || p.type === 'int') {
      const lo = toInternal(p, p.low);
      const hi = toInternal(p, p.high);
      return hi > lo ? (toInternal(p as NumericParam, v as number) - lo) / (hi - lo) : 0;
    }
    return choicesOf(p).indexOf(v);
  });
}

/** Which coordinates of `encodeForDistance` are numeric (the rest are choice indices). */
export function numericMask(space: SearchSpace): boolean[] {
  return orderedParameters(space).map((p) => p.type === 'float' || p.type === 'int');
}

export function snapDistance(numeric: readonly boolean[], a: number[], b: number[]): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (Number.isNaN(x) || Number.isNaN(y)) d += Number.isNaN(x) === Number.isNaN(y) ? 0 : 1;
    else if (numeric[i]) d += (x - y) ** 2;
    else d += x === y ? 0 : 1;
  }
  return Math.sqrt(d);
}

/** Checks a problem (schema, configs inside the space, no duplicate configs) and indexes it. */
export class LookupIndex {
  readonly problem: LookupProblem;
  readonly direction: Direction;
  readonly encoded: number[][];
  private readonly numeric: boolean[];
  private readonly byKey = new Map<string, number>();

  constructor(problem: unknown, source = 'lookup problem') {
    this.problem = parseWith(LookupProblem, problem, { file: source, what: 'lookup problem' });
    const { space, candidates, name } = this.problem;
    orderedParameters(space);
    this.direction = this.problem.direction ?? 'maximize';
    candidates.forEach((c, i) => {
      const problems = configViolations(space, c.config);
      if (problems.length)
        throw new MetallmixError(`problem "${name}": ${problems.join('; ')}`, {
          location: { file: source, field: `candidates.${i}.config.${problems[0].split(':')[0]}` },
        });
      const key = configKey(c.config);
      const earlier = this.byKey.get(key);
      if (earlier !== undefined)
        throw new MetallmixError(
          `problem "${name}": candidates ${earlier} and ${i} have the same config (average them into one)`,
          { location: { file: source, field: `candidates.${i}.config` } },
        );
      this.byKey.set(key, i);
    });
    this.encoded = candidates.map((c) => encodeForDistance(space, c.config));
    this.numeric = numericMask(space);
  }

  indexOf(config: Config): number {
    const i = this.byKey.get(configKey(config));
    if (i === undefined) throw new Error('config is not a candidate of the lookup problem');
    return i;
  }

  /** The candidate nearest to `config` among those not in `used`, first listed on ties. */
  nearestUnused(config: Config, used: ReadonlySet<number>): number {
    const target = encodeForDistance(this.problem.space, config);
    let best = -1;
    let bestDistance = Infinity;
    this.encoded.forEach((e, i) => {
      if (used.has(i)) return;
      const d = snapDistance(this.numeric, target, e);
      if (d < bestDistance) {
        bestDistance = d;
        best = i;
      }
    });
    if (best < 0) throw new Error('every candidate has been evaluated');
    return best;
  }

  usedBy(history: readonly Trial[]): Set<number> {
    return new Set(history.map((t) => this.indexOf(t.config)));
  }
}

/** Wraps a sampler so its proposals become the nearest candidate not evaluated yet. */
export class SnappingSampler implements Sampler {
  readonly name: string;
  constructor(
    private readonly inner: Sampler,
    private readonly index: LookupIndex,
  ) {
    this.name = `${inner.name}+snap`;
  }
  suggest(space: SearchSpace, history: readonly Trial[], rng: Rng, direction: Direction): Config {
    const proposal = this.inner.suggest(space, history, rng, direction);
    const i = this.index.nearestUnused(proposal, this.index.usedBy(history));
    return { ...this.index.problem.candidates[i].config };
  }
}

/** Uniform pick among the candidates not evaluated yet (HPO-B's random search). */
export class UniformCandidateSampler implements Sampler {
  readonly name = 'uniform';
  constructor(private readonly index: LookupIndex) {}
  suggest(_space: SearchSpace, history: readonly Trial[], rng: Rng): Config {
    const used = this.index.usedBy(history);
    const free = this.index.problem.candidates.map((_, i) => i).filter((i) => !used.has(i));
    return { ...this.index.problem.candidates[rng.choice(free)].config };
  }
}

/** Value of a candidate at `budget`: the first curve point at or above it, else the final value. */
function valueAtBudget(c: LookupCandidate, budget: number): number {
  const points = [...(c.curve ?? [])].sort((a, b) => a.budget - b.budget);
  return points.find((p) => p.budget >= budget - 1e-9)?.value ?? c.value;
}

export interface LookupSearchOptions {
  tpe?: TpeOptions;
  /** Reduction factor of successive halving / Hyperband; 3 by default. */
  eta?: number;
}

/**
 * Runs `method` on a lookup problem for `nTrials` full-budget trials (capped at the number of
 * candidates) and returns the evaluated candidates and the regret after each trial.
 * Successive halving and Hyperband need a curve on every candidate; their budget runs from the
 * smallest to the largest curve budget, and an evaluation at budget b costs b / maxBudget trials.
 */
export function searchOnLookup(
  problem: LookupProblem | LookupIndex,
  method: LookupMethod,
  nTrials: number,
  seed: number,
  options: LookupSearchOptions = {},
): LookupTrace {
  const index = problem instanceof LookupIndex ? problem : new LookupIndex(problem);
  const { space, candidates, name } = index.problem;
  const direction = index.direction;
  const values = candidates.map((c) => c.value);
  const bestValue = pick(values, direction, true);
  const worstValue = pick(values, direction, false);
  const rng = new Rng(seed);
  const trials = Math.min(nTrials, candidates.length);
  const evaluations: LookupEvaluation[] = [];
  let incumbentAfter: (number | undefined)[];

  if (method === 'successive-halving' || method === 'hyperband') {
    const budgets = candidates.map((c, i) => {
      if (!c.curve?.length)
        throw new MetallmixError(
          `problem "${name}": ${method} needs per-budget results (a curve) on every candidate; candidate ${i} has none`,
          { location: { field: `candidates.${i}.curve` } },
        );
      return c.curve.map((p) => p.budget);
    });
    const maxBudget = maxOf(budgets.flat());
    const minBudget = minOf(budgets.flat());
    const mf: MultiFidelityOptions = {
      space,
      direction,
      rng,
      maxBudget,
      minBudget,
      eta: options.eta ?? 3,
      maxTotalBudget: nTrials * maxBudget,
      maxConfigs: candidates.length,
      sampler: new SnappingSampler(new RandomSampler(), index),
      objective: (config, budget) =>
        valueAtBudget(candidates[index.indexOf(config)], budget ?? maxBudget),
    };
    const result = method === 'hyperband' ? runHyperband(mf) : runSuccessiveHalving(mf);
    for (const t of result.evaluations) {
      const budget = t.budget ?? maxBudget;
      evaluations.push({
        candidate: index.indexOf(t.config),
        value: t.value,
        budget,
        cost: budget / maxBudget,
      });
    }
    incumbentAfter = spendSchedule(result.evaluations, nTrials, maxBudget, direction).map((t) =>
      t ? index.indexOf(t.config) : undefined,
    );
  } else {
    const inner =
      method === 'tpe'
        ? new TpeSampler(options.tpe)
        : method === 'random'
          ? new RandomSampler()
          : undefined;
    const sampler = inner ? new SnappingSampler(inner, index) : new UniformCandidateSampler(index);
    const study = new Study({ space, sampler, direction, rng });
    incumbentAfter = [];
    let best: number | undefined;
    for (let k = 0; k < trials; k++) {
      const { number, config } = study.ask();
      const i = index.indexOf(config);
      study.tell(number, candidates[i].value);
      evaluations.push({ candidate: i, value: candidates[i].value, cost: 1 });
      if (best === undefined || isBetter(candidates[i].value, candidates[best].value, direction))
        best = i;
      incumbentAfter.push(best);
    }
    while (incumbentAfter.length < nTrials) incumbentAfter.push(best);
  }
  const regrets = incumbentAfter.map((i) =>
    Math.abs(bestValue - (i === undefined ? worstValue : candidates[i].value)),
  );
  return { problem: name, method, seed, bestValue, evaluations, regrets };
}

/**
 * For multi-fidelity runs: the incumbent after k = 1..nTrials full-budget trials' worth of
 * evaluations (best at the highest budget reached within that spend).
 */
function spendSchedule(
  evaluations: readonly Trial[],
  nTrials: number,
  maxBudget: number,
  direction: Direction,
): (Trial | undefined)[] {
  const out: (Trial | undefined)[] = [];
  let spent = 0;
  let e = 0;
  for (let k = 1; k <= nTrials; k++) {
    while (e < evaluations.length) {
      const cost = (evaluations[e].budget ?? maxBudget) / maxBudget;
      if (spent + cost > k + 1e-9) break;
      spent += cost;
      e++;
    }
    out.push(incumbent(evaluations.slice(0, e), direction));
  }
  return out;
}

function pick(values: readonly number[], direction: Direction, best: boolean): number {
  const wantMax = (direction === 'maximize') === best;
  return wantMax ? maxOf(values) : minOf(values);
}
