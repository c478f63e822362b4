// The `gbdt` operations for users who bring their own XGBoost surrogate (and for checking ours):
// train on a CSV into an XGBoost JSON model, predict, and explain with exact TreeSHAP.
import { MetallmixError, silentProgressFactory, type ProgressFactory } from '../core/index.ts';
import { shapTable, type ShapTable } from '../explain/index.ts';
import { readCsvData } from '../learn/csv-matrix.ts';
import { trainGBDT, type ValidationScore } from '../learn/gbdt.ts';
import { resolveParams } from '../learn/params.ts';
import { predict, predictMargin } from '../learn/predict.ts';
import type { FeatureType } from '../learn/tree-model.ts';
import { loadModelFile, saveModelFile } from '../learn/xgboost-json.ts';

export interface GbdtTrainInput {
  /** Training CSV: a header of column names, numbers, empty cell = missing. */
  data: string;
  target: string;
  /** XGBoost parameters (n_estimators, eta, max_depth, ...; objective). */
  params?: Record<string, unknown>;
  /** Query-group column for rank:pairwise. */
  group?: string;
  /** Feature columns holding integer category codes. */
  categorical?: string[];
  /** Columns that are not features (ids, other targets). */
  ignore?: string[];
  /** Validation CSV with the same columns, watched for early_stopping_rounds. */
  valid?: string;
  /** Where to write the XGBoost JSON model. */
  out: string;
  progress?: ProgressFactory;
}

export interface GbdtTrainResult {
  model: string;
  objective: string;
  trees: number;
  rows: number;
  features: string[];
  categorical: string[];
  validation?: ValidationScore;
}

/** ndcg grows with quality; rmse and logloss shrink. */
const improves = (score: ValidationScore, best: ValidationScore | undefined): boolean =>
  best === undefined ||
  (score.metric === 'ndcg' ? score.value > best.value : score.value < best.value);

export function gbdtTrain(input: GbdtTrainInput): GbdtTrainResult {
  const params = input.params ?? {};
  // Checked (and defaults filled) before the data is read; the same defaults training uses.
  const resolved = resolveParams(params, { field: 'params' });
  const categorical = input.categorical ?? [];
  const ignore = input.ignore ?? [];
  const notFeatures = new Set([input.target, ...(input.group ? [input.group] : []), ...ignore]);
  // Parsed straight into the training matrix: no copy of the CSV table is kept while training.
  const data = readCsvData(input.data, {
    features: (columns) => {
      for (const name of [...categorical, ...ignore])
        if (!columns.includes(name))
          throw new MetallmixError(`no column "${name}" (columns: ${columns.join(', ')})`, {
            location: { file: input.data, line: 1 },
          });
      const names = columns.filter((c) => !notFeatures.has(c));
      if (names.length === 0)
        throw new MetallmixError('no feature columns besides the target', {
          location: { file: input.data, line: 1 },
        });
      return { names, types: names.map((c): FeatureType => (categorical.includes(c) ? 'c' : 'q')) };
    },
    target: input.target,
    group: input.group,
  });
  const { X, featureNames, featureTypes } = data;
  const y = data.y!;
  const groups = data.groups;
  let valid;
  if (input.valid) {
    const v = readCsvData(input.valid, {
      features: () => ({ names: featureNames, types: featureTypes }),
      target: input.target,
      group: input.group,
    });
    valid = { X: v.X, y: v.y!, groups: v.groups };
  }
  const progress = (input.progress ?? silentProgressFactory)('training', resolved.n_estimators);
  let best: ValidationScore | undefined;
  const model = trainGBDT({ X, y, featureNames, featureTypes, groups }, params, {
    valid,
    onRound: (round, score) => {
      if (score && improves(score, best)) best = score;
      progress.tick(round + 1, score && `valid ${score.metric} ${score.value.toFixed(5)}`);
    },
  });
  progress.finish(`${model.trees.length} trees kept`);
  saveModelFile(input.out, model);
  return {
    model: input.out,
    objective: model.objective,
    trees: model.trees.length,
    rows: X.numRows,
    features: featureNames,
    categorical,
    ...(best ? { validation: best } : {}),
  };
}

/** Predictions of an XGBoost JSON model (ours or XGBoost's) for each row of a CSV. */
export function gbdtPredict(input: { model: string; data: string; margin?: boolean }): {
  predictions: number[];
} {
  const model = loadModelFile(input.model);
  const { X } = readCsvData(input.data, {
    features: () => ({ names: model.featureNames, types: model.featureTypes }),
  });
  return { predictions: Array.from(input.margin ? predictMargin(model, X) : predict(model, X)) };
}

/** Exact TreeSHAP values (and optionally interaction values) of a model's margin for each CSV row. */
export function gbdtShap(input: {
  model: string;
  data: string;
  interactions?: boolean;
}): ShapTable {
  const model = loadModelFile(input.model);
  const { X } = readCsvData(input.data, {
    features: () => ({ names: model.featureNames, types: model.featureTypes }),
  });
  return shapTable(model, X, { interactions: input.interactions });
}
