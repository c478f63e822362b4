// Margins of several ensembles over the same rows in one pass: the rows are rounded to float32
// once (not once per ensemble), and each block of rows stays in cache while every tree of every
// ensemble walks it. Each ensemble's margin is exactly predictMargin's (the same float32 sums in
// the same tree order), so the meta-learner's bootstrap members can be evaluated together.
import { MetallmixError } from '../core/errors.ts';
import type { Matrix } from './matrix.ts';
import { addTreeToMargin, toFloat32 } from './predict.ts';
import { baseMargin, type TreeEnsemble } from './tree-model.ts';

/** Rows per block: 1024 rows of 32 float32 features are 128 kB, inside a core's L2 cache. */
const BLOCK = 1024;

/** Untransformed scores of every model, one Float64Array of numRows per model. */
export function predictMargins(models: readonly TreeEnsemble[], X: Matrix): Float64Array[] {
  for (const model of models)
    if (X.numFeatures !== model.featureNames.length)
      throw new MetallmixError(
        `data has ${X.numFeatures} features but the model expects ${model.featureNames.length}`,
      );
  const x = toFloat32(X);
  const F = X.numFeatures;
  const out = models.map((m) => new Float64Array(X.numRows).fill(Math.fround(baseMargin(m))));
  for (let start = 0; start < X.numRows; start += BLOCK) {
    const end = Math.min(X.numRows, start + BLOCK);
    const rows = x.subarray(start * F, end * F);
    models.forEach((model, m) => {
      const margin = out[m].subarray(start, end);
      for (const tree of model.trees) addTreeToMargin(tree, rows, F, margin);
    });
  }
  return out;
}
