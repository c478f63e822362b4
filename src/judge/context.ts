import type {
  DatasetProfile,
  EvidenceRef,
  Interval,
  ModelCard,
  Objective,
  RecommendedConfig,
  SearchSpace,
} from '../core/index.ts';

/** What the meta-learner predicts for one candidate. */
export interface Prediction {
  metric: Interval;
  trainingTimeSec?: Interval;
}

/** A piece of evidence an LLM may cite by id (past dataset, past run, or SHAP insight). */
export interface EvidenceItem extends EvidenceRef {
  /** Compact readable text shown to the LLM. */
  text: string;
}

/**
 * Everything the LLM strategies and the judge see for one request: built by recommend's
 * pipeline from the profile, the retrieved evidence, the meta-learner's SHAP insights and its
 * predictions. Defined here, not in recommend, because judge sits below recommend and must not
 * import it; recommend calls it ReasoningContext.
 */
export interface JudgeContext {
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
   * When set, the answer must be exactly one of these configurations (the benchmark's lookup:
   * only configurations actually run on the held-out dataset can be scored).
   */
  allowedCandidates?: { model: string; config: Record<string, string | number | boolean> }[];
  /**
   * The meta-learner's prediction for any candidate (used to check the LLM's claims and to report
   * the meta-learner's view of the LLM's final choice).
   */
  predict(candidate: {
    model: string;
    config: Record<string, string | number | boolean>;
  }): Prediction;
}

/** The id under which a shortlist candidate can be cited. */
export function candidateId(candidate: { rank: number }): string {
  return `candidate:${candidate.rank}`;
}

/** Every id an answer may cite: evidence, insights, the evidence of shortlisted candidates, and the candidates themselves. */
export function citableIds(ctx: JudgeContext): Set<string> {
  const ids = new Set<string>();
  for (const e of ctx.evidence) ids.add(e.id);
  for (const i of ctx.insights) ids.add(i.id);
  for (const c of ctx.shortlist) {
    ids.add(candidateId(c));
    for (const e of c.evidence) ids.add(e.id);
  }
  return ids;
}
