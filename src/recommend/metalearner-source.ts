// The meta-learner of a knowledge-base view for a metric, fitted or loaded from the cache once
// and then shared by every strategy that uses it (the metalearner, hybrid and llm strategies of
// one request, or every method of one benchmark fold); and, beside it, the self-validation of
// the default recommender on that view (quality/model.ts), cached the same way. In a benchmark
// fold the view is the fold's training view, so the validation never sees the held-out dataset.
import { loadOrComputeJson, loadOrFit } from './cache.ts';
import type { KbView } from './kb-view.ts';
import {
  DEFAULT_SETTINGS,
  fitMetaLearner,
  memberMargins,
  outsideKnowledge,
  type MetaLearner,
  type MetaLearnerSettings,
} from './metalearner.ts';
import { validateKnowledgeBase, type QualityModel } from './quality/model.ts';
import { datasetSpace } from './quality/neighbors.ts';
import { trainScorers, type MemberPredictor, type TrainedScorers } from './quality/scorers.ts';
import { runTable, type RunTable } from './quality/table.ts';
import { derived, metricSign } from './kb-view.ts';
import { KEPT_SCORERS_CODEC, packScorers, unpackScorers } from './kept-scorers.ts';

export interface FittedMetaLearner {
  learner: MetaLearner;
  /** Loaded from the cache rather than fitted. */
  cached: boolean;
  /** Time it took to fit or load. */
  ms: number;
}

export interface SelfValidation {
  model: QualityModel;
  /** Meta-learner, fair portfolio and nearest datasets on the whole view, asked together. */
  scorers: TrainedScorers;
  /** The validation was loaded from the cache rather than run. */
  cached: boolean;
  /** Time it took to validate (or load) and set up the scorers. */
  ms: number;
}

export interface MetaLearnerSource {
  /** Whether fitted meta-learners are cached on disk. */
  readonly caching: boolean;
  learnerFor(metric: string): FittedMetaLearner;
  validationFor(metric: string): SelfValidation;
}

export interface MetaLearnerSourceOptions {
  /** Where trained meta-learners are cached; undefined = never cache (benchmark folds). */
  cacheDir?: string;
  settings?: Partial<Omit<MetaLearnerSettings, 'metric'>>;
}

/** The product's meta-learner as the quality scorers ask it (oriented points, like theirs). */
function asMemberPredictor(learner: MetaLearner): MemberPredictor {
  const sign = metricSign(learner.settings.metric);
  return {
    predict(profile, candidates, cards) {
      const m = memberMargins(learner, profile, candidates, cards);
      return {
        effect: m.effects.map((e) => e.map((x) => sign * x)),
        level: m.levels.map((x) => sign * x),
        logTime: m.times,
      };
    },
    outside: (profile) => outsideKnowledge(learner, profile).length,
  };
}

/** Bumped when the packed scorers' content or meaning changes. */
const KEPT_SCORERS_FORMAT = 1;

/**
 * The scorers a request asks: on a view with a store, the additive fit and the neighbours' runs
 * come from what was kept for its content version (kept-scorers.ts), so a cached request reads
 * no records (the run table itself is built only if a caller other than the scorers' predict
 * asks for it).
 */
function requestScorers(view: KbView, metric: string, learner: MemberPredictor): TrainedScorers {
  if (!view.derive) return trainScorers(view, metric, undefined, learner);
  // Read back from the packed bytes also when just computed: the first call answers as later ones.
  const kept = derived(
    view,
    'scorers',
    { format: KEPT_SCORERS_FORMAT, metric },
    () => unpackScorers(packScorers(trainScorers(view, metric, undefined, learner)))!,
    KEPT_SCORERS_CODEC,
  );
  let table: RunTable | undefined;
  return {
    view,
    metric,
    learner,
    additive: kept.additive,
    space: datasetSpace(view, kept.datasets),
    neighborRuns: kept.neighborRuns,
    get table() {
      return (table ??= runTable(view, metric));
    },
  };
}

export function metaLearnerSource(
  view: KbView,
  options: MetaLearnerSourceOptions = {},
): MetaLearnerSource {
  const fitted = new Map<string, FittedMetaLearner>();
  const validated = new Map<string, SelfValidation>();
  const settingsFor = (metric: string): MetaLearnerSettings => ({
    ...DEFAULT_SETTINGS,
    ...options.settings,
    metric,
  });
  const source: MetaLearnerSource = {
    caching: options.cacheDir !== undefined,
    learnerFor(metric) {
      let entry = fitted.get(metric);
      if (!entry) {
        const settings = settingsFor(metric);
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
    validationFor(metric) {
      let entry = validated.get(metric);
      if (!entry) {
        const settings = settingsFor(metric);
        const { learner } = source.learnerFor(metric);
        const t0 = performance.now();
        // The inner folds fit the same meta-learner settings the answer is given with.
        const learnerSettings = {
          members: settings.members,
          seed: settings.seed,
          params: settings.params,
        };
        const { value, cached } = loadOrComputeJson(
          'validations',
          view.version,
          settings,
          () => validateKnowledgeBase(view, metric, { settings: learnerSettings }),
          options.cacheDir,
        );
        const scorers = requestScorers(view, metric, asMemberPredictor(learner));
        entry = { model: value, scorers, cached, ms: performance.now() - t0 };
        validated.set(metric, entry);
      }
      return entry;
    },
  };
  return source;
}
