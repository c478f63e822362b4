import type { Command } from 'commander';
import { gbdtShap } from '../../index.ts';
import type { ShapTable } from '../../index.ts';
import type { CliIo } from '../io.ts';
import { emit, jsonOption, table, withExamples } from '../output.ts';

interface ShapFlags {
  model: string;
  data: string;
  interactions?: boolean;
  json?: boolean;
}

function render(t: ShapTable): string {
  const values = table(
    ['row', ...t.features],
    t.values.map((v, r) => [r + 1, ...v.map((x) => x.toFixed(4))]),
  );
  const note = t.interactions ? '\n\n(interaction values: use --json)' : '';
  return `bias ${t.bias.toFixed(4)}; prediction margin = bias + the row's values\n\n${values}${note}`;
}

/** Adds `shap` to the `gbdt` command group. */
export function registerGbdtShap(group: Command, io: CliIo): void {
  const cmd = group
    .command('shap')
    .description(
      "Exact TreeSHAP values of an XGBoost JSON model's margin for each CSV row (as XGBoost's pred_contribs)",
    )
    .requiredOption('--model <file>', 'XGBoost JSON model (save_model("m.json") or gbdt train)')
    .requiredOption(
      '--data <file>',
      "CSV: a header with the model's feature names, numbers, empty cell = missing",
    )
    .option('--interactions', 'also SHAP interaction values, rows x features x features')
    .addOption(jsonOption())
    .action((flags: ShapFlags) => {
      emit(io, gbdtShap(flags), flags.json, render);
    });
  withExamples(cmd, [
    'metallmix gbdt shap --model model.json --data rows.csv --json',
    'metallmix gbdt shap --model model.json --data rows.csv --interactions --json',
  ]);
}
