// The meta-learner's fitting (src/recommend/metalearner.ts: bootstrap ensembles over datasets of
// an effect model, a level model and a log-time model) with one addition the experiments need:
// derived feature columns appended to the encoder's (FeatureSet), and no SHAP insights, which
// inner validation folds never read and which cost most of a fit. With no derived features the
// predictions equal fitMetaLearner's for the same settings.
import { type Candidate, type DatasetProfile, type ModelCard } from '../../core/index.ts';
import { encodeRows, fitEncoder, type EncodedRow, type EncoderSpec } from '../../learn/encode.ts';
import type { GBDTParamsInput } from '../../learn/params.ts';
import { predictMargin } from '../../learn/predict.ts';
import type { TreeEnsemble } from '../../learn/tree-model.ts';
import type { KbView } from '../kb-view.ts';
import { DEFAULT_SETTINGS, datasetLevelRows, fitMembers, rowsByDataset } from '../metalearner.ts';
import { mean, runTable, type PointRun } from './table.ts';
import { maxOf, minOf } from '../../core/arrays.ts';

/** Extra columns computed from a row (dataset profile, model card, configuration). */
export interface FeatureSet {
  names: string[];
  /** 'c' columns hold category codes (GBDT categorical splits), 'q' numbers. */
  types: ('q' | 'c')[];
  /**
   * `dataset` is the row's training dataset (undefined for a new one), so a feature built from
   * other rows' targets can leave the row's own dataset out, as it will be for a new dataset.
   */
  compute(row: EncodedRow, dataset?: string): number[];
}

export interface TrainingRows {
  rows: readonly EncodedRow[];
  datasets: readonly string[];
  /** Oriented points above each row's dataset average (the effect target). */
  effect: readonly number[];
  space: KbView['space'];
}

/** Builds a feature set from the training rows (vocabularies, ranges, out-of-dataset targets). */
export type FeatureSetFactory = (training: TrainingRows) => FeatureSet;

export interface LearnerSettings {
  members: number;
  seed: number;
  params: GBDTParamsInput;
  features?: FeatureSetFactory;
}

export const LEARNER_DEFAULTS: LearnerSettings = {
  members: DEFAULT_SETTINGS.members,
  seed: DEFAULT_SETTINGS.seed,
  params: DEFAULT_SETTINGS.params,
};

export interface Learner {
  metric: string;
  encoder: EncoderSpec;
  extra?: FeatureSet;
  effect: TreeEnsemble[];
  level: TreeEnsemble[];
  time: TreeEnsemble[];
  /** Range of each numeric dataset feature over the training datasets. */
  ranges: { feature: number; low: number; high: number }[];
}

export interface LearnerPrediction {
  /** Oriented points above the dataset's average run, one array per ensemble member. */
  effect: number[][];
  /** Oriented points of the dataset's average run, per member. */
  level: number[];
  /** log10 seconds per member (empty without recorded times). */
  logTime: number[][];
}

function encode(
  learner: Pick<Learner, 'encoder' | 'extra'>,
  rows: readonly EncodedRow[],
  datasets?: readonly string[],
): Float64Array {
  const base = encodeRows(learner.encoder, rows);
  const extra = learner.extra;
  if (!extra || extra.names.length === 0) return base;
  const f0 = learner.encoder.features.length;
  const f = f0 + extra.names.length;
  const X = new Float64Array(rows.length * f);
  rows.forEach((row, i) => {
    for (let j = 0; j < f0; j++) X[i * f + j] = base[i * f0 + j];
    extra.compute(row, datasets?.[i]).forEach((v, j) => (X[i * f + f0 + j] = v));
  });
  return X;
}

function width(learner: Pick<Learner, 'encoder' | 'extra'>): number {
  return learner.encoder.features.length + (learner.extra?.names.length ?? 0);
}

function rowOf(view: KbView, r: PointRun): EncodedRow {
  return {
    profile: view.profiles.get(r.dataset)!,
    card: view.cards.get(r.model),
    model: r.model,
    config: r.run.config,
  };
}

/** Fits effect, level and time ensembles on every profiled dataset of `view`. */
export function fitLearner(
  view: KbView,
  metric: string,
  settings: LearnerSettings = LEARNER_DEFAULTS,
): Learner {
  const table = runTable(view, metric);
  const runs = table.runs;
  const rows = runs.map((r) => rowOf(view, r));
  const encoder = fitEncoder(rows, view.space);
  const datasets = table.datasets;
  const means = new Map(datasets.map((d) => [d, mean(table.byDataset.get(d)!.map((r) => r.y))]));
  const effectY = runs.map((r) => r.y - means.get(r.dataset)!);
  const rowDatasets = runs.map((r) => r.dataset);
  const extra = settings.features?.({
    rows,
    datasets: rowDatasets,
    effect: effectY,
    space: view.space,
  });
  const shape = { encoder, extra };
  const X = encode(shape, rows, rowDatasets);
  const f = width(shape);
  const names = [...encoder.features.map((s) => s.name), ...(extra?.names ?? [])];
  const types = [
    ...encoder.features.map((s) => (s.kind === 'categorical' ? ('c' as const) : ('q' as const))),
    ...(extra?.types ?? []),
  ];
  const rowsOf = rowsByDataset(runs);
  const levelX = datasetLevelRows(encoder, datasets, rowsOf, X, f);
  const levelY = datasets.map((d) => means.get(d)!);
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
        const t = runs[i].run.timeSec;
        return t !== undefined && t > 0 ? Math.log10(t) : undefined;
      },
    },
    settings,
  );
  const ranges = encoder.features.flatMap((spec, j) => {
    if (spec.source !== 'dataset' || spec.kind !== 'numeric') return [];
    const v = datasets.map((_, i) => levelX[i * f + j]).filter((x) => !Number.isNaN(x));
    return v.length ? [{ feature: j, low: minOf(v), high: maxOf(v) }] : [];
  });
  return { metric, encoder, extra, effect, level, time, ranges };
}

export function predictLearner(
  learner: Learner,
  profile: DatasetProfile,
  candidates: readonly Candidate[],
  cards: ReadonlyMap<string, ModelCard>,
): LearnerPrediction {
  const rows: EncodedRow[] = candidates.map((c) => ({
    profile,
    card: cards.get(c.model),
    model: c.model,
    config: c.config,
  }));
  const X = { data: encode(learner, rows), numRows: rows.length, numFeatures: width(learner) };
  return {
    effect: learner.effect.map((m) => Array.from(predictMargin(m, X))),
    level: learner.level.map((m) => predictMargin(m, { ...X, numRows: 1 })[0]),
    logTime: learner.time.map((m) => Array.from(predictMargin(m, X))),
  };
}

/**
 * How far outside the training datasets the profile lies: the number of numeric dataset
 * features beyond their training range plus categorical values never seen (0 = inside).
 */
export function outsideCount(learner: Learner, profile: DatasetProfile): number {
  const x = encodeRows(learner.encoder, [{ profile, model: '', config: {} }]);
  let n = 0;
  learner.encoder.features.forEach((spec, j) => {
    if (spec.source !== 'dataset') return;
    if (spec.kind === 'categorical') {
      const raw =
        spec.key === 'task' ? profile.task : spec.key === 'modality' ? profile.modality : undefined;
      if (raw !== undefined && Number.isNaN(x[j])) n++;
      return;
    }
    const r = learner.ranges.find((q) => q.feature === j);
    if (r && !Number.isNaN(x[j]) && (x[j] < r.low - 1e-9 || x[j] > r.high + 1e-9)) n++;
  });
  return n;
}
