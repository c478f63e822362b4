// Hands recommended configurations back to the user's stack: Optuna trials to enqueue (JSON and
// a Python snippet calling study.enqueue_trial), or plain configs as JSON or YAML.
import { stringify as toYaml } from 'yaml';
import { isLowerBetter, type Recommendation } from '../core/index.ts';

export const EXPORT_FORMATS = ['optuna', 'json', 'yaml'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportFile {
  name: string;
  content: string;
}

/** The top-k as plain configs: the model joins the hyperparameters under the key `model`. */
function plainConfigs(rec: Recommendation): Record<string, unknown>[] {
  return rec.topK.map((c) => ({
    rank: c.rank,
    model: c.model,
    config: c.config,
    predicted: {
      [rec.metric]: c.predictedMetric.mean,
      trainingTimeSec: c.predictedTrainingTimeSec?.mean ?? null,
    },
  }));
}

function optunaTrials(rec: Recommendation) {
  return {
    study: {
      direction: isLowerBetter(rec.metric) ? 'minimize' : 'maximize',
      metric: rec.metric,
      dataset: rec.dataset,
    },
    trials: rec.topK.map((c) => ({
      params: { model: c.model, ...c.config },
      user_attrs: {
        metallmix_rank: c.rank,
        metallmix_strategy: rec.strategy,
        [`metallmix_predicted_${rec.metric}`]: c.predictedMetric.mean,
        ...(c.predictedTrainingTimeSec
          ? { metallmix_predicted_training_time_sec: c.predictedTrainingTimeSec.mean }
          : {}),
      },
    })),
  };
}

function optunaSnippet(jsonName: string, direction: string): string {
  return `# Enqueue metallmix's recommended configurations as the first trials of an Optuna study.
# Usage: python3 ${jsonName.replace(/\.json$/, '.py')} [STORAGE_URL] [STUDY_NAME]
import json
import os
import sys

import optuna

storage = sys.argv[1] if len(sys.argv) > 1 else "sqlite:///metallmix.db"
study_name = sys.argv[2] if len(sys.argv) > 2 else "metallmix"
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, ${JSON.stringify(jsonName)})) as f:
    exported = json.load(f)

study = optuna.create_study(
    study_name=study_name, storage=storage, direction=${JSON.stringify(direction)}, load_if_exists=True
)
for trial in exported["trials"]:
    study.enqueue_trial(trial["params"], user_attrs=trial["user_attrs"], skip_if_exists=True)
print(f"enqueued {len(exported['trials'])} trials into study {study_name!r} at {storage}")
`;
}

/** Files for `--export FORMAT` with names built from `base` (a path without extension). */
export function exportRecommendation(
  rec: Recommendation,
  format: ExportFormat,
  base: string,
): ExportFile[] {
  if (format === 'json')
    return [{ name: `${base}.json`, content: `${JSON.stringify(plainConfigs(rec), null, 2)}\n` }];
  if (format === 'yaml') return [{ name: `${base}.yaml`, content: toYaml(plainConfigs(rec)) }];
  const trials = optunaTrials(rec);
  const jsonName = `${base}.json`;
  return [
    { name: jsonName, content: `${JSON.stringify(trials, null, 2)}\n` },
    {
      name: `${base}.py`,
      content: optunaSnippet(jsonName.split('/').pop()!, trials.study.direction),
    },
  ];
}
