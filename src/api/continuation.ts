// `recommend` on a dataset that already has results: the few-shot continuation
// (src/quality/continue.ts) around the ordinary zero-shot pipeline. The results are the
// knowledge base's finished records under the dataset's name and, with --observed FILE, the runs
// of a results file in `metallmix record`'s format (src/run/logged.ts). The prior is fitted on
// the knowledge base without the dataset, so the observations are counted once, by the
// continuation; the zero-shot answer over the same candidates supplies everything the
// continuation does not change (training times, explanations of the prior, evidence).
import {
  MetallmixError,
  type Candidate,
  type DatasetProfile,
  type Recommendation,
  type RecommendedConfig,
} from '../core/index.ts';
import { candidateKey, derived, withoutDataset, type KbView } from '../recommend/kb-view.ts';
import { knowledgeBaseOf } from '../recommend/assemble.ts';
import { recommendOnView, requestCandidates } from '../recommend/pipeline.ts';
import type { RecommendRequest } from '../recommend/request.ts';
import type { StrategyDeps } from '../recommend/types.ts';
import { continueFrom, fitContinuation, type ObservedRun } from '../quality/continue.ts';
import { loggedRecords, tableOfFile } from '../run/index.ts';
import type { DeclaredHyperparameter, StoredRecord } from '../store/index.ts';
import { pushAll } from '../core/arrays.ts';

export interface ObservedSet {
  runs: ObservedRun[];
  /** Where they came from, for the report. */
  sources: string[];
}

/** The finished runs of `dataset` with `metric` among `records`. */
function finishedRuns(
  records: readonly Pick<StoredRecord, 'dataset' | 'model' | 'config' | 'status' | 'metrics'>[],
  dataset: string,
  metric: string,
): ObservedRun[] {
  return records
    .filter(
      (r) => r.dataset === dataset && r.status === 'finished' && Number.isFinite(r.metrics[metric]),
    )
    .map((r) => ({ model: r.model, config: r.config, value: r.metrics[metric]! }));
}

/**
 * Per model, the hyperparameters every finished run of it on another dataset sets. A result
 * whose configuration leaves one out has a zero-shot prior far from it (NaN with no value at
 * all), and the continuation carries that gap to every neighbour: it cannot be weighed. For a
 * dataset the records do not name (the usual request), the sets are kept with a cached view, so
 * they cost no pass over the records.
 */
function wholeConfigs(
  view: KbView,
  dataset: string,
  named: boolean,
): (r: Pick<ObservedRun, 'model' | 'config'>) => string[] {
  const compute = (): Record<string, string[]> => {
    const always = new Map<string, Set<string>>();
    for (const r of view.records) {
      if (r.status !== 'finished' || r.dataset === dataset) continue;
      const keys = always.get(r.model);
      if (!keys) always.set(r.model, new Set(Object.keys(r.config)));
      else for (const k of keys) if (!(k in r.config)) keys.delete(k);
    }
    return Object.fromEntries([...always].map(([model, keys]) => [model, [...keys].sort()]));
  };
  const always = named ? compute() : derived(view, 'whole-configs', { format: 1 }, compute);
  return (r) =>
    (Object.hasOwn(always, r.model) ? always[r.model] : []).filter((k) => !(k in r.config));
}

/** The dataset's results in the knowledge base and (when given) in a results file. */
export async function observedRuns(
  view: KbView,
  dataset: string,
  metric: string,
  file: string | undefined,
  declared: readonly DeclaredHyperparameter[],
): Promise<ObservedSet> {
  // The names the records use, kept with a cached view: a dataset new to the knowledge base
  // (the usual request) then costs no pass over the records.
  const named = derived(view, 'dataset-names', { format: 1 }, () =>
    [...new Set(view.records.map((r) => r.dataset))].sort(),
  );
  const inKb = named.includes(dataset);
  const stored = inKb ? finishedRuns(view.records, dataset, metric) : [];
  const missing = wholeConfigs(view, dataset, inKb);
  const out: ObservedSet = { runs: stored.filter((r) => missing(r).length === 0), sources: [] };
  if (out.runs.length)
    out.sources.push(`${out.runs.length} run(s) named "${dataset}" in ${view.label}`);
  if (out.runs.length < stored.length)
    out.sources.push(
      `${stored.length - out.runs.length} run(s) named "${dataset}" left out: their configurations lack hyperparameters every run of their model sets`,
    );
  if (file !== undefined) {
    const { records } = loggedRecords(await tableOfFile(file), declared);
    for (const r of records) {
      const gaps = missing(r);
      if (gaps.length)
        throw new MetallmixError(
          `the run gives no ${gaps.join(', ')}, which every run of ${r.model} in the knowledge base sets; a continuation compares whole configurations`,
          { location: { file, line: r.provenance.line, column: `config.${gaps[0]}` } },
        );
    }
    const runs = finishedRuns(records, dataset, metric);
    if (runs.length === 0) {
      const named = [...new Set(records.map((r) => r.dataset))];
      throw new MetallmixError(
        `no finished run of dataset "${dataset}" with metric ${metric} in the file (it names ${named.join(', ') || 'no dataset'}); the dataset column must carry the dataset's name, or give --dataset-name`,
        { location: { file, column: 'dataset' } },
      );
    }
    pushAll(out.runs, runs);
    out.sources.push(`${runs.length} run(s) from ${file}`);
  }
  return out;
}

function entryFor(c: Candidate): RecommendedConfig {
  return {
    model: c.model,
    config: c.config,
    rank: 1,
    predictedMetric: { mean: 0, low: 0, high: 0 },
    onParetoFront: false,
    extrapolated: [],
    explanation: [],
    explanationText: '',
    evidence: [],
  };
}

/** The continuation's answer: topK are the next trials, none of them run yet. */
export async function continueOnView(
  view: KbView,
  profile: DatasetProfile,
  request: RecommendRequest,
  depsFor: (train: KbView) => StrategyDeps,
  observed: ObservedSet,
): Promise<Recommendation> {
  const t0 = performance.now();
  const train =
    view.records.some((r) => r.dataset === profile.name) || view.profiles.has(profile.name)
      ? withoutDataset(view, profile.name)
      : view;
  const pool = requestCandidates(train, request);
  const fit = fitContinuation(train, request.metric);
  const t1 = performance.now();
  const next = continueFrom(fit, profile, pool, observed.runs);
  if (next.order.length === 0)
    throw new MetallmixError(
      `every candidate configuration has already been run on "${profile.name}"`,
      { exitCode: 3 },
    );
  const t2 = performance.now();
  const zero = await recommendOnView(
    train,
    profile,
    {
      ...request,
      candidates: next.candidates,
      topK: next.candidates.length,
    },
    // The zero-shot answer's meta-learner, validation and evidence come from the same view
    // without the dataset as the prior: its own trials are counted once, by the continuation.
    depsFor(train),
  );
  const byKey = new Map(zero.topK.map((e) => [candidateKey(e.model, e.config), e]));
  const topK = next.order.slice(0, request.topK).map((i, r) => {
    const c = next.candidates[i];
    return {
      ...(byKey.get(candidateKey(c.model, c.config)) ?? entryFor(c)),
      rank: r + 1,
      predictedMetric: next.predicted[i],
    };
  });
  // The zero-shot front and budget pick, among the configurations not yet run.
  const open = new Set(
    next.order.map((i) => candidateKey(next.candidates[i].model, next.candidates[i].config)),
  );
  const isOpen = (e: RecommendedConfig) => open.has(candidateKey(e.model, e.config));
  const budgetSec = request.budgetMinutes !== undefined ? request.budgetMinutes * 60 : undefined;
  const budgetIndex =
    budgetSec === undefined
      ? undefined
      : next.order.find((i) => {
          const e = byKey.get(candidateKey(next.candidates[i].model, next.candidates[i].config));
          return (
            e?.predictedTrainingTimeSec !== undefined &&
            e.predictedTrainingTimeSec.mean <= budgetSec
          );
        });
  const b = next.best;
  return {
    ...zero,
    pick: topK[0],
    topK,
    paretoFront: zero.paretoFront.filter(isOpen),
    unmet:
      budgetSec === undefined
        ? zero.unmet
        : [
            ...zero.unmet.filter((u) => u.constraint !== 'budget'),
            ...(budgetIndex === undefined
              ? [
                  {
                    constraint: 'budget' as const,
                    message: `no configuration not yet run on "${profile.name}" is predicted to train within ${request.budgetMinutes} min`,
                  },
                ]
              : []),
          ],
    ...(budgetSec === undefined
      ? {}
      : {
          budgetPick:
            budgetIndex === undefined
              ? null
              : {
                  ...byKey.get(
                    candidateKey(
                      next.candidates[budgetIndex].model,
                      next.candidates[budgetIndex].config,
                    ),
                  )!,
                  rank: next.order.indexOf(budgetIndex) + 1,
                  predictedMetric: next.predicted[budgetIndex],
                },
        }),
    justification: next.reason,
    // The answer names the knowledge base asked (exports and run provenance check its version),
    // not the view without the dataset that the prior was fitted on.
    knowledgeBase: knowledgeBaseOf(view),
    continuation: {
      observedTrials: next.observed,
      sources: observed.sources,
      method: next.method,
      best: b,
      reason: next.reason,
    },
    notices: [
      `A continuation of ${next.observed} trial(s) already run on "${profile.name}" (${observed.sources.join('; ')}): the pick is the next trial, not yet run, chosen from the zero-shot prediction (fitted without this dataset) and those results${request.objective === 'best' ? '' : `; the "${request.objective}" objective applies to the zero-shot prediction only, the continuation seeks the best ${request.metric}`}.`,
      ...zero.notices,
    ],
    timingsMs: {
      ...zero.timingsMs,
      continuationFit: t1 - t0,
      continuation: t2 - t1,
      total: performance.now() - t0,
    },
  };
}
