import type { Config, SearchSpace } from '../core/search-space.ts';
import type { Rng } from '../core/rng.ts';

export type Direction = 'maximize' | 'minimize';

/** `pruned`: stopped early at `budget` (multi-fidelity); `failed`: no usable value. */
export type TrialStatus = 'complete' | 'pruned' | 'failed';

export interface Trial {
  number: number;
  config: Config;
  value: number;
  status: TrialStatus;
  /** Budget (e.g. epochs) the value was measured at, for multi-fidelity methods. */
  budget?: number;
}

/**
 * Proposes the next configuration from the history, as Optuna's samplers do. Samplers hold no
 * random state of their own: every draw comes from `rng`, so a seed fixes the whole search.
 */
export interface Sampler {
  readonly name: string;
  suggest(space: SearchSpace, history: readonly Trial[], rng: Rng, direction: Direction): Config;
}

/** Evaluates a configuration, optionally at a lower budget; NaN marks a failed evaluation. */
export type Objective = (config: Config, budget?: number) => number;

/** True when value `a` is better than `b` under `direction`. */
export function isBetter(a: number, b: number, direction: Direction): boolean {
  return direction === 'maximize' ? a > b : a < b;
}
