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

/**
 * What the judge reads about a request. It is the shape of recommend's ReasoningContext, stated
 * here because judge sits below recommend and must not import it.
 */
export interface JudgeContext {
  profile: DatasetProfile;
  metric: string;
  objective: Objective;
  budgetMinutes?: number;
  models: ModelCard[];
  space: SearchSpace;
  evidence: (EvidenceRef & { text: string })[];
  insights: { id: string; text: string }[];
  shortlist: RecommendedConfig[];
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
