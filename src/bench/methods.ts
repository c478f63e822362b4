// Benchmark methods by name: every strategy of the registry (fitted per fold, through the same
// pipeline as `recommend`), HPO baselines `NAME@TRIALS` on the held-out lookup table, and
// `metalearner@TRIALS`, the zero-shot pick followed by few-shot continuations (continued.ts).
import { MetallmixError, type Interval, type RecommendedConfig } from '../core/index.ts';
import { candidateKey, metricScale, metricSign } from '../recommend/kb-view.ts';
import { LOOKUP_METHODS, type LookupMethod } from '../hpo/lookup.ts';
import { recommendOnView } from '../recommend/pipeline.ts';
import { STRATEGIES, STRATEGY_NAMES } from '../recommend/registry.ts';
import type { StrategyDeps, StrategyEntry } from '../recommend/types.ts';
import { continuedMethod } from './continued.ts';
import { hpoMethod, rankingOnFold, type BenchMethod, type Fold } from './lodo.ts';

export const DEFAULT_METHODS = [
  ...STRATEGIES.filter((s) => !s.needsLlm).map((s) => s.name),
  'random-search@10',
  'tpe@10',
];

export const HPO_NAMES: Readonly<Record<string, LookupMethod>> = {
  // Uniform draws among the configurations actually run (HPO-B style), as the reference figures measure.
  'random-search': 'uniform',
  tpe: 'tpe',
  'successive-halving': 'successive-halving',
  hyperband: 'hyperband',
};

/** The language models and their settings, for the strategies that need them. */
export type LlmDeps = Pick<StrategyDeps, 'llm' | 'judge' | 'reasoning'>;

/**
 * The 80% intervals of a recommendation's ranked configurations on the fold's candidates, in the
 * fold's oriented points; undefined when the strategy gives points only (the baselines).
 */
function intervalsOnFold(
  fold: Fold,
  ranked: readonly RecommendedConfig[],
  metric: string,
): (Interval | undefined)[] | undefined {
  if (!ranked.some((c) => c.predictedMetric.high > c.predictedMetric.low)) return undefined;
  const k = metricSign(metric) * metricScale(metric);
  const indexOf = new Map(fold.candidates.map((c, i) => [candidateKey(c.model, c.config), i]));
  const out: (Interval | undefined)[] = fold.candidates.map(() => undefined);
  for (const c of ranked) {
    const i = indexOf.get(candidateKey(c.model, c.config));
    if (i === undefined) continue;
    const [a, b] = [k * c.predictedMetric.low, k * c.predictedMetric.high];
    out[i] = { mean: k * c.predictedMetric.mean, low: Math.min(a, b), high: Math.max(a, b) };
  }
  return out;
}

/** A registry strategy as a benchmark method: the pipeline per fold, with judge figures per dataset. */
function strategyMethod(entry: StrategyEntry, llm: LlmDeps): BenchMethod {
  return {
    name: entry.name,
    stochastic: entry.stochastic,
    async run(fold, seed, metric, objective, shared) {
      const deps: StrategyDeps = {
        metaLearners: shared.metaLearners,
        ...(entry.needsLlm ? { ...llm, evidence: shared.evidence() } : {}),
      };
      // Fitting is not part of the response time: a user's meta-learner is cached.
      await entry.create(fold.train, deps).prepare?.(metric);
      const t0 = performance.now();
      const answer = await recommendOnView(
        fold.train,
        fold.profile,
        {
          strategy: entry.name,
          metric,
          objective,
          seed,
          topK: fold.candidates.length,
          candidates: fold.candidates,
          explainTop: entry.needsLlm ? 5 : 1,
        },
        deps,
      );
      const responseMs = performance.now() - t0;
      const order = rankingOnFold(fold, answer.topK);
      const intervals = intervalsOnFold(fold, answer.topK, metric);
      const judged = answer.attempts.filter((a) => a.judge);
      return {
        order,
        pick: order[0],
        responseMs,
        fullRanking: order.length === fold.candidates.length,
        ...(intervals ? { intervals } : {}),
        extra: entry.needsLlm
          ? {
              answeredBy: answer.answeredBy,
              fellBack: answer.fellBack,
              fallbackReason: answer.fallbackReason ?? null,
              attempts: answer.attempts.length,
              accepted: answer.attempts.some((a) => a.accepted),
              judge: judged.length ? judged[judged.length - 1].judge : null,
              tokens: answer.counters.llmTokens,
              llmMs: answer.timingsMs.llm ?? 0,
              judgeMs: answer.timingsMs.judge ?? 0,
            }
          : undefined,
      };
    },
  };
}

export function benchMethod(name: string, llm: LlmDeps = {}): BenchMethod {
  const entry = STRATEGIES.find((s) => s.name === name);
  if (entry) {
    if (entry.needsLlm && !llm.llm)
      throw new MetallmixError(
        `method "${name}" needs an LLM: give --llm-base-url and --llm-model, or --llm-gguf`,
        { location: { field: 'methods' } },
      );
    return strategyMethod(entry, llm);
  }
  const m = /^([a-z-]+)@(\d+)$/.exec(name);
  if (m && m[1] === 'metalearner' && Number(m[2]) >= 1) return continuedMethod(Number(m[2]));
  if (m && HPO_NAMES[m[1]] && LOOKUP_METHODS.includes(HPO_NAMES[m[1]]) && Number(m[2]) >= 1)
    return hpoMethod(HPO_NAMES[m[1]], Number(m[2]), m[1]);
  throw new MetallmixError(
    `unknown method "${name}"; choose from ${STRATEGY_NAMES.join(', ')}, metalearner@N (the zero-shot pick, then N-1 few-shot continuations), or an HPO baseline with a trial budget: ${Object.keys(
      HPO_NAMES,
    )
      .map((h) => `${h}@N`)
      .join(', ')}`,
    { location: { field: 'methods' } },
  );
}
