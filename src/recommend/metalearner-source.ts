// The meta-learner of a knowledge-base view for a metric, fitted or loaded from the cache once
// and then shared by every strategy that uses it (the metalearner, hybrid and llm strategies of
// one request, or every method of one benchmark fold).
import { loadOrFit } from './cache.ts';
import type { KbView } from './kb-view.ts';
import {
  DEFAULT_SETTINGS,
  fitMetaLearner,
  type MetaLearner,
  type MetaLearnerSettings,
} from './metalearner.ts';

export interface FittedMetaLearner {
  learner: MetaLearner;
  /** Loaded from the cache rather than fitted. */
  cached: boolean;
  /** Time it took to fit or load. */
  ms: number;
}

export interface MetaLearnerSource {
  /** Whether fitted meta-learners are cached on disk. */
  readonly caching: boolean;
  learnerFor(metric: string): FittedMetaLearner;
}

export interface MetaLearnerSourceOptions {
  /** Where trained meta-learners are cached; undefined = never cache (benchmark folds). */
  cacheDir?: string;
  settings?: Partial<Omit<MetaLearnerSettings, 'metric'>>;
}

export function metaLearnerSource(
  view: KbView,
  options: MetaLearnerSourceOptions = {},
): MetaLearnerSource {
  const fitted = new Map<string, FittedMetaLearner>();
  return {
    caching: options.cacheDir !== undefined,
    learnerFor(metric) {
      let entry = fitted.get(metric);
      if (!entry) {
        const settings: MetaLearnerSettings = { ...DEFAULT_SETTINGS, ...options.settings, metric };
        const t0 = performance.now();
        const outcome = loadOrFit(
          view.version,
          settings,
          () => fitMetaLearner(view, settings),
          options.cacheDir,
        );
        entry = { ...outcome, ms: performance.now() - t0 };
        fitted.set(metric, entry);
      }
      return entry;
    },
  };
}
