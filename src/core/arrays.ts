// Reductions and appends over arrays of any length. Spreading an array into a call
// (`Math.max(...xs)`, `out.push(...xs)`) passes each element as an argument and throws a
// RangeError beyond about 120,000 of them; test/perf/no-call-spread.test.ts keeps src/ free of it.

/** The largest value, as Math.max gives it (-Infinity when empty, NaN when any is NaN). */
export function maxOf(values: Iterable<number>): number {
  let m = -Infinity;
  for (const v of values) m = Math.max(m, v);
  return m;
}

/** The smallest value, as Math.min gives it (Infinity when empty, NaN when any is NaN). */
export function minOf(values: Iterable<number>): number {
  let m = Infinity;
  for (const v of values) m = Math.min(m, v);
  return m;
}

/** Appends every item to `target`; returns its new length, as push does. */
export function pushAll<T>(target: T[], items: Iterable<T>): number {
  for (const item of items) target.push(item);
  return target.length;
}
