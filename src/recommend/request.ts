// What a recommendation request asks, and the check that the knowledge base can speak to it at
// all (used by the pipeline and the benchmark).
import { MetallmixError, ExitCode, type Candidate } from '../core/index.ts';
import type { KbView } from './kb-view.ts';
import type { RecommendOptions } from './types.ts';

export interface RecommendRequest extends Omit<
  RecommendOptions,
  'candidates' | 'strictCandidates'
> {
  /** A strategy of the registry, or `auto`. */
  strategy: string;
  /** Restrict candidates to these models (ids from the knowledge base's catalog). */
  models?: string[];
  /** Choose exactly among these (the benchmark's held-out configurations). */
  candidates?: Candidate[];
  /** Upper bound on generated candidates (past configurations come on top). */
  maxCandidates?: number;
}

/** Throws a MetallmixError when the knowledge base cannot answer the request at all. */
export function checkRequest(
  view: KbView,
  request: Pick<RecommendRequest, 'metric' | 'models'>,
): void {
  const kbLabel = view.label;
  const { summary } = view;
  if (summary.finishedRuns === 0)
    throw new MetallmixError(
      `knowledge base ${kbLabel} has no finished runs: import runs first (metallmix import --help)`,
      { exitCode: ExitCode.unsatisfiable },
    );
  const metric = summary.metrics[request.metric];
  if (!metric)
    throw new MetallmixError(
      `no finished run in ${kbLabel} records the metric "${request.metric}"; available: ${Object.keys(summary.metrics).sort().join(', ')}`,
      {
        location: { field: 'metric' },
      },
    );
  if (metric.profiledDatasets === 0)
    throw new MetallmixError(
      `no dataset of ${kbLabel} with "${request.metric}" has a profile, so nothing links runs to dataset meta-features: import a dataset-profiles file`,
      { exitCode: ExitCode.unsatisfiable },
    );
  if (request.models) {
    const known = new Set(summary.finishedModels);
    const unknown = request.models.filter((m) => !known.has(m));
    if (unknown.length)
      throw new MetallmixError(
        `unknown model ${unknown.map((m) => `"${m}"`).join(', ')}: the knowledge base has runs for ${summary.finishedModels.join(', ')}`,
        {
          location: { field: 'models' },
        },
      );
  }
}
