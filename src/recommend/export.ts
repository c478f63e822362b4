// Hands recommended configurations to the tools users already run, as files they run as they
// are: an Optuna script (the search space as suggest_* calls, the recommended trials enqueued
// with honest counts), a ConfigSpace JSON plus an initial design for SMAC and other ConfigSpace
// users, a W&B sweep of the recommended configurations plus one over the space, or plain
// configs as JSON or YAML. The search space is the knowledge base's (ranges observed there),
// widened to hold every recommended value, with the model as one more categorical parameter.
import { stringify as toYaml } from 'yaml';
import {
  isLowerBetter,
  type Config,
  type Hyperparameter,
  type ParamValue,
  type Recommendation,
  type SearchSpace,
} from '../core/index.ts';
import { parentsFirst } from './candidates.ts';
import { maxOf, minOf } from '../core/arrays.ts';

export const EXPORT_FORMATS = ['optuna', 'configspace', 'wandb', 'json', 'yaml'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** What each format writes; `second` is derived from the main file's name (see secondFileName). */
export const EXPORT_FILES: Record<
  ExportFormat,
  { main: string; what: string; second?: { suffix: string; what: string } }
> = {
  optuna: {
    main: 'metallmix-optuna.py',
    what: 'Optuna script: the search space as suggest_* calls, the recommended trials enqueued',
  },
  configspace: {
    main: 'metallmix-configspace.json',
    what: 'ConfigSpace JSON (format_version 0.4, conditions included)',
    second: {
      suffix: '.initial-design.json',
      what: 'the recommended configurations, for an initial design',
    },
  },
  wandb: {
    main: 'metallmix-sweep.yaml',
    what: 'W&B sweep (grid) of the recommended configurations',
    second: { suffix: '.search.yaml', what: 'W&B sweep (bayes) over the search space' },
  },
  json: { main: 'metallmix-configs.json', what: 'the recommended configurations as JSON' },
  yaml: { main: 'metallmix-configs.yaml', what: 'the recommended configurations as YAML' },
};

/** `runs/space.json` -> `runs/space.initial-design.json`; `sweep.yaml` -> `sweep.search.yaml`. */
export function secondFileName(format: ExportFormat, main: string): string | undefined {
  const second = EXPORT_FILES[format].second;
  if (!second) return undefined;
  return `${main.replace(/\.(json|ya?ml)$/i, '')}${second.suffix}`;
}

export interface ExportFile {
  name: string;
  content: string;
  what: string;
}

/** The parameter the model is exported as; hyperparameters keep their knowledge-base names. */
export const MODEL_PARAMETER = 'model';

/** The recommended configurations with the model joined in, rank order. */
function recommendedConfigs(rec: Recommendation): Config[] {
  return rec.topK.map((c) => ({ [MODEL_PARAMETER]: c.model, ...c.config }));
}

/**
 * The space to export: the model as a categorical over `models` (plus any recommended model),
 * then the knowledge base's hyperparameters with their ranges widened to hold every recommended
 * value and their categorical choices extended by recommended ones, so that every tool accepts
 * the recommended configurations as points of the space.
 */
export function exportSpace(
  rec: Recommendation,
  space: SearchSpace,
  models: readonly string[],
): SearchSpace {
  const configs = recommendedConfigs(rec);
  const modelChoices = [...new Set([...models, ...rec.topK.map((c) => c.model)])];
  const widened = space.parameters.map((p): Hyperparameter => {
    const values = configs.map((c) => c[p.name]).filter((v) => v !== undefined);
    if (p.type === 'float' || p.type === 'int') {
      const nums = values.filter((v): v is number => typeof v === 'number');
      return { ...p, low: Math.min(p.low, minOf(nums)), high: Math.max(p.high, maxOf(nums)) };
    }
    if (p.type === 'categorical') return { ...p, choices: [...new Set([...p.choices, ...values])] };
    return p;
  });
  // A condition value the parent cannot take would make ConfigSpace reject the file; a parameter
  // left with none can never be active, and neither can the ones conditioned on it.
  const kept = new Map<string, Hyperparameter>();
  for (const p of parentsFirst({ parameters: widened })) {
    if (!p.condition) {
      kept.set(p.name, p);
      continue;
    }
    const parent = kept.get(p.condition.parent);
    const values = parent ? p.condition.values.filter((v) => takes(parent, v)) : [];
    if (values.length) kept.set(p.name, { ...p, condition: { ...p.condition, values } });
  }
  return {
    parameters: [
      {
        name: MODEL_PARAMETER,
        type: 'categorical',
        choices: modelChoices,
        description: 'pretrained model to fine-tune',
      },
      ...kept.values(),
    ],
  };
}

function takes(p: Hyperparameter, v: ParamValue): boolean {
  switch (p.type) {
    case 'float':
    case 'int':
      return typeof v === 'number' && v >= p.low && v <= p.high;
    case 'categorical':
      return p.choices.includes(v);
    case 'bool':
      return typeof v === 'boolean';
  }
}

// A number that must keep a decimal point in JSON and Python (0 -> 0.0): tools type-check
// float parameters, and Optuna's duplicate check compares types.
class FloatValue {
  constructor(readonly value: number) {}
  toString(): string {
    return Number.isInteger(this.value) ? this.value.toFixed(1) : String(this.value);
  }
}

type Literal = ParamValue | null | FloatValue | Literal[] | { [key: string]: Literal };

/** JSON text where FloatValue keeps its decimal point. */
function jsonText(value: Literal, indent = 0): string {
  const pad = ' '.repeat(indent);
  const inner = ' '.repeat(indent + 2);
  if (value instanceof FloatValue) return value.toString();
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object' || v instanceof FloatValue))
      return `[${value.map((v) => jsonText(v)).join(', ')}]`;
    return `[\n${value.map((v) => `${inner}${jsonText(v, indent + 2)}`).join(',\n')}\n${pad}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${jsonText(v, indent + 2)}`).join(',\n')}\n${pad}}`;
  }
  return JSON.stringify(value);
}

/** Python literal text of the same values (JSON strings are Python strings). */
function pyText(value: Literal): string {
  if (value instanceof FloatValue) return value.toString();
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (Array.isArray(value)) return `[${value.map(pyText).join(', ')}]`;
  if (typeof value === 'object')
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}: ${pyText(v)}`)
      .join(', ')}}`;
  return JSON.stringify(value);
}

/** A config's values typed for the tools: float parameters as FloatValue. */
function typedConfig(space: SearchSpace, config: Config): { [key: string]: Literal } {
  const types = new Map(space.parameters.map((p) => [p.name, p.type]));
  return Object.fromEntries(
    Object.entries(config).map(([k, v]) => [
      k,
      types.get(k) === 'float' && typeof v === 'number' ? new FloatValue(v) : v,
    ]),
  );
}

/** Categorical choices that are JSON lists or objects (Optuna and W&B hold them as strings). */
function jsonEncodedChoices(p: Hyperparameter): boolean {
  if (p.type !== 'categorical') return false;
  return p.choices.every((c) => {
    if (typeof c !== 'string' || !/^\s*[[{]/.test(c)) return false;
    try {
      JSON.parse(c);
      return true;
    } catch {
      return false;
    }
  });
}

function predicted(rec: Recommendation, rank: number): { [key: string]: Literal } {
  const c = rec.topK[rank - 1];
  const m = c.predictedMetric;
  const t = c.predictedTrainingTimeSec;
  return {
    metallmix_rank: rank,
    metallmix_strategy: rec.answeredBy,
    [`metallmix_predicted_${rec.metric}`]: new FloatValue(m.mean),
    [`metallmix_predicted_${rec.metric}_low`]: new FloatValue(m.low),
    [`metallmix_predicted_${rec.metric}_high`]: new FloatValue(m.high),
    ...(t ? { metallmix_predicted_training_time_sec: new FloatValue(t.mean) } : {}),
  };
}

function header(rec: Recommendation, what: string): string[] {
  return [
    `${what} for dataset ${rec.dataset},`,
    `written by metallmix from its recommendation (strategy ${rec.answeredBy}, objective ${rec.objective},`,
    `knowledge base ${rec.knowledgeBase.label}, version ${rec.knowledgeBase.version}).`,
    'Ranges are those the knowledge base observed, widened to hold every recommended value.',
    `Predicted ${rec.metric} values are fractions on the knowledge base's 0-1 scale${isLowerBetter(rec.metric) ? '' : ' (0.913 = 91.3 points)'}; times are seconds.`,
  ];
}

function optunaSuggest(p: Hyperparameter): string {
  const name = JSON.stringify(p.name);
  switch (p.type) {
    case 'float':
      return `trial.suggest_float(${name}, ${new FloatValue(p.low)}, ${new FloatValue(p.high)}${p.log ? ', log=True' : ''})`;
    case 'int':
      return `trial.suggest_int(${name}, ${p.low}, ${p.high}${p.log ? ', log=True' : ''})`;
    case 'categorical':
      return `trial.suggest_categorical(${name}, ${pyText(p.choices)})`;
    case 'bool':
      return `trial.suggest_categorical(${name}, [False, True])`;
  }
}

function optunaScript(rec: Recommendation, space: SearchSpace, file: string): string {
  const direction = isLowerBetter(rec.metric) ? 'minimize' : 'maximize';
  const trials = recommendedConfigs(rec).map((config, i) => ({
    params: typedConfig(space, config),
    user_attrs: predicted(rec, i + 1),
  }));
  const suggest = space.parameters.flatMap((p) => {
    const line = `p[${JSON.stringify(p.name)}] = ${optunaSuggest(p)}`;
    if (!p.condition) return [`    ${line}`];
    return [
      `    if p.get(${JSON.stringify(p.condition.parent)}) in ${pyText(p.condition.values)}:`,
      `        ${line}`,
    ];
  });
  const decoded = space.parameters.filter(jsonEncodedChoices);
  const decode = decoded.flatMap((p) => [
    `    if ${JSON.stringify(p.name)} in args:`,
    `        args[${JSON.stringify(p.name)}] = json.loads(args[${JSON.stringify(p.name)}])`,
  ]);
  const study = `metallmix-${rec.dataset}`;
  return [
    '#!/usr/bin/env python3',
    ...header(rec, 'Optuna study').map((l) => `# ${l}`),
    '#',
    `#   python3 ${file} [STORAGE] [STUDY] [--n-trials N]`,
    '#',
    `# enqueues the ${trials.length} recommended trials into STUDY (default ${JSON.stringify(study)}) at STORAGE`,
    '# (default sqlite:///metallmix.db), skipping and counting those already in the study, then with',
    '# --n-trials runs N trials (the enqueued ones first) through train_and_evaluate, which you fill in.',
    'import argparse',
    'import json',
    '',
    'import optuna',
    '',
    `DIRECTION = ${JSON.stringify(direction)}`,
    `METRIC = ${JSON.stringify(rec.metric)}`,
    `STUDY = ${JSON.stringify(study)}`,
    'RECOMMENDED = [',
    ...trials.map((t) => `    ${pyText(t as unknown as Literal)},`),
    ']',
    '',
    '',
    'def suggest(trial):',
    '    """Every parameter of the space; a conditional one only when its condition holds."""',
    '    p = {}',
    ...suggest,
    '    return p',
    '',
    '',
    'def training_arguments(params):',
    '    """The parameters as a training script takes them."""',
    '    args = dict(params)',
    ...(decode.length
      ? [
          '    # Optuna categoricals hold None, bool, int, float or str, so list-valued choices are',
          '    # JSON strings in the study; decoded here.',
          ...decode,
        ]
      : []),
    '    return args',
    '',
    '',
    'def train_and_evaluate(args):',
    `    """Fill in: fine-tune args["model"] with the other args and return the validation ${rec.metric}."""`,
    '    raise NotImplementedError(',
    '        "fill in train_and_evaluate(args) with your training; it gets " + ", ".join(sorted(args))',
    '    )',
    '',
    '',
    'def objective(trial):',
    '    return train_and_evaluate(training_arguments(suggest(trial)))',
    '',
    '',
    'def enqueue(study):',
    '    """Enqueues the recommended trials; returns (enqueued, skipped as already in the study)."""',
    '    enqueued = 0',
    '    for trial in RECOMMENDED:',
    '        before = len(study.get_trials(deepcopy=False))',
    '        study.enqueue_trial(trial["params"], user_attrs=trial["user_attrs"], skip_if_exists=True)',
    '        enqueued += len(study.get_trials(deepcopy=False)) - before',
    '    return enqueued, len(RECOMMENDED) - enqueued',
    '',
    '',
    'def main():',
    '    cli = argparse.ArgumentParser(description=__doc__)',
    '    cli.add_argument("storage", nargs="?", default="sqlite:///metallmix.db")',
    '    cli.add_argument("study", nargs="?", default=STUDY)',
    '    cli.add_argument("--n-trials", type=int, default=0)',
    '    a = cli.parse_args()',
    '    study = optuna.create_study(',
    '        study_name=a.study, storage=a.storage, direction=DIRECTION, load_if_exists=True',
    '    )',
    '    enqueued, skipped = enqueue(study)',
    '    print(',
    '        f"enqueued {enqueued} of {len(RECOMMENDED)} recommended trials into study {a.study!r} at {a.storage}"',
    '        + (f"; skipped {skipped} already in the study" if skipped else "")',
    '    )',
    '    if a.n_trials:',
    '        study.optimize(objective, n_trials=a.n_trials)',
    '',
    '',
    'if __name__ == "__main__":',
    '    main()',
    '',
  ].join('\n');
}

/** A default value inside the parameter's range: the pick's value when it sets one. */
function defaultValue(p: Hyperparameter, pick: Config): ParamValue {
  const v = pick[p.name];
  if (v !== undefined) return v;
  switch (p.type) {
    case 'float':
      return p.log ? Math.sqrt(p.low * p.high) : (p.low + p.high) / 2;
    case 'int':
      return Math.round(p.log ? Math.sqrt(p.low * p.high) : (p.low + p.high) / 2);
    case 'categorical':
      return p.choices[0];
    case 'bool':
      return false;
  }
}

/** ConfigSpace's serialized form (format_version 0.4, as ConfigurationSpace.from_json reads it). */
function configSpaceJson(rec: Recommendation, space: SearchSpace): Literal {
  const pick = recommendedConfigs(rec)[0];
  const meta = (p: Hyperparameter) => (p.description ? { description: p.description } : null);
  const hyperparameters = space.parameters.map((p): Literal => {
    const d = defaultValue(p, pick);
    switch (p.type) {
      case 'float':
        return {
          type: 'uniform_float',
          name: p.name,
          lower: new FloatValue(p.low),
          upper: new FloatValue(p.high),
          default_value: new FloatValue(Number(d)),
          log: p.log,
          meta: meta(p),
        };
      case 'int':
        return {
          type: 'uniform_int',
          name: p.name,
          lower: p.low,
          upper: p.high,
          default_value: Number(d),
          log: p.log,
          meta: meta(p),
        };
      case 'categorical':
      case 'bool':
        return {
          type: 'categorical',
          name: p.name,
          choices: p.type === 'bool' ? [false, true] : p.choices,
          weights: null,
          default_value: d,
          meta: meta(p),
        };
    }
  });
  const conditions = space.parameters.flatMap((p): Literal[] => {
    if (!p.condition) return [];
    const { parent, values } = p.condition;
    return [
      values.length === 1
        ? { type: 'EQ', child: p.name, parent, value: values[0] }
        : { type: 'IN', child: p.name, parent, values },
    ];
  });
  return {
    name: `metallmix-${rec.dataset}`,
    hyperparameters,
    conditions,
    forbiddens: [],
    format_version: 0.4,
  };
}

function wandbParameter(p: Hyperparameter): { [key: string]: Literal } {
  switch (p.type) {
    case 'float':
      return p.log
        ? { distribution: 'log_uniform_values', min: p.low, max: p.high }
        : { distribution: 'uniform', min: p.low, max: p.high };
    case 'int':
      // W&B has no integer log-uniform; q_log_uniform_values with an integer q yields integers.
      return p.log
        ? { distribution: 'q_log_uniform_values', min: p.low, max: p.high, q: 1 }
        : { distribution: 'int_uniform', min: p.low, max: p.high };
    case 'categorical':
      return { values: p.choices };
    case 'bool':
      return { values: [false, true] };
  }
}

function yamlComment(lines: string[]): string {
  return lines.map((l) => `# ${l}`.trimEnd()).join('\n');
}

function wandbFiles(
  rec: Recommendation,
  space: SearchSpace,
  main: string,
  second: string,
): ExportFile[] {
  const metric = { name: rec.metric, goal: isLowerBetter(rec.metric) ? 'minimize' : 'maximize' };
  const base = second.split('/').pop()!;
  const grid = {
    program: 'train.py',
    name: `metallmix-${rec.dataset}-recommended`,
    method: 'grid',
    metric,
    parameters: { metallmix: { values: recommendedConfigs(rec) } },
  };
  const conditional = space.parameters.filter((p) => p.condition);
  const search = {
    program: 'train.py',
    name: `metallmix-${rec.dataset}-search`,
    method: 'bayes',
    metric,
    parameters: Object.fromEntries(space.parameters.map((p) => [p.name, wandbParameter(p)])),
  };
  const gridText = [
    yamlComment([
      ...header(rec, `W&B sweep of the ${rec.topK.length} recommended configurations`),
      '',
      'A grid over one parameter, "metallmix", whose values are the configurations in rank order',
      '(a W&B grid is the cross product of its parameters, so the configurations cannot be',
      'separate parameters). In the training script, take them with',
      '    config = dict(wandb.config["metallmix"])   # {"model": ..., <hyperparameter>: ...}',
      `and log ${JSON.stringify(rec.metric)}. Set "program" to your training script. Then continue with`,
      `the search over the whole space in ${base}.`,
      '    wandb sweep THIS_FILE && wandb agent ENTITY/PROJECT/SWEEP_ID',
    ]),
    toYaml(grid),
  ].join('\n');
  const searchText = [
    yamlComment([
      ...header(rec, 'W&B sweep (bayes) over the search space'),
      '',
      `Every parameter of the space; log ${JSON.stringify(rec.metric)} and set "program" to your training script.`,
      ...(conditional.length
        ? [
            'W&B sweeps have no conditional parameters: these are sampled in every run, and apply only',
            'when their condition holds:',
            ...conditional.map(
              (p) =>
                `    ${p.name} when ${p.condition!.parent} is ${p.condition!.values.map((v) => JSON.stringify(v)).join(' or ')}`,
            ),
          ]
        : []),
      ...(space.parameters.some(jsonEncodedChoices)
        ? [
            `JSON-encoded choices (${space.parameters
              .filter(jsonEncodedChoices)
              .map((p) => p.name)
              .join(', ')}) are strings here as in the knowledge base: json.loads them.`,
          ]
        : []),
    ]),
    toYaml(search),
  ].join('\n');
  return [
    { name: main, content: gridText, what: EXPORT_FILES.wandb.what },
    { name: second, content: searchText, what: EXPORT_FILES.wandb.second!.what },
  ];
}

/** The top-k as plain configs, with predictions (fractions on the stored scale, seconds). */
function plainConfigs(rec: Recommendation): Record<string, unknown>[] {
  return rec.topK.map((c) => ({
    rank: c.rank,
    model: c.model,
    config: c.config,
    predicted: {
      [rec.metric]: c.predictedMetric,
      trainingTimeSec: c.predictedTrainingTimeSec ?? null,
    },
  }));
}

/**
 * The files of `format` for `rec`, the first named `main` (the path the user gave, or the
 * format's default name); `space` is the knowledge base's space and `models` its candidate
 * models, which exportSpace turns into the space exported.
 */
export function exportFiles(
  rec: Recommendation,
  format: ExportFormat,
  space: SearchSpace,
  models: readonly string[],
  main: string,
): ExportFile[] {
  const what = EXPORT_FILES[format].what;
  const full = exportSpace(rec, space, models);
  switch (format) {
    case 'json':
      return [{ name: main, content: `${JSON.stringify(plainConfigs(rec), null, 2)}\n`, what }];
    case 'yaml':
      return [{ name: main, content: toYaml(plainConfigs(rec)), what }];
    case 'optuna':
      return [{ name: main, content: optunaScript(rec, full, main.split('/').pop()!), what }];
    case 'configspace': {
      const second = secondFileName(format, main)!;
      const initial = recommendedConfigs(rec).map((c) => typedConfig(full, c));
      return [
        { name: main, content: `${jsonText(configSpaceJson(rec, full))}\n`, what },
        {
          name: second,
          content: `${jsonText(initial)}\n`,
          what: EXPORT_FILES.configspace.second!.what,
        },
      ];
    }
    case 'wandb':
      return wandbFiles(rec, full, main, secondFileName(format, main)!);
  }
}
