// Derived features for the meta-learner (FeatureSetFactory of learner.ts), each one generic: it
// reads only what any knowledge base has (profiles, model cards, the search space, past runs).
//   resolution:   log2 of the model card's input resolution over the dataset's median image side,
//                 so "a 384-px model on 500-px photos" is one number the trees can split on, and a
//                 new dataset's image size relates to what past datasets saw;
//   pretraining:  the model card's pretraining data as a category;
//   similarRuns:  how configurations near this one (the lookup HPO's normalized distance, plus 1
//                 for another model) did on other datasets: the weighted mean effect of the
//                 SIMILAR_K nearest runs, always from datasets other than the row's own, as it will
//                 be for a new dataset. Trees find single-parameter ranges easily; "close to what
//                 worked elsewhere, across all parameters at once" they cannot build from splits.
import type { EncodedRow } from '../../learn/encode.ts';
import { encodeForDistance, numericMask, snapDistance } from '../../hpo/lookup.ts';
import type { FeatureSet, FeatureSetFactory, TrainingRows } from './learner.ts';

export const SIMILAR_K = 10;

export const resolutionFeature: FeatureSetFactory = () => ({
  names: ['resolution_ratio'],
  types: ['q'],
  compute(row) {
    const input = row.card?.inputResolution;
    const res = row.profile.resolution;
    if (!input || !res) return [Number.NaN];
    return [Math.log2(input / Math.sqrt(res.medianWidth * res.medianHeight))];
  },
});

export const similarRunsFeature: FeatureSetFactory = (t: TrainingRows) => {
  const mask = numericMask(t.space);
  const enc = t.rows.map((r) => encodeForDistance(t.space, r.config));
  return {
    names: ['similar_runs_effect'],
    types: ['q'],
    compute(row: EncodedRow, dataset?: string) {
      const x = encodeForDistance(t.space, row.config);
      const near: { d: number; e: number }[] = [];
      t.rows.forEach((r, i) => {
        if (t.datasets[i] === dataset) return;
        const d = snapDistance(mask, x, enc[i]) + (r.model === row.model ? 0 : 1);
        if (near.length < SIMILAR_K || d < near[near.length - 1].d) {
          near.push({ d, e: t.effect[i] });
          near.sort((a, b) => a.d - b.d);
          if (near.length > SIMILAR_K) near.pop();
        }
      });
      if (near.length === 0) return [Number.NaN];
      const w = near.map((n) => 1 / (1 + n.d));
      return [near.reduce((s, n, i) => s + w[i] * n.e, 0) / w.reduce((s, v) => s + v, 0)];
    },
  };
};

/** Several feature sets side by side. */
export function combineFeatures(...factories: FeatureSetFactory[]): FeatureSetFactory {
  return (t) => {
    const sets: FeatureSet[] = factories.map((f) => f(t));
    return {
      names: sets.flatMap((s) => s.names),
      types: sets.flatMap((s) => s.types),
      compute: (row, dataset) => sets.flatMap((s) => s.compute(row, dataset)),
    };
  };
}
