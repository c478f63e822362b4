// One recommendation request: check it against the knowledge base, resolve the candidates once,
// run the strategy from the registry, and assemble the answer. Everything a strategy needs
// besides the view (the shared meta-learner, retrieval, language models) comes in `deps`.
import { Rng, type Candidate, type DatasetProfile, type Recommendation } from '../core/index.ts';
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
  const {
    strategy: _strategy,
    models,
    maxCandidates: _max,
    candidates: given,
    ...options
  } = request;
  const candidates = requestCandidates(view, request);
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

/** The candidates a request is answered among: the ones it gives, else drawn from the view. */
export function requestCandidates(view: KbView, request: RecommendRequest): Candidate[] {
  if (request.candidates) return request.candidates;
  const allowed = request.models ? new Set(request.models) : undefined;
  // The whole view keeps its candidate plan between calls; a subset of models is planned anew.
  const source = allowed
    ? {
        space: view.space,
        records: view.records.filter((r) => allowed.has(r.model)),
        profiles: view.profiles,
      }
    : view;
  return candidatesFor(source, {
    metric: request.metric,
    maxCandidates: request.maxCandidates,
    rng: new Rng(request.seed),
  }).filter((c) => !allowed || allowed.has(c.model));
}
