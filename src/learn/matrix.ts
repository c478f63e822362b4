// A dense row-major feature matrix; NaN marks a missing value (as XGBoost's DMatrix does).

export interface Matrix {
  data: Float64Array;
  numRows: number;
  numFeatures: number;
}

export function matrixFromRows(rows: readonly (readonly number[])[], numFeatures?: number): Matrix {
  const f = numFeatures ?? rows[0]?.length ?? 0;
  const data = new Float64Array(rows.length * f);
  rows.forEach((row, i) => {
    if (row.length !== f) throw new RangeError(`row ${i} has ${row.length} values, expected ${f}`);
    data.set(row, i * f);
  });
  return { data, numRows: rows.length, numFeatures: f };
}
