// The meta-learner: gradient-boosted trees that predict, for a dataset profile and a candidate,
// the metric a fine-tuning run would reach and its training time. Three model kinds, each an
// ensemble over a bootstrap of datasets (the spread is the prediction's uncertainty):
//   effect: how much a candidate beats the average run on the same dataset (metric points).
//           Candidates of one request share a dataset, so this alone ranks them; centring per
//           dataset removes the between-dataset difficulty that would otherwise swamp it.
//   level:  the average metric a dataset reaches, from its meta-features (absolute predictions).
//   time:   log10 training seconds.
import {
  ExitCode,
  isLowerBetter,
  maxOf,
  MetallmixError,
  minOf,
  pushAll,
  Rng,
  type Candidate,
  type DatasetProfile,
  type Interval,
} from '../core/index.ts';
import {
  datasetFeatureValues,
  encodeRows,
  fitEncoder,
  type EncodedRow,
  type EncoderSpec,
} from '../learn/encode.ts';
import { trainGBDT } from '../learn/gbdt.ts';
import { selectRows } from '../learn/matrix.ts';
import type { GBDTParamsInput } from '../learn/params.ts';
// The JS walk, not predict.ts's WASM kernel: a process answers once, and packing 1,500 trees for
// the kernel costs more than the kernel saves on a request's few hundred candidates.
import { predictMargins } from '../learn/ensemble-predict.ts';
import type { FeatureType, TreeEnsemble } from '../learn/tree-model.ts';
import { formatValue, type Insight } from '../explain/index.ts';
import { globalInsights } from './global-insights.ts';
import {
  aggregateRuns,
  byDataset,
  metricScale,
  type AggregatedRun,
  type KbView,
} from './kb-view.ts';

export interface MetaLearnerSettings {
  metric: string;
  members: number;
  seed: number;
  params: GBDTParamsInput;
}

export const DEFAULT_SETTINGS: Omit<MetaLearnerSettings, 'metric'> = {
  members: 5,
  seed: 0,
  params: {
    n_estimators: 150,
    eta: 0.05,
    max_depth: 4,
    min_child_weight: 1,
    subsample: 0.8,
    colsample_bytree: 0.8,
    lambda: 1,
  },
};

export interface MetaLearner {
  settings: MetaLearnerSettings;
  encoder: EncoderSpec;
  effect: TreeEnsemble[];
  level: TreeEnsemble[];
  /** Empty when the knowledge base records no training times. */
  time: TreeEnsemble[];
  /** Training rows (distinct configurations per dataset) the effect model saw. */
  trainingRows: number;
  /** Global SHAP insights of the effect model, in effect units (metric points for scores). */
  insights: Insight[];
  /** Encoded range of each numeric dataset meta-feature over the training datasets. */
  datasetRanges: { feature: string; low: number; high: number }[];
  /**
   * Lowest and highest metric of a training run (stored scale): what the learner can support.
   * Absent in learners cached before it existed; they clamp to the metric's own range.
   */
  metricRange?: { low: number; high: number };
  /**
   * Every dataset meta-feature over the training datasets, also those constant there (which the
   * encoder drops); absent in learners cached before it existed (they check encoded ones only).
   */
  profileRanges?: ProfileRange[];
  /** The same over the datasets with recorded training times: what the time model was measured on. */
  timedRanges?: ProfileRange[];
}

/** A meta-feature's raw range (numeric) or values seen (categorical) over some datasets. */
export interface ProfileRange {
  feature: string;
  low?: number;
  high?: number;
  values?: string[];
}

function profileRanges(profiles: readonly DatasetProfile[]): ProfileRange[] {
  const seen = new Map<string, (number | string)[]>();
  for (const p of profiles)
    for (const [k, v] of datasetFeatureValues(p)) seen.get(k)?.push(v) ?? seen.set(k, [v]);
  return [...seen].map(([feature, vs]) =>
    typeof vs[0] === 'number'
      ? { feature, low: minOf(vs as number[]), high: maxOf(vs as number[]) }
      : { feature, values: [...new Set(vs as string[])].sort() },
  );
}

/** Where `profile` lies outside `ranges`, in words (a feature missing from the profile is not). */
export function outsideRanges(ranges: readonly ProfileRange[], profile: DatasetProfile): string[] {
  const values = datasetFeatureValues(profile);
  const out: string[] = [];
  for (const r of ranges) {
    const x = values.get(r.feature);
    if (x === undefined) continue;
    if (r.values && !r.values.includes(String(x)))
      out.push(`${r.feature} "${x}" is not among the knowledge base's (${r.values.join(', ')})`);
    else if (typeof x === 'number' && r.low !== undefined && r.high !== undefined) {
      const tol = 1e-9 * Math.max(1, Math.abs(r.low), Math.abs(r.high));
      if (x < r.low - tol || x > r.high + tol)
        out.push(
          r.low === r.high
            ? `${r.feature} ${formatValue(x)} differs from the knowledge base's only value (${formatValue(r.low)})`
            : `${r.feature} ${formatValue(x)} is outside the knowledge base's range (${formatValue(r.low)} to ${formatValue(r.high)})`,
        );
    }
  }
  return out;
}

/**
 * Where a new dataset lies outside what the meta-learner has seen (a numeric meta-feature beyond
 * the training datasets' range, a task or modality no training dataset has): its predictions
 * there are extrapolations, and the user should be told.
 */
export function outsideKnowledge(learner: MetaLearner, profile: DatasetProfile): string[] {
  if (learner.profileRanges) return outsideRanges(learner.profileRanges, profile);
  const row = encodeRows(learner.encoder, [{ profile, model: '', config: {}, card: undefined }]);
  const out: string[] = [];
  learner.encoder.features.forEach((spec, j) => {
    if (spec.source !== 'dataset') return;
    const x = row[j];
    const range = learner.datasetRanges.find((r) => r.feature === spec.name);
    if (spec.kind === 'categorical' && Number.isNaN(x)) {
      const raw =
        spec.key === 'task' ? profile.task : spec.key === 'modality' ? profile.modality : undefined;
      if (raw !== undefined)
        out.push(
          `${spec.name} "${raw}" is not among the knowledge base's (${spec.categories!.join(', ')})`,
        );
    } else if (range && !Number.isNaN(x) && (x < range.low - 1e-9 || x > range.high + 1e-9)) {
      const show = (v: number) => formatValue(spec.log ? 10 ** v : v);
      out.push(
        `${spec.name} ${show(x)} is outside the knowledge base's range (${show(range.low)} to ${show(range.high)})`,
      );
    }
  });
  return out;
}

export interface Prediction {
  /** Metric on the stored (fraction) scale. */
  metric: Interval;
  /** Predicted improvement over the dataset's average run, in metric points; ranks candidates. */
  effect: Interval;
  trainingTimeSec?: Interval;
}

/** Central 80% interval of a normal approximation to the ensemble's spread. */
const Z80 = 1.2816;

function interval(values: readonly number[]): Interval {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const sd =
    values.length > 1
      ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1))
      : 0;
  return { mean, low: mean - Z80 * sd, high: mean + Z80 * sd };
}

/**
 * Each member's prediction kept inside what the training runs reached (and inside the metric's
 * own range: scores in [0, 1], losses >= 0), before the interval is taken over the members. A
 * level plus an effect learned on another dataset can add up past any run ever seen; clamping
 * the finished interval instead collapsed it to a point, e.g. 100.0 [100.0, 100.0].
 */
function supportedMembers(values: number[], learner: MetaLearner): number[] {
  const metric = learner.settings.metric;
  const low = Math.max(0, learner.metricRange?.low ?? 0);
  const high = Math.min(
    isLowerBetter(metric) ? Infinity : 1,
    learner.metricRange?.high ?? Infinity,
  );
  return values.map((x) => Math.min(high, Math.max(low, x)));
}

function rowsFor(view: KbView, runs: readonly AggregatedRun[]): EncodedRow[] {
  return runs.map((r) => ({
    profile: view.profiles.get(r.dataset)!,
    card: view.cards.get(r.model),
    model: r.model,
    config: r.config,
  }));
}

function featureTypes(encoder: EncoderSpec): FeatureType[] {
  return encoder.features.map((f) => (f.kind === 'categorical' ? 'c' : 'q'));
}

/**
 * Fits one ensemble on the rows `idx` of X (repeats allowed: bootstrap samples), whose columns
 * are `names` with their types.
 */
export function fitEnsemble(
  names: readonly string[],
  types: readonly FeatureType[],
  X: Float64Array,
  idx: readonly number[],
  target: (row: number) => number,
  params: GBDTParamsInput,
  seed: number,
): TreeEnsemble {
  const y = Float64Array.from(idx, target);
  // Start from the target mean (XGBoost 1.7's default 0.5 would cost the first trees on the offset).
  const baseScore = y.reduce((s, v) => s + v, 0) / y.length;
  return trainGBDT(
    {
      X: { data: selectRows(X, names.length, idx), numRows: idx.length, numFeatures: names.length },
      y,
      featureNames: [...names],
      featureTypes: [...types],
    },
    { ...params, seed, objective: 'reg:squarederror', base_score: baseScore },
  );
}

/** What the members of a meta-learner are fitted on (rows of X; level rows, one per dataset). */
export interface MemberData {
  names: readonly string[];
  types: readonly FeatureType[];
  X: Float64Array;
  levelX: Float64Array;
  datasets: readonly string[];
  rowsOf: ReadonlyMap<string, number[]>;
  effect: (row: number) => number;
  level: (dataset: number) => number;
  /** log10 of a row's training time; undefined when the run has none. */
  logTime: (row: number) => number | undefined;
}

/**
 * The effect, level and log-time ensembles of every member: each member sees a bootstrap sample
 * of whole datasets (all rows with one member), the same draws for the three models.
 */
export function fitMembers(
  data: MemberData,
  settings: { members: number; seed: number; params: GBDTParamsInput },
): { effect: TreeEnsemble[]; level: TreeEnsemble[]; time: TreeEnsemble[] } {
  const { names, types, X, levelX, datasets, rowsOf } = data;
  const numRows = X.length / names.length;
  const timed = (i: number) => data.logTime(i) !== undefined;
  let anyTimed = false;
  for (let i = 0; i < numRows && !anyTimed; i++) anyTimed = timed(i);
  const levelParams = levelParamsOf(settings.params);
  const rng = new Rng(settings.seed).fork('metalearner');
  const out = {
    effect: [] as TreeEnsemble[],
    level: [] as TreeEnsemble[],
    time: [] as TreeEnsemble[],
  };
  for (let m = 0; m < settings.members; m++) {
    const memberRng = rng.fork(m);
    const idx =
      settings.members === 1
        ? Array.from({ length: numRows }, (_, i) => i)
        : datasetBootstrap(datasets, rowsOf, memberRng);
    const seed = settings.seed + m;
    out.effect.push(fitEnsemble(names, types, X, idx, data.effect, settings.params, seed));
    const lidx =
      settings.members === 1
        ? datasets.map((_, i) => i)
        : datasets.map(() => memberRng.int(datasets.length));
    out.level.push(fitEnsemble(names, types, levelX, lidx, data.level, levelParams, seed));
    if (anyTimed)
      out.time.push(
        fitEnsemble(
          names,
          types,
          X,
          idx.filter(timed),
          (i) => data.logTime(i)!,
          settings.params,
          settings.seed + 1000 + m,
        ),
      );
  }
  return out;
}

/** Row indices per dataset, in row order. */
export function rowsByDataset(runs: readonly { dataset: string }[]): Map<string, number[]> {
  const rowsOf = new Map<string, number[]>();
  runs.forEach((r, i) => rowsOf.get(r.dataset)?.push(i) ?? rowsOf.set(r.dataset, [i]));
  return rowsOf;
}

/**
 * The level model's rows, one per dataset: its first run's encoding with every column that is
 * not a dataset meta-feature missing (`f` columns per row of X; extra columns stay missing).
 */
export function datasetLevelRows(
  encoder: EncoderSpec,
  datasets: readonly string[],
  rowsOf: ReadonlyMap<string, number[]>,
  X: Float64Array,
  f: number,
): Float64Array {
  const levelX = new Float64Array(datasets.length * f).fill(Number.NaN);
  datasets.forEach((d, i) => {
    const first = rowsOf.get(d)![0];
    encoder.features.forEach((spec, j) => {
      if (spec.source === 'dataset') levelX[i * f + j] = X[first * f + j];
    });
  });
  return levelX;
}

/** The level model's settings: small trees on a few rows (one per dataset), no subsampling. */
export function levelParamsOf(params: GBDTParamsInput): GBDTParamsInput {
  return { ...params, max_depth: 2, n_estimators: 50, subsample: 1, colsample_bytree: 1 };
}

/** Rows (indices) of a bootstrap sample of datasets: whole datasets are drawn, never single rows. */
export function datasetBootstrap(
  datasets: readonly string[],
  rowsOf: ReadonlyMap<string, number[]>,
  rng: Rng,
): number[] {
  const out: number[] = [];
  for (let i = 0; i < datasets.length; i++) pushAll(out, rowsOf.get(rng.choice(datasets))!);
  return out;
}

/** Trains the meta-learner on every dataset of `view` that has a profile and finished runs with the metric. */
export function fitMetaLearner(view: KbView, settings: MetaLearnerSettings): MetaLearner {
  const scale = metricScale(settings.metric);
  const runs = aggregateRuns(view.records, settings.metric).filter((r) =>
    view.profiles.has(r.dataset),
  );
  const datasets = [...byDataset(runs).keys()].sort();
  if (datasets.length === 0)
    throw new MetallmixError(
      `no finished runs with metric "${settings.metric}" on a profiled dataset`,
      { exitCode: ExitCode.unsatisfiable },
    );
  const rows = rowsFor(view, runs);
  const encoder = fitEncoder(rows, view.space);
  const f = encoder.features.length;
  const X = encodeRows(encoder, rows);
  const names = encoder.features.map((spec) => spec.name);
  const types = featureTypes(encoder);

  const means = new Map<string, number>();
  for (const [d, list] of byDataset(runs))
    means.set(d, list.reduce((s, r) => s + r.value, 0) / list.length);
  const effectY = Float64Array.from(runs, (r) => (r.value - means.get(r.dataset)!) * scale);
  const rowsOf = rowsByDataset(runs);
  const levelX = datasetLevelRows(encoder, datasets, rowsOf, X, f);
  const levelY = Float64Array.from(datasets, (d) => means.get(d)! * scale);
  const { effect, level, time } = fitMembers(
    {
      names,
      types,
      X,
      levelX,
      datasets,
      rowsOf,
      effect: (i) => effectY[i],
      level: (i) => levelY[i],
      logTime: (i) => {
        const t = runs[i].timeSec;
        return t !== undefined && t > 0 ? Math.log10(t) : undefined;
      },
    },
    settings,
  );
  let metricLow = Infinity;
  let metricHigh = -Infinity;
  for (const r of runs) {
    if (r.value < metricLow) metricLow = r.value;
    if (r.value > metricHigh) metricHigh = r.value;
  }
  const datasetRanges = encoder.features.flatMap((spec, j) => {
    if (spec.source !== 'dataset' || spec.kind !== 'numeric') return [];
    const v = datasets.map((_, i) => levelX[i * f + j]).filter((x) => !Number.isNaN(x));
    return v.length ? [{ feature: spec.name, low: minOf(v), high: maxOf(v) }] : [];
  });
  let insights: Insight[] | undefined;
  return {
    settings,
    encoder,
    effect,
    level,
    time,
    trainingRows: runs.length,
    // Computed on first use: they cost more than the fit, and only retrieval and the LLM prompt
    // read them (a benchmark of the metalearner method never does).
    get insights() {
      return (insights ??= globalInsights(effect, encoder, X, runs.length, settings.seed));
    },
    datasetRanges,
    metricRange: { low: metricLow, high: metricHigh },
    profileRanges: profileRanges(datasets.map((d) => view.profiles.get(d)!)),
    timedRanges: profileRanges(
      [
        ...new Set(
          runs.filter((r) => r.timeSec !== undefined && r.timeSec > 0).map((r) => r.dataset),
        ),
      ]
        .sort()
        .map((d) => view.profiles.get(d)!),
    ),
  };
}

/** Every ensemble member's raw margins: effect and log10 time per candidate, and the level. */
export interface MemberMargins {
  effects: number[][];
  levels: number[];
  times: number[][];
}

/**
 * The last margins computed for a candidate list: a request asks for them twice over the same
 * list (predictCandidates for intervals and times, the self-validated blend through its member
 * predictor), and walking every tree of every member is the bulk of a cached recommendation.
 */
const lastMargins = new WeakMap<
  readonly Candidate[],
  { learner: MetaLearner; profile: DatasetProfile; cards: KbView['cards']; margins: MemberMargins }
>();

/** Every member's margins for the candidates (computed once per learner, profile and list). */
export function memberMargins(
  learner: MetaLearner,
  profile: DatasetProfile,
  candidates: readonly Candidate[],
  cards: KbView['cards'],
): MemberMargins {
  const last = lastMargins.get(candidates);
  if (last && last.learner === learner && last.profile === profile && last.cards === cards)
    return last.margins;
  const margins = computeMargins(learner, profile, candidates, cards);
  lastMargins.set(candidates, { learner, profile, cards, margins });
  return margins;
}

function computeMargins(
  learner: MetaLearner,
  profile: DatasetProfile,
  candidates: readonly Candidate[],
  cards: KbView['cards'],
): MemberMargins {
  const rows: EncodedRow[] = candidates.map((c) => ({
    profile,
    card: cards.get(c.model),
    model: c.model,
    config: c.config,
  }));
  const X = {
    data: encodeRows(learner.encoder, rows),
    numRows: rows.length,
    numFeatures: learner.encoder.features.length,
  };
  const margins = predictMargins([...learner.effect, ...learner.time], X);
  // The level models see only dataset meta-features, equal in every row: one row is enough.
  const first = { ...X, data: X.data.subarray(0, X.numFeatures), numRows: 1 };
  return {
    effects: margins.slice(0, learner.effect.length).map((m) => Array.from(m)),
    levels: predictMargins(learner.level, first).map((m) => m[0]),
    times: margins.slice(learner.effect.length).map((m) => Array.from(m)),
  };
}

/** Predictions for every candidate on the dataset described by `profile`. */
export function predictCandidates(
  learner: MetaLearner,
  profile: DatasetProfile,
  candidates: readonly Candidate[],
  cards: KbView['cards'],
): Prediction[] {
  const scale = metricScale(learner.settings.metric);
  const { effects, levels, times } = memberMargins(learner, profile, candidates, cards);
  return candidates.map((_, i) => {
    const eff = effects.map((e) => e[i]);
    const metric = interval(
      supportedMembers(
        eff.map((e, m) => (levels[m] + e) / scale),
        learner,
      ),
    );
    const bounded = supportedMembers([metric.low, metric.high], learner);
    metric.low = bounded[0];
    metric.high = bounded[1];
    const out: Prediction = { metric, effect: interval(eff) };
    if (times.length) {
      const logT = interval(times.map((t) => t[i]));
      out.trainingTimeSec = { mean: 10 ** logT.mean, low: 10 ** logT.low, high: 10 ** logT.high };
    }
    return out;
  });
}
