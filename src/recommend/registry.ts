// Every strategy by name (baselines first, as the benchmark lists them): the CLI's --strategy choices and help, the benchmark's methods, the
// server's API and the docs read this list. Adding a strategy is one file in strategies/ plus
// one entry here.
import { MetallmixError } from '../core/index.ts';
import {
  knnRecommender,
  randomRecommender,
  singleBestRecommender,
} from './strategies/baselines.ts';
import { llmReasonedRecommender } from './strategies/llm-reasoned.ts';
import { metalearnerRecommender } from './strategies/metalearner.ts';
import type { StrategyEntry } from './types.ts';

export const STRATEGIES = [
  {
    name: 'random',
    description: 'baseline: a uniform random candidate',
    needsLlm: false,
    stochastic: true,
    create: (view) => randomRecommender(view),
  },
  {
    name: 'single-best',
    description:
      'baseline: the configuration best on average over past datasets, then a greedy portfolio',
    needsLlm: false,
    stochastic: false,
    create: (view) => singleBestRecommender(view),
  },
  {
    name: 'knn',
    description: 'baseline: the best configurations of the most similar past datasets (as ZAP)',
    needsLlm: false,
    stochastic: false,
    create: (view) => knnRecommender(view),
  },
  {
    name: 'metalearner',
    description:
      "the meta-learner's best candidate under the objective, justified from its SHAP explanation and the evidence",
    needsLlm: false,
    stochastic: false,
    create: metalearnerRecommender,
  },
  {
    name: 'hybrid',
    description:
      "the LLM chooses and justifies among the meta-learner's top-k, checked by rules and the LLM judge",
    needsLlm: true,
    stochastic: false,
    create: (view, deps) => llmReasonedRecommender('hybrid', view, deps),
  },
  {
    name: 'llm',
    description: 'the LLM proposes model and hyperparameters from the evidence (as MetaLLMiX)',
    needsLlm: true,
    stochastic: false,
    create: (view, deps) => llmReasonedRecommender('llm', view, deps),
  },
] as const satisfies readonly StrategyEntry[];

export type StrategyName = (typeof STRATEGIES)[number]['name'];
export const STRATEGY_NAMES: readonly StrategyName[] = STRATEGIES.map((s) => s.name);

/** `auto` is not a strategy: the best one the configuration allows (hybrid with an LLM). */
export const AUTO = 'auto';
export type StrategyChoice = StrategyName | typeof AUTO;

export function strategyEntry(name: string): StrategyEntry {
  const entry = STRATEGIES.find((s) => s.name === name);
  if (!entry)
    throw new MetallmixError(
      `unknown strategy "${name}"; choose one of ${[AUTO, ...STRATEGY_NAMES].join(', ')}`,
      { location: { field: 'strategy' } },
    );
  return entry;
}

/** The strategy a request runs: `auto` is hybrid when a language model is configured, else metalearner. */
export function resolveStrategy(choice: string, hasLlm: boolean): StrategyEntry {
  return strategyEntry(choice === AUTO ? (hasLlm ? 'hybrid' : 'metalearner') : choice);
}
