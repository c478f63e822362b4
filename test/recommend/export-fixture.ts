// A hand-built Quick-Tune-like recommendation and search space for the export and report tests:
// conditional parameters (on a categorical, a bool and an int parent), list-valued choices as
// JSON strings (opt_betas), mixed-type choices (clip_grad), log-scale float and int parameters,
// and three recommended configurations that are points of the space.
import { Recommendation, SearchSpace, type Config } from '../../src/core/index.ts';

export const QT_SPACE = SearchSpace.parse({
  parameters: [
    { name: 'lr', type: 'float', low: 1e-5, high: 1e-2, log: true, description: 'learning rate' },
    { name: 'batch_size', type: 'int', low: 4, high: 128, log: true },
    { name: 'drop', type: 'float', low: 0, high: 0.4 },
    { name: 'amp', type: 'bool' },
    { name: 'clip_grad', type: 'categorical', choices: ['none', 1, 10] },
    { name: 'opt', type: 'categorical', choices: ['sgd', 'momentum', 'adam', 'adamw'] },
    {
      name: 'opt_betas',
      type: 'categorical',
      choices: ['[0,0.99]', '[0.9,0.999]'],
      condition: { parent: 'opt', values: ['adam', 'adamw'] },
    },
    {
      name: 'momentum',
      type: 'float',
      low: 0,
      high: 0.99,
      condition: { parent: 'opt', values: ['sgd', 'momentum'] },
    },
    { name: 'random_augment', type: 'bool' },
    {
      name: 'ra_magnitude',
      type: 'int',
      low: 9,
      high: 17,
      condition: { parent: 'random_augment', values: [true] },
    },
    { name: 'warmup_epochs', type: 'int', low: 0, high: 10 },
    {
      name: 'warmup_lr',
      type: 'float',
      low: 0,
      high: 1e-5,
      condition: { parent: 'warmup_epochs', values: [5, 10] },
    },
  ],
});

export const QT_MODELS = [
  'edgenext_small',
  'swinv2_base_window12to24_192to384_22kft1k',
  'xcit_nano_12_p8_384_dist',
];

const CONFIGS: { model: string; config: Config; metric: number; sec: number }[] = [
  {
    model: 'swinv2_base_window12to24_192to384_22kft1k',
    config: {
      lr: 1e-4,
      batch_size: 16,
      drop: 0,
      amp: true,
      clip_grad: 'none',
      opt: 'adamw',
      opt_betas: '[0.9,0.999]',
      random_augment: true,
      ra_magnitude: 9,
      warmup_epochs: 5,
      warmup_lr: 1e-6,
    },
    metric: 0.826,
    sec: 2570,
  },
  {
    model: 'swinv2_base_window12to24_192to384_22kft1k',
    config: {
      lr: 5e-4,
      batch_size: 64,
      drop: 0.1,
      amp: false,
      clip_grad: 10,
      opt: 'sgd',
      momentum: 0.9,
      random_augment: false,
      warmup_epochs: 0,
    },
    metric: 0.81,
    sec: 2040,
  },
  {
    model: 'edgenext_small',
    config: {
      lr: 0.005,
      batch_size: 32,
      drop: 0.3,
      amp: false,
      clip_grad: 1,
      opt: 'adam',
      opt_betas: '[0,0.99]',
      random_augment: false,
      warmup_epochs: 10,
      warmup_lr: 0,
    },
    metric: 0.62,
    sec: 130,
  },
];

/** The recommendation; `intervals` sets each rank's (low, high) around its mean, in fractions. */
export function qtRecommendation(
  intervals: [number, number][] = [
    [0.78, 0.87],
    [0.64, 0.99],
    [0.5, 0.7],
  ],
): Recommendation {
  const topK = CONFIGS.map((c, i) => ({
    rank: i + 1,
    model: c.model,
    config: c.config,
    predictedMetric: { mean: c.metric, low: intervals[i][0], high: intervals[i][1] },
    predictedTrainingTimeSec: { mean: c.sec, low: c.sec * 0.9, high: c.sec * 1.1 },
    onParetoFront: i !== 1,
    extrapolated: [],
    explanation: [
      { feature: 'model', value: c.model, shap: 24.1 - i * 5 },
      { feature: 'drop', value: Number(c.config.drop), shap: 8.62 },
      { feature: 'lr', value: Number(c.config.lr), shap: -0.4 },
    ],
    explanationText: '',
    evidence: [
      {
        id: 'dataset:FLW',
        kind: 'dataset' as const,
        dataset: 'FLW',
        similarity: 0.81,
        summary: 'Dataset FLW: ... 33 runs on accuracy: best 0.97',
        outcome: { metric: 'accuracy', best: 0.9712, median: 0.61, runs: 33, trainingTimeSec: 840 },
      },
      {
        id: 'run:abc123',
        kind: 'run' as const,
        dataset: 'PLT_NET',
        model: c.model,
        similarity: 0.66,
        summary: 'Run on PLT_NET ... accuracy 0.831',
        outcome: { metric: 'accuracy', value: 0.8314, rank: 1, trainingTimeSec: 2400 },
      },
    ],
  }));
  return Recommendation.parse({
    schemaVersion: 2,
    dataset: 'my-flowers',
    profile: {
      name: 'my-flowers',
      task: 'multiclass',
      modality: 'natural',
      numInstances: 800,
      numClasses: 20,
    },
    metric: 'accuracy',
    objective: 'best',
    strategy: 'metalearner',
    answeredBy: 'metalearner',
    fellBack: false,
    seed: 0,
    pick: topK[0],
    topK,
    paretoFront: [topK[2], topK[0]],
    unmet: [],
    justification:
      'The meta-learner recommends swinv2_base_window12to24_192to384_22kft1k ... predicting accuracy 82.6 points (80% interval 78.0 to 87.0) [dataset:FLW].',
    notices: [
      "No LLM was used: the justification is written from the meta-learner's SHAP explanation and the retrieved evidence.",
    ],
    knowledgeBase: { label: 'qt-like', version: 'v1', records: 2000, datasets: 30 },
    attempts: [],
    counters: { llmCalls: 0, llmTokens: 0 },
    timingsMs: { total: 1 },
  });
}
