import type { Command } from 'commander';
import { MetallmixError } from '../../core/errors.ts';
import { readCsvData } from '../../learn/csv-matrix.ts';
import { trainGBDT, type ValidationScore } from '../../learn/gbdt.ts';
import { predict, predictMargin } from '../../learn/predict.ts';
import type { FeatureType } from '../../learn/tree-model.ts';
import { loadModelFile, saveModelFile } from '../../learn/xgboost-json.ts';
import { createProgress } from '../progress.ts';
import { emit, jsonOption, withExamples } from '../output.ts';
import { registerGbdtShap } from './gbdt-shap.ts';

interface TrainFlags {
  data: string;
  target: string;
  objective?: string;
  group?: string;
  categorical?: string;
  ignore?: string;
  params?: string;
  valid?: string;
  out: string;
  json?: boolean;
}

interface PredictFlags {
  model: string;
  data: string;
  margin?: boolean;
  json?: boolean;
}

const list = (value: string | undefined): string[] =>
  value
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];

function parseParams(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new MetallmixError(`--params is not valid JSON: ${(err as Error).message}`, {
      location: { field: '--params' },
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new MetallmixError('--params must be a JSON object, e.g. \'{"max_depth":6}\'', {
      location: { field: '--params' },
    });
  return value as Record<string, unknown>;
}

/** ndcg grows with quality; rmse and logloss shrink. */
const improves = (score: ValidationScore, best: ValidationScore | undefined): boolean =>
  best === undefined ||
  (score.metric === 'ndcg' ? score.value > best.value : score.value < best.value);

function train(flags: TrainFlags): void {
  const params = parseParams(flags.params);
  if (flags.objective) {
    if (params.objective !== undefined && params.objective !== flags.objective)
      throw new MetallmixError(
        `--objective ${flags.objective} contradicts "objective": "${String(params.objective)}" in --params`,
        { location: { field: '--objective' } },
      );
    params.objective = flags.objective;
  }
  const categorical = list(flags.categorical);
  const ignore = list(flags.ignore);
  const notFeatures = new Set([flags.target, ...(flags.group ? [flags.group] : []), ...ignore]);
  const data = readCsvData(flags.data, {
    features: (columns) => {
      for (const name of [...categorical, ...ignore])
        if (!columns.includes(name))
          throw new MetallmixError(`no column "${name}" (columns: ${columns.join(', ')})`, {
            location: { file: flags.data, line: 1 },
          });
      const names = columns.filter((c) => !notFeatures.has(c));
      if (names.length === 0)
        throw new MetallmixError('no feature columns besides the target', {
          location: { file: flags.data, line: 1 },
        });
      return { names, types: names.map((c): FeatureType => (categorical.includes(c) ? 'c' : 'q')) };
    },
    target: flags.target,
    group: flags.group,
  });
  const { X, featureNames, featureTypes } = data;
  const y = data.y!;
  const groups = data.groups;
  let valid;
  if (flags.valid) {
    const v = readCsvData(flags.valid, {
      features: () => ({ names: featureNames, types: featureTypes }),
      target: flags.target,
      group: flags.group,
    });
    valid = { X: v.X, y: v.y!, groups: v.groups };
  }
  const rounds = typeof params.n_estimators === 'number' ? params.n_estimators : 100;
  const progress = flags.json ? undefined : createProgress('training', rounds);
  let best: ValidationScore | undefined;
  const model = trainGBDT({ X, y, featureNames, featureTypes, groups }, params, {
    valid,
    onRound: (round, score) => {
      if (score && improves(score, best)) best = score;
      progress?.tick(round + 1, score && `valid ${score.metric} ${score.value.toFixed(5)}`);
    },
  });
  progress?.finish(`${model.trees.length} trees kept`);
  saveModelFile(flags.out, model);
  const summary = {
    model: flags.out,
    objective: model.objective,
    trees: model.trees.length,
    rows: X.numRows,
    features: featureNames,
    categorical,
    ...(best ? { validation: best } : {}),
  };
  emit(
    summary,
    flags.json,
    (s) =>
      `wrote ${s.model}: ${s.trees} trees (${s.objective}) over ${s.features.length} features from ${s.rows} rows` +
      (s.validation ? `; best validation ${s.validation.metric} ${s.validation.value}` : ''),
  );
}

function predictCommand(flags: PredictFlags): void {
  const model = loadModelFile(flags.model);
  const { X } = readCsvData(flags.data, {
    features: () => ({ names: model.featureNames, types: model.featureTypes }),
  });
  const values = flags.margin ? predictMargin(model, X) : predict(model, X);
  emit({ predictions: Array.from(values) }, flags.json, (v) => v.predictions.join('\n'));
}

/** The `gbdt` command group: train, predict, shap. */
export function registerGbdt(program: Command): void {
  const group = program
    .command('gbdt')
    .description('Gradient-boosted trees in XGBoost JSON format: train, predict, explain (SHAP)');

  const trainCmd = group
    .command('train')
    .description(
      'Train a gradient-boosted tree model (XGBoost hist-compatible) and save it as XGBoost JSON',
    )
    .requiredOption(
      '--data <file>',
      'training CSV: header of column names, numbers, empty cell = missing',
    )
    .requiredOption('--target <column>', 'column to predict')
    .option('--objective <name>', 'reg:squarederror (default), binary:logistic or rank:pairwise')
    .option('--group <column>', 'query group of each row (rank:pairwise ranks rows within a group)')
    .option(
      '--categorical <columns>',
      'comma-separated feature columns holding integer category codes',
    )
    .option(
      '--ignore <columns>',
      'comma-separated columns that are not features (ids, other targets)',
    )
    .option(
      '--params <json>',
      'XGBoost parameters: n_estimators, eta, max_depth, min_child_weight, lambda, alpha, gamma, subsample, colsample_bytree, max_bin, max_cat_to_onehot, base_score, seed, early_stopping_rounds',
    )
    .option('--valid <file>', 'validation CSV (same columns), watched for early_stopping_rounds')
    .requiredOption('--out <file>', 'where to write the XGBoost JSON model')
    .addOption(jsonOption())
    .action(train);
  withExamples(trainCmd, [
    'metallmix gbdt train --data train.csv --target accuracy --out model.json',
    `metallmix gbdt train --data train.csv --target y --categorical model_family --params '{"max_depth":4,"eta":0.05,"n_estimators":300}' --out model.json`,
    `metallmix gbdt train --data runs.csv --target accuracy --objective rank:pairwise --group dataset --out ranker.json`,
    `metallmix gbdt train --data train.csv --valid valid.csv --target y --params '{"n_estimators":1000,"early_stopping_rounds":20}' --out model.json`,
  ]);

  const predictCmd = group
    .command('predict')
    .description(
      'Predict with an XGBoost JSON model (ours or one saved by XGBoost) for each CSV row',
    )
    .requiredOption(
      '--model <file>',
      'XGBoost JSON model (gbdt train, or save_model("m.json") in XGBoost)',
    )
    .requiredOption(
      '--data <file>',
      "CSV with the model's feature columns (others are ignored), empty cell = missing",
    )
    .option(
      '--margin',
      'untransformed scores (log-odds for binary:logistic), as output_margin=True',
    )
    .addOption(jsonOption())
    .action(predictCommand);
  withExamples(predictCmd, [
    'metallmix gbdt predict --model model.json --data rows.csv --json',
    'metallmix gbdt predict --model xgboost-model.json --data rows.csv --margin',
  ]);

  registerGbdtShap(group);
}
