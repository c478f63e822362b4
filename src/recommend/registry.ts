// Strategies by name, for the CLI, the benchmark and later the HTTP server.
import { MetallmixError } from '../core/index.ts';
import { knnRecommender, randomRecommender, singleBestRecommender } from './baselines.ts';
import type { KbView } from './kb-view.ts';
import { metalearnerRecommender, type MetaLearnerStrategyOptions } from './metalearner-strategy.ts';
import type { Recommender } from './types.ts';

export const BASE_STRATEGIES = ['metalearner', 'random', 'single-best', 'knn'] as const;

export function createBaseRecommender(
  name: string,
  view: KbView,
  options: MetaLearnerStrategyOptions = {},
): Recommender {
  switch (name) {
    case 'metalearner':
      return metalearnerRecommender(view, options);
    case 'random':
      return randomRecommender(view);
    case 'single-best':
      return singleBestRecommender(view);
    case 'knn':
      return knnRecommender(view);
    default:
      throw new MetallmixError(
        `unknown strategy "${name}"; choose one of ${BASE_STRATEGIES.join(', ')}, llm, hybrid`,
        { location: { field: 'strategy' } },
      );
  }
}
