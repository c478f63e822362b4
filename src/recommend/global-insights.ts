// The meta-learner's global insights: which features matter (mean |SHAP|), in which value ranges
// they help or hurt, and the strongest interactions, computed once when the meta-learner is
// fitted and cached with it. They feed the LLM prompt, the evidence index and the report.
import { Rng } from '../core/index.ts';
import {
  featureEffects,
  globalImportance,
  interactionEffects,
  strongestInteractions,
  treeShap,
  treeShapInteractions,
  type Insight,
} from '../explain/index.ts';
import type { EncoderSpec } from '../learn/encode.ts';
import { selectRows } from '../learn/matrix.ts';
import type { TreeEnsemble } from '../learn/tree-model.ts';

/** Rows used for SHAP values and for the (costlier) interaction values. */
const MAX_ROWS = 2000;
const MAX_INTERACTION_ROWS = 200;
const TOP_FEATURES = 6;
const TOP_INTERACTIONS = 3;

function sampleRows(
  X: Float64Array,
  f: number,
  n: number,
  max: number,
  rng: Rng,
): { X: Float64Array; n: number } {
  if (n <= max) return { X, n };
  return { X: selectRows(X, f, rng.sampleIndices(n, max)), n: max };
}

/** Insights of the effect ensemble (SHAP averaged over members) on its training rows. */
export function globalInsights(
  effect: readonly TreeEnsemble[],
  encoder: EncoderSpec,
  X: Float64Array,
  numRows: number,
  seed: number,
): Insight[] {
  const f = encoder.features.length;
  if (effect.length === 0 || numRows === 0 || f === 0) return [];
  const rng = new Rng(seed).fork('insights');
  const sample = sampleRows(X, f, numRows, MAX_ROWS, rng);
  const values = new Float64Array(sample.n * f);
  for (const m of effect) {
    const v = treeShap(m, sample.X, sample.n).values;
    for (let i = 0; i < v.length; i++) values[i] += v[i] / effect.length;
  }
  const names = encoder.features.map((s) => s.name);
  const features = encoder.features;
  const importance = globalImportance(values, names)
    .filter((i) => i.magnitude > 0)
    .slice(0, TOP_FEATURES);
  const effects = featureEffects(
    { values, X: sample.X, features },
    { features: importance.map((i) => i.features[0]) },
  );
  const small = sampleRows(sample.X, f, sample.n, MAX_INTERACTION_ROWS, rng.fork('interactions'));
  const pairs = strongestInteractions(treeShapInteractions(effect[0], small.X, small.n), names, {
    top: TOP_INTERACTIONS,
  }).filter((i) => i.magnitude > 0);
  const conditioned = interactionEffects({ values, X: sample.X, features }, pairs);
  // Effects below a tenth of the top feature's importance are noise to a reader (and to an LLM).
  const floor = 0.1 * (importance[0]?.magnitude ?? 0);
  const visible = (i: Insight) => Math.abs(i.magnitude) >= floor;
  return [...importance, ...effects.filter(visible), ...pairs, ...conditioned.filter(visible)];
}
