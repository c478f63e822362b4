// Successive halving and Hyperband (Li et al. 2017) for objectives that can be evaluated at a
// lower budget (e.g. fewer epochs). New configurations come from a sampler (random by default,
// as in the paper); each rung keeps the best 1/eta of its configurations for the next budget.
import type { Rng } from '../core/rng.ts';
import type { Config, SearchSpace } from '../core/search-space.ts';
import { RandomSampler } from './random-sampler.ts';
import { orderedParameters } from './space.ts';
import { isBetter, type Direction, type Objective, type Sampler, type Trial } from './types.ts';

export interface Rung {
  nConfigs: number;
  budget: number;
}

/** One successive-halving run: `rungs[0]` starts the configurations, each next rung keeps fewer. */
export interface Bracket {
  s: number;
  rungs: Rung[];
}

export interface BudgetRange {
  maxBudget: number;
  /** Smallest budget worth evaluating at; 1 by default. */
  minBudget?: number;
  /** Reduction factor between rungs; 3 by default. */
  eta?: number;
}

// Guards floor/ceil against 3 ** 4 / 81 landing a hair below an integer.
const EPS = 1e-9;

function maxBracketIndex({ maxBudget, minBudget = 1, eta = 3 }: BudgetRange): number {
  if (!(maxBudget >= minBudget && minBudget > 0 && eta > 1))
    throw new RangeError(`need maxBudget >= minBudget > 0 and eta > 1`);
  return Math.floor(Math.log(maxBudget / minBudget) / Math.log(eta) + EPS);
}

function bracket(s: number, n: number, maxBudget: number, eta: number): Bracket {
  const rungs: Rung[] = [];
  for (let i = 0; i <= s; i++) {
    rungs.push({
      nConfigs: Math.floor(n / eta ** i + EPS),
      budget: maxBudget * eta ** (i - s),
    });
  }
  return { s, rungs };
}

/**
 * Hyperband's brackets from the most aggressive (s = s_max: many configurations, smallest
 * budget) to plain evaluation at the full budget (s = 0):
 * n = ceil((s_max + 1) / (s + 1) * eta^s), r = maxBudget * eta^-s.
 */
export function hyperbandBrackets(range: BudgetRange): Bracket[] {
  const eta = range.eta ?? 3;
  const sMax = maxBracketIndex(range);
  const out: Bracket[] = [];
  for (let s = sMax; s >= 0; s--) {
    const n = Math.ceil(((sMax + 1) / (s + 1)) * eta ** s - EPS);
    out.push(bracket(s, n, range.maxBudget, eta));
  }
  return out;
}

/** Successive halving from `nConfigs` (eta^s_max by default) down to the full budget. */
export function successiveHalvingBracket(range: BudgetRange & { nConfigs?: number }): Bracket {
  const eta = range.eta ?? 3;
  const s = maxBracketIndex(range);
  return bracket(s, range.nConfigs ?? Math.round(eta ** s), range.maxBudget, eta);
}

export interface MultiFidelityOptions extends BudgetRange {
  space: SearchSpace;
  objective: Objective;
  direction: Direction;
  rng: Rng;
  /** Where new configurations come from; random by default. */
  sampler?: Sampler;
  /** Stop before an evaluation would push the sum of evaluated budgets past this. */
  maxTotalBudget?: number;
  /** Stop when this many configurations have been started (e.g. all candidates of a lookup). */
  maxConfigs?: number;
}

export interface MultiFidelityResult {
  /** Every evaluation in order; below the full budget their status is `pruned`. */
  evaluations: Trial[];
  /** Best configuration at the highest budget evaluated. */
  best: Trial | undefined;
}

/**
 * Runs the brackets in order. Without `maxTotalBudget` each bracket runs once; with it, the
 * sequence repeats until the budget is spent.
 */
function runBrackets(brackets: Bracket[], o: MultiFidelityOptions): MultiFidelityResult {
  orderedParameters(o.space);
  const sampler = o.sampler ?? new RandomSampler();
  const evaluations: Trial[] = [];
  let spent = 0;
  let started = 0;
  const canSpend = (budget: number) =>
    o.maxTotalBudget === undefined || spent + budget <= o.maxTotalBudget + EPS;
  const evaluate = (config: Config, budget: number): Trial => {
    spent += budget;
    const value = o.objective(config, budget);
    const trial: Trial = {
      number: evaluations.length,
      config,
      value,
      status: Number.isNaN(value) ? 'failed' : budget >= o.maxBudget - EPS ? 'complete' : 'pruned',
      budget,
    };
    evaluations.push(trial);
    return trial;
  };
  const repeat = o.maxTotalBudget !== undefined;
  outer: do {
    const spentBefore = spent;
    for (const b of brackets) {
      let alive: Config[] = [];
      for (const [i, rung] of b.rungs.entries()) {
        const results: Trial[] = [];
        if (i === 0) {
          // Each new config is evaluated before the next is proposed, so the sampler sees it.
          for (let k = 0; k < rung.nConfigs; k++) {
            if (o.maxConfigs !== undefined && started >= o.maxConfigs) break;
            if (!canSpend(rung.budget)) break outer;
            const config = sampler.suggest(o.space, evaluations, o.rng, o.direction);
            started++;
            results.push(evaluate(config, rung.budget));
          }
        } else {
          for (const config of alive.slice(0, rung.nConfigs)) {
            if (!canSpend(rung.budget)) break outer;
            results.push(evaluate(config, rung.budget));
          }
        }
        alive = rankByValue(results, o.direction).map((t) => t.config);
      }
    }
    if (spent === spentBefore) break;
  } while (repeat);
  return { evaluations, best: incumbent(evaluations, o.direction) };
}

export function runHyperband(o: MultiFidelityOptions): MultiFidelityResult {
  return runBrackets(hyperbandBrackets(o), o);
}

export function runSuccessiveHalving(
  o: MultiFidelityOptions & { nConfigs?: number },
): MultiFidelityResult {
  return runBrackets([successiveHalvingBracket(o)], o);
}

function rankByValue(trials: readonly Trial[], direction: Direction): Trial[] {
  const failed = trials.filter((t) => t.status === 'failed');
  const ok = trials.filter((t) => t.status !== 'failed');
  const sorted = ok
    .map((t, i) => ({ t, i }))
    .sort((a, b) =>
      isBetter(a.t.value, b.t.value, direction)
        ? -1
        : isBetter(b.t.value, a.t.value, direction)
          ? 1
          : a.i - b.i,
    )
    .map((x) => x.t);
  return [...sorted, ...failed];
}

/** The best evaluation among those at the highest budget reached so far. */
export function incumbent(evaluations: readonly Trial[], direction: Direction): Trial | undefined {
  let best: Trial | undefined;
  for (const t of evaluations) {
    if (t.status === 'failed') continue;
    const budget = t.budget ?? Infinity;
    const bestBudget = best?.budget ?? Infinity;
    if (
      !best ||
      budget > bestBudget ||
      (budget === bestBudget && isBetter(t.value, best.value, direction))
    )
      best = t;
  }
  return best;
}
