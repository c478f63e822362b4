// A dense row-major feature matrix; NaN marks a missing value (as XGBoost's DMatrix does).

export interface Matrix {
  data: Float64Array;
  numRows: number;
  numFeatures: number;
}

/** The rows `idx` (in that order, repeats allowed) of a row-major matrix with `f` columns. */
export function selectRows(X: Float64Array, f: number, idx: readonly number[]): Float64Array {
  const out = new Float64Array(idx.length * f);
  idx.forEach((r, i) => out.set(X.subarray(r * f, r * f + f), i * f));
  return out;
}
