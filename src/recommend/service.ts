// One recommendation request against a knowledge base: checks the request against what the
// knowledge base can speak to, then runs the chosen strategy. The CLI and any later server
// call this, so their answers are the same.
import {
  MetallmixError,
  ExitCode,
  type DatasetProfile,
  type Recommendation,
} from '../core/index.ts';
import { availableMetrics, viewOfKnowledgeBase, type KbView } from './kb-view.ts';
import { candidatesForRequest } from './candidates.ts';
import { createBaseRecommender } from './registry.ts';
import type { MetaLearnerStrategyOptions } from './metalearner-strategy.ts';
import type { RecommendOptions } from './types.ts';
import { Rng } from '../core/index.ts';
import type { KnowledgeBase } from '../store/knowledge-base.ts';

export interface RecommendRequest extends RecommendOptions {
  strategy: string;
  /** Restrict candidates to these models (ids from the knowledge base's catalog). */
  models?: string[];
  cacheDir?: string;
  strategyOptions?: MetaLearnerStrategyOptions;
}

/** Throws a MetallmixError when the knowledge base cannot answer the request at all. */
export function checkRequest(
  view: KbView,
  kbLabel: string,
  request: Pick<RecommendRequest, 'metric' | 'models'>,
): void {
  const finished = view.records.filter((r) => r.status === 'finished');
  if (finished.length === 0)
    throw new MetallmixError(
      `knowledge base ${kbLabel} has no finished runs: import runs first (metallmix import --help)`,
      { exitCode: ExitCode.unsatisfiable },
    );
  const metrics = availableMetrics(finished);
  if (!metrics.has(request.metric))
    throw new MetallmixError(
      `no finished run in ${kbLabel} records the metric "${request.metric}"; available: ${[...metrics.keys()].sort().join(', ')}`,
      {
        location: { field: 'metric' },
      },
    );
  const profiled = new Set(
    finished.filter((r) => view.profiles.has(r.dataset)).map((r) => r.dataset),
  );
  if (profiled.size === 0)
    throw new MetallmixError(
      `no dataset of ${kbLabel} has a profile, so nothing links runs to dataset meta-features: import a dataset-profiles file`,
      {
        exitCode: ExitCode.unsatisfiable,
      },
    );
  if (request.models) {
    const known = new Set(finished.map((r) => r.model));
    const unknown = request.models.filter((m) => !known.has(m));
    if (unknown.length)
      throw new MetallmixError(
        `unknown model ${unknown.map((m) => `"${m}"`).join(', ')}: the knowledge base has runs for ${[...known].sort().join(', ')}`,
        {
          location: { field: 'models' },
        },
      );
  }
}

export async function recommendFromKnowledgeBase(
  kb: KnowledgeBase,
  profile: DatasetProfile,
  request: RecommendRequest,
): Promise<Recommendation> {
  const t0 = performance.now();
  const view = viewOfKnowledgeBase(kb);
  checkRequest(view, kb.path, request);
  const loadMs = performance.now() - t0;
  let candidates = request.candidates;
  if (request.models) {
    const allowed = new Set(request.models);
    candidates = candidatesForRequest(view, candidates, new Rng(request.seed)).filter((c) =>
      allowed.has(c.model),
    );
  }
  const recommender = createBaseRecommender(request.strategy, view, {
    cacheDir: request.cacheDir,
    ...request.strategyOptions,
  });
  const answer = await recommender.recommend(profile, { ...request, candidates });
  return {
    ...answer,
    timingsMs: { knowledgeBase: loadMs, ...answer.timingsMs, total: performance.now() - t0 },
  };
}
