// Tree-structured Parzen Estimator (Bergstra et al. 2011) with Optuna 3.1's defaults for the
// independent (univariate) sampler. Each parameter is sampled on its own: the finished trials
// are split into the best gamma(n) ("below") and the rest ("above"); two Parzen estimators
// l(x) and g(x) are fitted on the values the parameter took in those trials where it was
// active, 24 candidates are drawn from l, and the one maximizing l(x) / g(x) wins.
import type { Rng } from '../core/rng.ts';
import type { Config, Hyperparameter, ParamValue, SearchSpace } from '../core/search-space.ts';
import { CategoricalParzen, NumericParzen } from './parzen.ts';
import {
  buildConfig,
  choicesOf,
  fromInternal,
  internalBounds,
  sampleUniform,
  toInternal,
} from './space.ts';
import type { Direction, Sampler, Trial } from './types.ts';

export interface TpeOptions {
  /** Trials drawn at random before the model is used. */
  nStartupTrials?: number;
  /** Candidates drawn from l(x) per parameter. */
  nEiCandidates?: number;
  /** Size of the "below" group for n finished trials. */
  gamma?: (n: number) => number;
}

/** Optuna's default: the best 10%, at most 25. */
export function defaultGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

export class TpeSampler implements Sampler {
  readonly name = 'tpe';
  private readonly nStartupTrials: number;
  private readonly nEiCandidates: number;
  private readonly gamma: (n: number) => number;

  constructor(options: TpeOptions = {}) {
    this.nStartupTrials = options.nStartupTrials ?? 10;
    this.nEiCandidates = options.nEiCandidates ?? 24;
    this.gamma = options.gamma ?? defaultGamma;
  }

  suggest(space: SearchSpace, history: readonly Trial[], rng: Rng, direction: Direction): Config {
    const ranked = rankTrials(history, direction);
    if (ranked.length < this.nStartupTrials)
      return buildConfig(space, (p) => sampleUniform(p, rng));
    const nBelow = this.gamma(ranked.length);
    const below = chronological(ranked.slice(0, nBelow));
    const above = chronological(ranked.slice(nBelow));
    return buildConfig(space, (p) => this.sampleParam(p, below, above, rng));
  }

  private sampleParam(
    p: Hyperparameter,
    below: readonly Trial[],
    above: readonly Trial[],
    rng: Rng,
  ): ParamValue {
    const valuesOf = (trials: readonly Trial[]) =>
      trials.map((t) => t.config[p.name]).filter((v): v is ParamValue => v !== undefined);
    if (p.type === 'float' || p.type === 'int') {
      const { low, high } = internalBounds(p);
      const cell = p.type === 'int' && !p.log ? 1 : undefined;
      const encode = (vs: ParamValue[]) => vs.map((v) => toInternal(p, v as number));
      const l = new NumericParzen(encode(valuesOf(below)), low, high, cell);
      const g = new NumericParzen(encode(valuesOf(above)), low, high, cell);
      const candidates = Array.from({ length: this.nEiCandidates }, () =>
        fromInternal(p, l.sample(rng)),
      );
      return argmaxRatio(candidates, (v) => {
        const x = toInternal(p, v);
        return l.logPdf(x) - g.logPdf(x);
      });
    }
    const choices = choicesOf(p);
    const encode = (vs: ParamValue[]) => vs.map((v) => choices.indexOf(v)).filter((i) => i >= 0);
    const l = new CategoricalParzen(encode(valuesOf(below)), choices.length);
    const g = new CategoricalParzen(encode(valuesOf(above)), choices.length);
    const candidates = Array.from({ length: this.nEiCandidates }, () => l.sample(rng));
    return choices[argmaxRatio(candidates, (i) => l.logPdf(i) - g.logPdf(i))];
  }
}

function argmaxRatio<T>(candidates: readonly T[], score: (c: T) => number): T {
  let best = candidates[0];
  let bestScore = -Infinity;
  for (const c of candidates) {
    const s = score(c);
    if (s > bestScore) {
      bestScore = s;
      best = c;
    }
  }
  return best;
}

/**
 * Finished trials best first: complete trials by value, then pruned ones (higher budget
 * first, then value), as Optuna ranks pruned trials by their last intermediate value.
 * Failed trials carry no information and are left out. The sort is stable in trial order.
 */
export function rankTrials(history: readonly Trial[], direction: Direction): Trial[] {
  const sign = direction === 'maximize' ? -1 : 1;
  const usable = history.filter((t) => t.status !== 'failed' && !Number.isNaN(t.value));
  const key = (t: Trial): [number, number] => [
    t.status === 'complete' ? -Infinity : -(t.budget ?? 0),
    sign * t.value,
  ];
  return usable
    .map((t, i) => ({ t, i, k: key(t) }))
    .sort((a, b) => compare(a.k[0], b.k[0]) || compare(a.k[1], b.k[1]) || a.i - b.i)
    .map((x) => x.t);
}

function compare(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function chronological(trials: readonly Trial[]): Trial[] {
  return [...trials].sort((a, b) => a.number - b.number);
}
