// A hand-built reasoning context (2 models, 3 hyperparameters, a shortlist and a predict function)
// and a scripted LanguageModel for unit tests of the retry logic. The scripted model stands in for
// our own interface only; the HTTP and llama.cpp tests use the real providers.
import type { Config, LlmProposal, RecommendedConfig } from '../../src/core/index.ts';
import { SearchSpace } from '../../src/core/index.ts';
import type { GenerateRequest, GenerateResult, LanguageModel } from '../../src/llm/types.ts';
import type { JudgeContext } from '../../src/judge/context.ts';

const BASE_METRIC: Record<string, number> = { resnet50: 0.86, vit_b16: 0.89 };
const BASE_TIME: Record<string, number> = { resnet50: 600, vit_b16: 1500 };
const BEST_LR: Record<string, number> = { resnet50: 1e-3, vit_b16: 3e-4 };
/** The past run cited both by the shortlist and by the context's evidence. */
const CHESTX_RUN = {
  id: 'run:chestx-12',
  kind: 'run',
  dataset: 'chestx',
  similarity: 0.93,
  summary: 'vit_b16 on chestx reached 0.91',
} as const;

/** The fixture's meta-learner: accuracy falls with distance from the model's best learning rate. */
export function fixturePredict(candidate: { model: string; config: Config }) {
  const lr = Number(candidate.config.learning_rate);
  const batch = Number(candidate.config.batch_size);
  const mean =
    BASE_METRIC[candidate.model] -
    0.03 * Math.abs(Math.log10(lr) - Math.log10(BEST_LR[candidate.model])) -
    (candidate.config.optimizer === 'sgd' ? 0.01 : 0);
  const time = BASE_TIME[candidate.model] * Math.sqrt(64 / batch);
  return {
    metric: { mean, low: mean - 0.03, high: mean + 0.03 },
    trainingTimeSec: { mean: time, low: time * 0.8, high: time * 1.2 },
  };
}

function shortlisted(rank: number, model: string, config: Config): RecommendedConfig {
  const p = fixturePredict({ model, config });
  return {
    rank,
    model,
    config,
    predictedMetric: p.metric,
    predictedTrainingTimeSec: p.trainingTimeSec,
    onParetoFront: rank === 1,
    extrapolated: [],
    explanation: [
      { feature: 'modality', value: 'xray', shap: 0.021 },
      { feature: 'learning_rate', value: Number(config.learning_rate), shap: -0.008 },
      { feature: 'numInstances', value: 5000, shap: 0.004 },
    ],
    explanationText: `${model} does well on x-ray datasets of this size.`,
    evidence: [{ ...CHESTX_RUN }],
  };
}

export const FIXTURE_SPACE = SearchSpace.parse({
  parameters: [
    { name: 'learning_rate', type: 'float', low: 1e-5, high: 1e-2, log: true },
    { name: 'batch_size', type: 'int', low: 16, high: 128 },
    { name: 'optimizer', type: 'categorical', choices: ['adam', 'sgd'] },
  ],
});

export function makeContext(overrides: Partial<JudgeContext> = {}): JudgeContext {
  return {
    profile: {
      name: 'pneumonia-test',
      task: 'binary',
      modality: 'xray',
      numInstances: 5000,
      numClasses: 2,
      imbalanceRatio: 2.9,
      normalizedEntropy: 0.83,
      resolution: {
        medianWidth: 1024,
        medianHeight: 1024,
        minWidth: 512,
        minHeight: 512,
        maxWidth: 2048,
        maxHeight: 2048,
      },
      channels: 1,
    },
    metric: 'accuracy',
    objective: 'best',
    budgetMinutes: 60,
    models: [
      { id: 'resnet50', family: 'resnet', architecture: 'cnn', params: 25.6e6 },
      {
        id: 'vit_b16',
        family: 'vit',
        architecture: 'transformer',
        params: 86e6,
        pretrainingData: 'imagenet-21k',
      },
    ],
    space: FIXTURE_SPACE,
    evidence: [
      {
        ...CHESTX_RUN,
        text: 'chestx (x-ray, 5,800 images): vit_b16, learning_rate 3e-4, batch_size 32, adam -> accuracy 0.91 in 1,900 s',
      },
      {
        id: 'run:derma-3',
        kind: 'run',
        dataset: 'derma',
        similarity: 0.61,
        summary: 'resnet50 on derma reached 0.78',
        text: 'derma (dermoscopy, 10,000 images): resnet50, learning_rate 1e-3, batch_size 64, sgd -> accuracy 0.78 in 700 s',
      },
      {
        id: 'dataset:chestx',
        kind: 'dataset',
        dataset: 'chestx',
        similarity: 0.93,
        summary: 'chestx: x-ray, 2 classes, best vit_b16 0.91',
        text: 'chestx: x-ray, 5,800 images, 2 classes; best run vit_b16 0.91; spread 0.80-0.91',
      },
    ],
    insights: [
      {
        id: 'insight:lr',
        text: 'learning_rate near 3e-4 raises predicted accuracy for transformers.',
      },
      { id: 'insight:batch', text: 'batch_size above 64 shortens training with little loss.' },
    ],
    shortlist: [
      shortlisted(1, 'vit_b16', { learning_rate: 3e-4, batch_size: 32, optimizer: 'adam' }),
      shortlisted(2, 'resnet50', { learning_rate: 1e-3, batch_size: 64, optimizer: 'adam' }),
    ],
    predict: fixturePredict,
    ...overrides,
  };
}

/** A proposal that passes every rule on the fixture context. */
export function validProposal(overrides: Partial<LlmProposal> = {}): LlmProposal {
  const hyperparameters = { learning_rate: 3e-4, batch_size: 32, optimizer: 'adam' };
  const p = fixturePredict({ model: 'vit_b16', config: hyperparameters });
  return {
    model: 'vit_b16',
    hyperparameters,
    expectedMetric: Number(p.metric.mean.toFixed(3)),
    expectedTrainingTimeSec: Math.round(p.trainingTimeSec.mean),
    justification:
      'vit_b16 did best on the most similar x-ray dataset [run:chestx-12]; learning_rate 3e-4 follows [insight:lr]; batch_size 32 and adam as in [run:chestx-12].',
    citedEvidence: ['run:chestx-12', 'insight:lr'],
    confidence: 'medium',
    ...overrides,
  };
}

export const GOOD_SCORES = { format: 5, accuracy: 4, completeness: 4, feedback: 'none' };

type Step = string | Error | ((req: GenerateRequest) => string);

/** A LanguageModel answering from a script, recording every request. */
export class ScriptedModel implements LanguageModel {
  readonly requests: GenerateRequest[] = [];
  private readonly steps: Step[];

  constructor(
    readonly id: string,
    steps: Step[],
  ) {
    this.steps = [...steps];
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    this.requests.push(req);
    const step = this.steps.shift();
    if (step === undefined) throw new Error(`${this.id}: script used up`);
    if (step instanceof Error) throw step;
    const text = typeof step === 'function' ? step(req) : step;
    return {
      text,
      usage: { promptTokens: 100, completionTokens: 20 },
      latencyMs: 5,
      model: this.id,
    };
  }
}
