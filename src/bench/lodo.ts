// Leave-one-dataset-out evaluation: for each dataset, fit every method on all the others,
// recommend from the held-out profile alone among the configurations actually run there, and
// score the choice by looking up what those runs reached.
import {
  ExitCode,
  maxOf,
  MetallmixError,
  type Candidate,
  type DatasetProfile,
  type Interval,
  type Objective,
  type Progress,
  type SearchSpace,
} from '../core/index.ts';
import { searchOnLookup, type LookupMethod } from '../hpo/lookup.ts';
import { retrievalEvidence, type EvidenceSource } from '../recommend/evidence.ts';
import {
  byDataset,
  candidateKey,
  metricScale,
  metricSign,
  runsOf,
  withoutDataset,
  type KbView,
} from '../recommend/kb-view.ts';
import { metaLearnerSource, type MetaLearnerSource } from '../recommend/metalearner-source.ts';
import { hitAtK, mean, median, ndcgAtK, regret, spearman } from './metrics.ts';

/** A held-out dataset: its profile, the training view without it, and the lookup table. */
export interface Fold {
  dataset: string;
  profile: DatasetProfile;
  train: KbView;
  candidates: Candidate[];
  /** Oriented metric points (larger is better) of each candidate. */
  values: number[];
  /** Mean training seconds of each candidate, when recorded. */
  timesSec: (number | undefined)[];
  space: SearchSpace;
}

/** What the methods of one fold share: its meta-learner (fitted once) and retrieval over its view. */
export interface FoldShared {
  metaLearners: MetaLearnerSource;
  evidence(): EvidenceSource;
}

function foldShared(fold: Fold): FoldShared {
  const metaLearners = metaLearnerSource(fold.train);
  let evidence: EvidenceSource | undefined;
  return {
    metaLearners,
    evidence: () =>
      (evidence ??= retrievalEvidence(fold.train, metaLearners, {
        indexLocation: { kind: 'memory' },
      })),
  };
}

export interface MethodRun {
  /** Candidate indices best-first: the full ranking for recommenders, the evaluated ones for HPO. */
  order: number[];
  pick: number;
  responseMs: number;
  /** Training seconds the method spends before it can answer (HPO: the trials it ran). */
  spentSec?: number;
  fullRanking: boolean;
  /** 80% intervals per fold candidate (oriented points), for methods that give them. */
  intervals?: (Interval | undefined)[];
  extra?: Record<string, unknown>;
}

export interface BenchMethod {
  name: string;
  /** Random-based: run once per seed and averaged. */
  stochastic: boolean;
  run(
    fold: Fold,
    seed: number,
    metric: string,
    objective: Objective,
    shared: FoldShared,
  ): Promise<MethodRun>;
}

export interface DatasetResult {
  dataset: string;
  candidates: number;
  regret: number;
  hitAt1: number;
  hitAt3: number;
  ndcgAt5: number | null;
  spearman: number | null;
  costRatio: number | null;
  pickTimeSec: number | null;
  responseMs: number;
  /** Fraction of the dataset's configurations inside their 80% interval (null: no intervals). */
  coverage80: number | null;
  /** Mean width (points) of those intervals. */
  width80: number | null;
  pick: { model: string; config: Candidate['config']; value: number; timeSec: number | null };
  extra?: Record<string, unknown>;
}

export interface MethodSummary {
  name: string;
  meanRegret: number;
  hitAt1: number;
  hitAt3: number;
  ndcgAt5: number | null;
  spearman: number | null;
  meanCostRatio: number | null;
  meanPickTimeSec: number | null;
  responseMsMedian: number;
  /** Mean over datasets of coverage80 (null for methods without intervals). */
  coverage80: number | null;
  /** Mean over datasets of the 80% intervals' mean width, in points. */
  meanWidth80: number | null;
  perDataset: DatasetResult[];
}

export interface BenchReport {
  protocol: 'lodo';
  /** The knowledge base evaluated. */
  knowledgeBase: { label: string; version: string };
  metric: string;
  objective: Objective;
  seeds: number;
  datasets: number;
  skipped: { dataset: string; reason: string }[];
  methods: MethodSummary[];
}

/** Indices into the fold's candidates of a recommendation's ranked configurations. */
export function rankingOnFold(fold: Fold, ranked: readonly Candidate[]): number[] {
  const indexOf = new Map(fold.candidates.map((c, i) => [candidateKey(c.model, c.config), i]));
  return ranked
    .map((c) => indexOf.get(candidateKey(c.model, c.config)))
    .filter((i): i is number => i !== undefined);
}

/** HPO on the lookup table: `nTrials` trials, the incumbent is the pick, its trials are the cost. */
export function hpoMethod(method: LookupMethod, nTrials: number, label: string): BenchMethod {
  return {
    name: `${label}@${nTrials}`,
    stochastic: true,
    async run(fold, seed) {
      const t0 = performance.now();
      const space: SearchSpace = {
        parameters: [
          {
            name: '__model',
            type: 'categorical',
            choices: [...new Set(fold.candidates.map((c) => c.model))],
          },
          ...fold.space.parameters,
        ],
      };
      const trace = searchOnLookup(
        {
          name: fold.dataset,
          space,
          direction: 'maximize',
          candidates: fold.candidates.map((c, i) => ({
            config: { __model: c.model, ...c.config },
            value: fold.values[i],
            ...(fold.timesSec[i] !== undefined ? { costSec: fold.timesSec[i] } : {}),
          })),
        },
        method,
        nTrials,
        seed,
      );
      const evaluated = [...new Set(trace.evaluations.map((e) => e.candidate))];
      const order = evaluated.slice().sort((a, b) => fold.values[b] - fold.values[a]);
      const times = evaluated.map((i) => fold.timesSec[i]);
      return {
        order,
        pick: order[0],
        responseMs: performance.now() - t0,
        spentSec: times.every((t) => t !== undefined)
          ? times.reduce((s, t) => s + t!, 0)
          : undefined,
        fullRanking: false,
      };
    },
  };
}

export interface LodoOptions {
  metric: string;
  objective: Objective;
  methods: BenchMethod[];
  seeds: number;
  /** Keep multilabel datasets (off by default: their metrics are not comparable to multiclass ones). */
  includeMultilabel?: boolean;
  /** Only these held-out datasets (all by default). */
  datasets?: string[];
  progress?: Progress;
  /** Told how many datasets will be held out, before the first one is (to size a progress bar). */
  onFolds?: (count: number) => void;
}

/** The folds of a knowledge-base view, with the reasons datasets were left out. */
function buildFolds(
  view: KbView,
  options: Pick<LodoOptions, 'metric' | 'includeMultilabel' | 'datasets'>,
): { folds: Fold[]; skipped: BenchReport['skipped'] } {
  const sign = metricSign(options.metric);
  const scale = metricScale(options.metric);
  const runsBy = byDataset(runsOf(view, options.metric));
  const folds: Fold[] = [];
  const skipped: BenchReport['skipped'] = [];
  for (const dataset of [...runsBy.keys()].sort()) {
    if (options.datasets && !options.datasets.includes(dataset)) continue;
    const runs = runsBy.get(dataset)!;
    const profile = view.profiles.get(dataset);
    if (!profile) skipped.push({ dataset, reason: 'no dataset profile' });
    else if (profile.task === 'multilabel' && !options.includeMultilabel)
      skipped.push({ dataset, reason: 'multilabel task (use --include-multilabel)' });
    else if (runs.length < 2)
      skipped.push({
        dataset,
        reason: `only ${runs.length} distinct configuration with "${options.metric}"`,
      });
    else {
      folds.push({
        dataset,
        profile,
        train: withoutDataset(view, dataset),
        candidates: runs.map((r) => ({ model: r.model, config: r.config })),
        values: runs.map((r) => sign * r.value * scale),
        timesSec: runs.map((r) => r.timeSec),
        space: view.space,
      });
    }
  }
  const unknown = (options.datasets ?? []).filter((d) => !runsBy.has(d));
  if (unknown.length)
    throw new MetallmixError(
      `no finished runs with "${options.metric}" on ${unknown.map((d) => `"${d}"`).join(', ')}; datasets: ${[...runsBy.keys()].sort().join(', ')}`,
      {
        location: { field: 'datasets' },
      },
    );
  if (folds.length === 0)
    throw new MetallmixError(
      `no dataset can be held out: ${skipped.map((s) => `${s.dataset} (${s.reason})`).join(', ')}`,
      { exitCode: ExitCode.unsatisfiable },
    );
  return { folds, skipped };
}

function scoreRun(fold: Fold, run: MethodRun): DatasetResult {
  const v = fold.values;
  const best = v.indexOf(maxOf(v));
  const bestTime = fold.timesSec[best];
  const pickTime = fold.timesSec[run.pick];
  const cost = run.spentSec ?? pickTime;
  const predictedScore = new Array<number>(v.length).fill(0);
  const ivs = run.intervals
    ?.map((iv, i) => (iv ? { iv, v: v[i] } : undefined))
    .filter((x) => x !== undefined);
  run.order.forEach((idx, r) => (predictedScore[idx] = v.length - r));
  return {
    dataset: fold.dataset,
    candidates: v.length,
    regret: regret(v, run.pick),
    hitAt1: hitAtK(v, run.order, 1) ? 1 : 0,
    hitAt3: hitAtK(v, run.order, 3) ? 1 : 0,
    ndcgAt5: run.fullRanking ? ndcgAtK(v, run.order, 5) : null,
    spearman: run.fullRanking ? spearman(predictedScore, v) : null,
    costRatio: cost !== undefined && bestTime ? cost / bestTime : null,
    pickTimeSec: pickTime ?? null,
    responseMs: run.responseMs,
    coverage80: ivs?.length
      ? ivs.filter((x) => x.v >= x.iv.low && x.v <= x.iv.high).length / ivs.length
      : null,
    width80: ivs?.length ? mean(ivs.map((x) => x.iv.high - x.iv.low)) : null,
    pick: { ...fold.candidates[run.pick], value: v[run.pick], timeSec: pickTime ?? null },
    ...(run.extra ? { extra: run.extra } : {}),
  };
}

/** Mean of each numeric field over seeds; the pick and extras of the first seed. */
function averageSeeds(results: DatasetResult[]): DatasetResult {
  if (results.length === 1) return results[0];
  const avg = (get: (r: DatasetResult) => number | null) => {
    const xs = results.map(get);
    return xs.some((x) => x === null) ? null : mean(xs as number[]);
  };
  return {
    ...results[0],
    regret: avg((r) => r.regret)!,
    hitAt1: avg((r) => r.hitAt1)!,
    hitAt3: avg((r) => r.hitAt3)!,
    ndcgAt5: avg((r) => r.ndcgAt5),
    spearman: avg((r) => r.spearman),
    costRatio: avg((r) => r.costRatio),
    pickTimeSec: avg((r) => r.pickTimeSec),
    responseMs: avg((r) => r.responseMs)!,
    coverage80: avg((r) => r.coverage80),
    width80: avg((r) => r.width80),
  };
}

function summarize(name: string, perDataset: DatasetResult[]): MethodSummary {
  const avgOrNull = (xs: (number | null)[]) =>
    xs.length && xs.every((x) => x !== null) ? mean(xs as number[]) : null;
  return {
    name,
    meanRegret: mean(perDataset.map((r) => r.regret)),
    hitAt1: mean(perDataset.map((r) => r.hitAt1)),
    hitAt3: mean(perDataset.map((r) => r.hitAt3)),
    ndcgAt5: avgOrNull(perDataset.map((r) => r.ndcgAt5)),
    spearman: avgOrNull(perDataset.map((r) => r.spearman)),
    meanCostRatio: avgOrNull(perDataset.map((r) => r.costRatio)),
    meanPickTimeSec: avgOrNull(perDataset.map((r) => r.pickTimeSec)),
    responseMsMedian: median(perDataset.map((r) => r.responseMs)),
    coverage80: avgOrNull(perDataset.map((r) => r.coverage80)),
    meanWidth80: avgOrNull(perDataset.map((r) => r.width80)),
    perDataset,
  };
}

export async function runLodo(view: KbView, options: LodoOptions): Promise<BenchReport> {
  const { folds, skipped } = buildFolds(view, options);
  options.onFolds?.(folds.length);
  const perMethod = new Map<string, DatasetResult[]>(options.methods.map((m) => [m.name, []]));
  let done = 0;
  for (const fold of folds) {
    const shared = foldShared(fold);
    for (const method of options.methods) {
      const seeds = method.stochastic ? options.seeds : 1;
      const results: DatasetResult[] = [];
      for (let s = 0; s < seeds; s++)
        results.push(
          scoreRun(fold, await method.run(fold, s, options.metric, options.objective, shared)),
        );
      perMethod.get(method.name)!.push(averageSeeds(results));
    }
    options.progress?.tick(++done, fold.dataset);
  }
  options.progress?.finish();
  return {
    protocol: 'lodo',
    knowledgeBase: { label: view.label, version: view.version },
    metric: options.metric,
    objective: options.objective,
    seeds: options.seeds,
    datasets: folds.length,
    skipped,
    methods: options.methods.map((m) => summarize(m.name, perMethod.get(m.name)!)),
  };
}
