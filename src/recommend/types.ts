import type { Candidate, DatasetProfile, Objective, Recommendation } from '../core/index.ts';
import type { LanguageModel } from '../llm/types.ts';
import type { EvidenceSource } from './evidence.ts';
import type { KbView } from './kb-view.ts';
import type { MetaLearnerSource } from './metalearner-source.ts';

export interface RecommendOptions {
  metric: string;
  objective: Objective;
  topK: number;
  seed: number;
  budgetMinutes?: number;
  /**
   * The candidates to choose among. The pipeline always resolves them (once per request) before
   * a recommender sees the request; a recommender called directly generates them when absent.
   */
  candidates?: Candidate[];
  /**
   * The answer must be one of `candidates` (the benchmark's lookup, a --models restriction); an
   * LLM strategy may otherwise propose any configuration inside the search space.
   */
  strictCandidates?: boolean;
  /** How many of the top-k get a local SHAP explanation and evidence (default: all of top-k, at most 5). */
  explainTop?: number;
}

/**
 * Every strategy and baseline answers the same way, so the benchmark and every face treat them
 * alike. The contract (checked for every registered strategy by test/recommend/conformance):
 * - the same view, options and seed give the same Recommendation (timings aside);
 * - every configuration it returns is one of `options.candidates` when those are given;
 * - `topK` is ordered best-first under `options.objective`, ranks 1..n, and `pick` is `topK[0]`;
 * - with a budget, `budgetPick` is predicted to fit it, or is null with a notice;
 * - it never mutates the view, the options or the candidates.
 * A recommender may be called several times, one call at a time.
 */
export interface Recommender {
  readonly name: string;
  /** Fits whatever the strategy learns for `metric` ahead of the first request (optional). */
  prepare?(metric: string): Promise<void>;
  recommend(profile: DatasetProfile, options: RecommendOptions): Promise<Recommendation>;
}

/** How the LLM strategies talk to their models: attempts, judge, prompts and sampling. */
export interface ReasoningSettings {
  /** false: rule checks only, no LLM judge. */
  llmJudge?: boolean;
  maxAttempts?: number;
  promptsDir?: string;
  temperature?: number;
  maxTokens?: number;
  /** Per model call. */
  timeoutMs?: number;
  /** Seed of the LLM's sampling (attempt n uses seed + n - 1); the request's seed when absent. */
  seed?: number;
}

/** What a strategy may use besides the knowledge-base view; shared by the strategies of a request. */
export interface StrategyDeps {
  /** The meta-learner for a metric, fitted (or loaded) once and shared. */
  metaLearners: MetaLearnerSource;
  /** Past datasets and runs that back a candidate; without it, answers carry no evidence. */
  evidence?: EvidenceSource;
  llm?: LanguageModel;
  /** The judge model; the recommender's LLM when absent. */
  judge?: LanguageModel;
  reasoning?: ReasoningSettings;
}

/** One strategy of the registry (src/recommend/registry.ts). */
export interface StrategyEntry {
  readonly name: string;
  /** One line for --help and documentation. */
  readonly description: string;
  /** Needs a language model to do what it says (it falls back to the meta-learner without one). */
  readonly needsLlm: boolean;
  /** Its answer depends on the seed beyond tie-breaking (the benchmark repeats it over seeds). */
  readonly stochastic: boolean;
  create(view: KbView, deps: StrategyDeps): Recommender;
}
