// Everything the LLM strategies and the judge see for one request, built from the profile, the
// retrieved evidence, the meta-learner's SHAP insights and its predictions. One definition with
// the judge's JudgeContext (src/judge/context.ts, which documents each field): judge sits below
// recommend and must not import it.
import type { DatasetProfile, ModelCard, RecommendedConfig } from '../../core/index.ts';
import type { EvidenceItem, JudgeContext } from '../../judge/context.ts';
import { toEvidenceRef } from '../../retrieve/index.ts';
import type { Evidence } from '../evidence.ts';
import type { KbView } from '../kb-view.ts';
import { predictCandidates, type MetaLearner } from '../metalearner.ts';
import type { RecommendOptions } from '../types.ts';

export type { EvidenceItem } from '../../judge/context.ts';
export type ReasoningContext = JudgeContext;

/** Cards for every model with finished runs; models without a card get a minimal one. */
function modelCards(view: KbView): ModelCard[] {
  return view.summary.finishedModels.map(
    (id) => view.cards.get(id) ?? { id, family: id, architecture: 'other' },
  );
}

export function reasoningContext(input: {
  view: KbView;
  profile: DatasetProfile;
  options: RecommendOptions;
  learner: MetaLearner;
  evidence: Evidence;
  shortlist: RecommendedConfig[];
}): ReasoningContext {
  const { view, profile, options, learner } = input;
  const evidence: EvidenceItem[] = input.evidence.hits
    .filter((h) => h.kind !== 'insight')
    .map((h) => ({ ...toEvidenceRef(h), text: h.text }));
  return {
    profile,
    metric: options.metric,
    objective: options.objective,
    ...(options.budgetMinutes !== undefined ? { budgetMinutes: options.budgetMinutes } : {}),
    models: modelCards(view),
    space: view.space,
    evidence,
    insights: input.evidence.insights,
    shortlist: input.shortlist,
    ...(options.strictCandidates && options.candidates
      ? { allowedCandidates: options.candidates }
      : {}),
    predict: (c) => {
      const [p] = predictCandidates(learner, profile, [c], view.cards);
      return {
        metric: p.metric,
        ...(p.trainingTimeSec ? { trainingTimeSec: p.trainingTimeSec } : {}),
      };
    },
  };
}
