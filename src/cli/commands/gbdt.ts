import type { Command } from 'commander';
import { MetallmixError, gbdtPredict, gbdtTrain } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { emit, jsonOption, listFlag, withExamples } from '../output.ts';
import { progressFor } from '../progress.ts';
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

/** --params is JSON text on the command line: parsing it is the CLI's job. */
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

function train(io: CliIo, flags: TrainFlags): void {
  const params = parseParams(flags.params);
  if (flags.objective) {
    if (params.objective !== undefined && params.objective !== flags.objective)
      throw new MetallmixError(
        `--objective ${flags.objective} contradicts "objective": "${String(params.objective)}" in --params`,
        { location: { field: '--objective' } },
      );
    params.objective = flags.objective;
  }
  const summary = gbdtTrain({
    data: flags.data,
    target: flags.target,
    params,
    group: flags.group,
    categorical: listFlag(flags.categorical),
    ignore: listFlag(flags.ignore),
    valid: flags.valid,
    out: flags.out,
    progress: progressFor(io, !flags.json),
  });
  emit(
    io,
    summary,
    flags.json,
    (s) =>
      `wrote ${s.model}: ${s.trees} trees (${s.objective}) over ${s.features.length} features from ${s.rows} rows` +
      (s.validation ? `; best validation ${s.validation.metric} ${s.validation.value}` : ''),
  );
}

function predictCommand(io: CliIo, flags: PredictFlags): void {
  emit(io, gbdtPredict(flags), flags.json, (v) => v.predictions.join('\n'));
}

/** The `gbdt` command group: train, predict, shap. */
export function registerGbdt(program: Command, io: CliIo): void {
  const group = program
    .command('gbdt')
    .description('Gradient-boosted trees in XGBoost JSON format: train, predict, explain (SHAP)');
  withExamples(group, [
    'metallmix gbdt train --data train.csv --target accuracy --out model.json',
    'metallmix gbdt predict --model model.json --data rows.csv --json',
    'metallmix gbdt shap --model model.json --data rows.csv --interactions --json',
  ]);

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
    .action((flags: TrainFlags) => train(io, flags));
  withExamples(trainCmd, [
    'metallmix gbdt train --data train.csv --target accuracy --out model.json',
    `metallmix gbdt train --data train.csv --target y --categorical model_family --params '{"max_depth":4,"eta":0.05,"n_estimators":300}' --out model.json`,
    `metallmix gbdt train --data runs.csv --target accuracy --objective rank:pairwise --group dataset --out ranker.json`,
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
    .action((flags: PredictFlags) => predictCommand(io, flags));
  withExamples(predictCmd, [
    'metallmix gbdt predict --model model.json --data rows.csv --json',
    'metallmix gbdt predict --model xgboost-model.json --data rows.csv --margin',
  ]);

  registerGbdtShap(group, io);
}
