import type { Candidate, DatasetProfile, Objective, Recommendation } from '../core/index.ts';
import type { KbView } from './kb-view.ts';

export interface RecommendOptions {
  metric: string;
  objective: Objective;
  topK: number;
  seed: number;
  budgetMinutes?: number;
  /**
   * Choose among these instead of generating candidates from the knowledge base (the benchmark
   * passes the configurations actually run on the held-out dataset).
   */
  candidates?: Candidate[];
  /** How many of the top-k get a local SHAP explanation and evidence (default: all of top-k, at most 5). */
  explainTop?: number;
}

/** Every strategy and baseline answers the same way, so the benchmark treats them alike. */
export interface Recommender {
  readonly name: string;
  /** Fits whatever the strategy learns for `metric` ahead of the first request (optional). */
  prepare?(metric: string): Promise<void>;
  recommend(profile: DatasetProfile, options: RecommendOptions): Promise<Recommendation>;
}

/** Builds a recommender fitted on a knowledge-base view (all of it, or all but a held-out dataset). */
export type RecommenderFactory = (view: KbView) => Recommender;
