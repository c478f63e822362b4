// One recommendation request: check it against the knowledge base, resolve the candidates once,
// run the strategy from the registry, and assemble the answer. Everything a strategy needs
// besides the view (the shared meta-learner, retrieval, language models) comes in `deps`.
import { Rng, type DatasetProfile, type Recommendation } from '../core/index.ts';
import { candidatesFor } from './candidates.ts';
import type { KbView } from './kb-view.ts';
import { resolveStrategy } from './registry.ts';
import { checkRequest, type RecommendRequest } from './request.ts';
import type { StrategyDeps } from './types.ts';

export async function recommendOnView(
  view: KbView,
  profile: DatasetProfile,
  request: RecommendRequest,
  deps: StrategyDeps,
): Promise<Recommendation> {
  const t0 = performance.now();
  checkRequest(view, request);
  const entry = resolveStrategy(request.strategy, deps.llm !== undefined);
  const { strategy: _strategy, models, maxCandidates, candidates: given, ...options } = request;
  let candidates = given;
  if (!candidates) {
    const allowed = models ? new Set(models) : undefined;
    // The whole view keeps its candidate plan between calls; a subset of models is planned anew.
    const source = allowed
      ? {
          space: view.space,
          records: view.records.filter((r) => allowed.has(r.model)),
          profiles: view.profiles,
        }
      : view;
    candidates = candidatesFor(source, {
      metric: request.metric,
      maxCandidates,
      rng: new Rng(request.seed),
    }).filter((c) => !allowed || allowed.has(c.model));
  }
  const checkedMs = performance.now() - t0;
  const answer = await entry.create(view, deps).recommend(profile, {
    ...options,
    candidates,
    strictCandidates: given !== undefined || models !== undefined,
  });
  return {
    ...answer,
    timingsMs: { request: checkedMs, ...answer.timingsMs, total: performance.now() - t0 },
  };
}
