import type { JudgeContext } from '../judge/context.ts';

export type { EvidenceItem } from '../judge/context.ts';

/**
 * Everything the LLM strategies and the judge see for one request: built by the pipeline from
 * the profile, the retrieved evidence, the meta-learner's SHAP insights and its predictions.
 * One definition with the judge's JudgeContext (src/judge/context.ts), which documents each field.
 */
export type ReasoningContext = JudgeContext;
