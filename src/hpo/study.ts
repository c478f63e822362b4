// The search loop, apart from the samplers (as Optuna separates study and sampler): a Study
// hands out configurations with ask() and records results with tell(), so a caller can drive
// it from any loop; runSearch is the plain loop over a synchronous objective.
import type { Rng } from '../core/rng.ts';
import { configViolations, type Config, type SearchSpace } from '../core/search-space.ts';
import { orderedParameters } from './space.ts';
import {
  isBetter,
  type Direction,
  type Objective,
  type Sampler,
  type Trial,
  type TrialStatus,
} from './types.ts';

export interface StudyOptions {
  space: SearchSpace;
  sampler: Sampler;
  direction: Direction;
  rng: Rng;
}

export class Study {
  readonly trials: Trial[] = [];
  private readonly pending = new Map<number, Config>();
  private nextNumber = 0;

  constructor(readonly options: StudyOptions) {
    orderedParameters(options.space);
  }

  /** The next configuration to evaluate; pending (untold) trials are not seen by the sampler. */
  ask(): { number: number; config: Config } {
    const { space, sampler, rng, direction } = this.options;
    const config = sampler.suggest(space, this.trials, rng, direction);
    const problems = configViolations(space, config);
    if (problems.length)
      throw new Error(`sampler ${sampler.name} proposed an invalid config: ${problems.join('; ')}`);
    const number = this.nextNumber++;
    this.pending.set(number, config);
    return { number, config };
  }

  /**
   * Records the result of an asked trial. `config` replaces the asked one when what was
   * evaluated differs (e.g. a lookup snapped the proposal to a configuration that was run).
   */
  tell(
    number: number,
    value: number,
    extra: { status?: TrialStatus; budget?: number; config?: Config } = {},
  ): Trial {
    const asked = this.pending.get(number);
    if (!asked) throw new Error(`trial ${number} was not asked or was already told`);
    this.pending.delete(number);
    const status = extra.status ?? (Number.isNaN(value) ? 'failed' : 'complete');
    const trial: Trial = { number, config: extra.config ?? asked, value, status };
    if (extra.budget !== undefined) trial.budget = extra.budget;
    this.trials.push(trial);
    return trial;
  }

  best(): Trial | undefined {
    return bestTrial(this.trials, this.options.direction);
  }
}

/** Best complete trial, the earliest among ties. */
export function bestTrial(trials: readonly Trial[], direction: Direction): Trial | undefined {
  let best: Trial | undefined;
  for (const t of trials) {
    if (t.status !== 'complete' || Number.isNaN(t.value)) continue;
    if (!best || isBetter(t.value, best.value, direction)) best = t;
  }
  return best;
}

export interface SearchOptions extends StudyOptions {
  objective: Objective;
  nTrials: number;
}

export function runSearch(options: SearchOptions): { trials: Trial[]; best: Trial | undefined } {
  const study = new Study(options);
  for (let i = 0; i < options.nTrials; i++) {
    const { number, config } = study.ask();
    study.tell(number, options.objective(config));
  }
  return { trials: study.trials, best: study.best() };
}
