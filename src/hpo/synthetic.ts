// Synthetic lookup problems for tests and benchmarks: smooth response surfaces over a mixed
// space (log-scale float and int, plain float and int, categorical, bool, and a parameter
// conditional on the optimizer), shaped like fine-tuning accuracy, with learning curves so the
// multi-fidelity methods can run. Each problem has its own optimum and its own curve speeds.
import { Rng } from '../core/rng.ts';
import type { Config, SearchSpace } from '../core/search-space.ts';
import type { LookupCandidate, LookupProblem } from './lookup.ts';
import { RandomSampler } from './random-sampler.ts';

export const SYNTHETIC_SPACE: SearchSpace = {
  parameters: [
    { name: 'lr', type: 'float', low: 1e-5, high: 1e-1, log: true },
    { name: 'batch_size', type: 'int', low: 8, high: 512, log: true },
    { name: 'dropout', type: 'float', low: 0, high: 0.5, log: false },
    { name: 'frozen_blocks', type: 'int', low: 0, high: 12, log: false },
    { name: 'optimizer', type: 'categorical', choices: ['sgd', 'adam', 'adamw'] },
    {
      name: 'momentum',
      type: 'float',
      low: 0.5,
      high: 0.99,
      log: false,
      condition: { parent: 'optimizer', values: ['sgd'] },
    },
    { name: 'augment', type: 'bool' },
  ],
};

/** Epochs at which every candidate's curve is recorded (eta = 3 rungs up to 27). */
export const SYNTHETIC_BUDGETS = [1, 3, 9, 27];

export interface SyntheticOptions {
  count: number;
  seed: number;
  minCandidates?: number;
  maxCandidates?: number;
}

export function syntheticLookupProblems(options: SyntheticOptions): LookupProblem[] {
  const { count, seed, minCandidates = 50, maxCandidates = 300 } = options;
  const rng = new Rng(seed);
  return Array.from({ length: count }, (_, k) => {
    const prng = rng.fork(`problem-${k}`);
    const surface = randomSurface(prng);
    const n = minCandidates + prng.int(maxCandidates - minCandidates + 1);
    const sampler = new RandomSampler();
    const candidates: LookupCandidate[] = [];
    const seen = new Set<string>();
    while (candidates.length < n) {
      const config = sampler.suggest(SYNTHETIC_SPACE, [], prng);
      const key = JSON.stringify(config);
      if (seen.has(key)) continue;
      seen.add(key);
      candidates.push(surface(config, prng));
    }
    return { name: `synthetic-${k}`, space: SYNTHETIC_SPACE, direction: 'maximize', candidates };
  });
}

function randomSurface(rng: Rng): (config: Config, noise: Rng) => LookupCandidate {
  const bestLogLr = rng.uniform(-4.5, -2);
  const bestLogBatch = rng.uniform(Math.log2(16), Math.log2(256));
  const bestDropout = rng.uniform(0, 0.5);
  const bestFrozen = rng.int(13);
  const bestMomentum = rng.uniform(0.8, 0.99);
  const optimizerBonus: Record<string, number> = {
    sgd: rng.uniform(-0.8, 0.8),
    adam: rng.uniform(-0.8, 0.8),
    adamw: rng.uniform(-0.8, 0.8),
  };
  const augmentBonus = rng.uniform(-0.6, 0.6);
  const lrWidth = rng.uniform(0.5, 1.2);
  return (config, noise) => {
    const logLr = Math.log10(config.lr as number);
    let score =
      2.5 -
      ((logLr - bestLogLr) / lrWidth) ** 2 -
      0.15 * (Math.log2(config.batch_size as number) - bestLogBatch) ** 2 -
      4 * ((config.dropout as number) - bestDropout) ** 2 -
      0.02 * ((config.frozen_blocks as number) - bestFrozen) ** 2 +
      optimizerBonus[config.optimizer as string] +
      (config.augment ? augmentBonus : 0);
    if (config.optimizer === 'sgd') score -= 20 * ((config.momentum as number) - bestMomentum) ** 2;
    // Larger learning rates learn faster at first, so early rungs only roughly rank finals.
    const speed = 0.08 * 10 ** (0.3 * (logLr + 3));
    const final = 100 / (1 + Math.exp(-score)) + noise.normal() * 0.5;
    const curve = SYNTHETIC_BUDGETS.map((b) => ({
      budget: b,
      value: final * (1 - Math.exp(-speed * b)) + noise.normal() * 0.5,
    }));
    curve[curve.length - 1].value = final;
    return {
      config,
      value: final,
      costSec: 10 * (config.batch_size as number) ** -0.3 * 27,
      curve,
    };
  };
}
