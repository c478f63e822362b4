import type { Rng } from '../core/rng.ts';
import type { Config, SearchSpace } from '../core/search-space.ts';
import { buildConfig, sampleUniform } from './space.ts';
import type { Sampler } from './types.ts';

/** Independent uniform draws (log-uniform on log scales), ignoring the history. */
export class RandomSampler implements Sampler {
  readonly name = 'random';
  suggest(space: SearchSpace, _history: unknown, rng: Rng): Config {
    return buildConfig(space, (p) => sampleUniform(p, rng));
  }
}
