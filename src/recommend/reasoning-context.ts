import type {
  DatasetProfile,
  EvidenceRef,
  Interval,
  ModelCard,
  RecommendedConfig,
  SearchSpace,
  Objective,
} from '../core/index.ts';

/** A piece of evidence an LLM may cite by id (past dataset, past run, or SHAP insight). */
export interface EvidenceItem extends EvidenceRef {
  /** Compact readable text shown to the LLM. */
  text: string;
}

/**
 * Everything the LLM strategies and the judge see for one request: built by the pipeline from
 * the profile, the retrieved evidence, the meta-learner's SHAP insights and its predictions.
 */
export interface ReasoningContext {
  profile: DatasetProfile;
  metric: string;
  objective: Objective;
  budgetMinutes?: number;
  /** Models the answer may name (the catalog the knowledge base covers). */
  models: ModelCard[];
  /** Hyperparameters the answer must set, with the observed ranges. */
  space: SearchSpace;
  evidence: EvidenceItem[];
  /** The meta-learner's global insights as citable sentences (`insight:...` ids). */
  insights: { id: string; text: string }[];
  /** The meta-learner's top-k / Pareto candidates, with predictions and local explanations. */
  shortlist: RecommendedConfig[];
  /**
   * The meta-learner's prediction for any candidate (used to check the LLM's claims and to report
   * the meta-learner's view of the LLM's final choice).
   */
  predict(candidate: { model: string; config: Record<string, string | number | boolean> }): {
    metric: Interval;
    trainingTimeSec?: Interval;
  };
}
