// Benchmark methods by name: the recommenders (fitted per fold) and HPO baselines `NAME@TRIALS`.
import { MetallmixError } from '../core/index.ts';
import { LOOKUP_METHODS, type LookupMethod } from '../hpo/lookup.ts';
import { BASE_STRATEGIES, createBaseRecommender } from '../recommend/registry.ts';
import { hpoMethod, rankingOnFold, recommenderMethod, type BenchMethod } from './lodo.ts';
import { runPipelineOnView, type PipelineRequest } from '../recommend/pipeline.ts';

export const DEFAULT_METHODS = [
  'random',
  'single-best',
  'knn',
  'metalearner',
  'random-search@10',
  'tpe@10',
];

const HPO_NAMES: Record<string, LookupMethod> = {
  // Uniform draws among the configurations actually run (HPO-B style), as the reference figures measure.
  'random-search': 'uniform',
  tpe: 'tpe',
  'successive-halving': 'successive-halving',
  hyperband: 'hyperband',
};

/** `llm` and `hybrid` need `pipeline` (the LLM and its settings). */
export function benchMethod(
  name: string,
  pipeline?: Omit<PipelineRequest, 'strategy' | 'metric' | 'objective' | 'seed' | 'topK'>,
): BenchMethod {
  if (name === 'llm' || name === 'hybrid') {
    if (!pipeline?.llm)
      throw new MetallmixError(
        `method "${name}" needs an LLM: give --llm-base-url and --llm-model, or --llm-gguf`,
        { location: { field: 'methods' } },
      );
    return llmBenchMethod(name, pipeline);
  }
  if ((BASE_STRATEGIES as readonly string[]).includes(name))
    return recommenderMethod(name, (view) => createBaseRecommender(name, view), name === 'random');
  const m = /^([a-z-]+)@(\d+)$/.exec(name);
  if (m && HPO_NAMES[m[1]] && LOOKUP_METHODS.includes(HPO_NAMES[m[1]]))
    return hpoMethod(HPO_NAMES[m[1]], Number(m[2]), m[1]);
  throw new MetallmixError(
    `unknown method "${name}"; choose from ${BASE_STRATEGIES.join(', ')}, llm, hybrid, or an HPO baseline with a trial budget: ${Object.keys(
      HPO_NAMES,
    )
      .map((h) => `${h}@N`)
      .join(', ')}`,
    { location: { field: 'methods' } },
  );
}

/** The LLM strategies as benchmark methods: the whole pipeline per fold, with judge figures per dataset. */
function llmBenchMethod(
  strategy: 'llm' | 'hybrid',
  request: Omit<PipelineRequest, 'strategy' | 'metric' | 'objective' | 'seed' | 'topK'>,
): BenchMethod {
  return {
    name: strategy,
    stochastic: false,
    async run(fold, seed, metric, objective) {
      const t0 = performance.now();
      const answer = await runPipelineOnView(fold.train, `without:${fold.dataset}`, fold.profile, {
        ...request,
        strategy,
        metric,
        objective,
        seed,
        topK: fold.candidates.length,
        candidates: fold.candidates,
        explainTop: 5,
      });
      const responseMs = performance.now() - t0;
      const order = rankingOnFold(fold, answer.topK);
      const judged = answer.attempts.filter((a) => a.judge);
      return {
        order,
        pick: order[0],
        responseMs,
        fullRanking: order.length === fold.candidates.length,
        extra: {
          strategy: answer.strategy,
          attempts: answer.attempts.length,
          accepted: answer.attempts.some((a) => a.accepted),
          judge: judged.length ? judged[judged.length - 1].judge : null,
          tokens: answer.timingsMs.llmTokens ?? 0,
          llmMs: answer.timingsMs.llm ?? 0,
          judgeMs: answer.timingsMs.judge ?? 0,
        },
      };
    },
  };
}
