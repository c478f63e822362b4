// SHAP values turned into insights, as data: global importance, the value ranges where a
// feature pushes the prediction up or down (optionally among rows where another feature lies in
// a given range), and the strongest interactions. Ids are stable so that an LLM can cite them.

import { MetallmixError } from '../core/errors.ts';
import { pushAll } from '../core/arrays.ts';

/** How to show a feature: what FeatureSpec in learn/encode.ts carries, so one can be passed. */
export interface FeatureDisplay {
  name: string;
  kind: 'numeric' | 'categorical';
  /** The encoded value is log10 of the shown value (as learn/encode.ts encodes log scales). */
  log?: boolean;
  /** Category labels; a code is an index into this list. */
  categories?: string[];
  /** Maps an encoded value to the shown one; overrides `log`. */
  toDisplay?: (x: number) => number;
}

/** A set of values of one feature, in display units (numbers) or labels (categories). */
export type ValueRange =
  | { kind: 'interval'; low: number; high: number }
  | { kind: 'categories'; categories: string[] }
  | { kind: 'missing' };

/** Rows whose `feature` lies in [low, high) (display units) or among `categories` (labels). */
export interface EffectCondition {
  feature: string;
  low?: number;
  high?: number;
  categories?: string[];
}

export interface Insight {
  /** e.g. insight:importance:lr, insight:effect:lr:0, insight:interaction:lr:batch_size */
  id: string;
  kind: 'importance' | 'effect' | 'interaction';
  /** One feature, or the pair of an interaction. */
  features: string[];
  /** For effects: the values of the feature this insight is about. */
  range?: ValueRange;
  /** For effects computed on a subset of rows only. */
  condition?: EffectCondition;
  /** Effects: sign of the mean contribution; importance and interactions: 'mixed'. */
  direction: 'positive' | 'negative' | 'mixed';
  /**
   * In margin units. importance: mean |SHAP|; effect: mean SHAP of the rows in range (signed);
   * interaction: mean |phi_ij + phi_ji|, the pair's whole interaction effect.
   */
  magnitude: number;
  /** Number of rows behind the figure. */
  support: number;
  /** 1 = largest magnitude among the insights of its kind (and feature, for effects). */
  rank: number;
}

export interface EffectOptions {
  /** Features to describe; default: the `top` most important. */
  features?: string[];
  top?: number;
  /** Quantile bins per numeric feature before neighbours of the same sign are merged. */
  bins?: number;
  /** Fewest rows a range needs to be reported. */
  minSupport?: number;
  condition?: EffectCondition;
}

function numRowsOf(values: Float64Array, numFeatures: number, what: string): number {
  const n = values.length / numFeatures;
  if (numFeatures === 0 || !Number.isInteger(n))
    throw new MetallmixError(
      `${what}: ${values.length} values do not divide into rows of ${numFeatures} features`,
    );
  return n;
}

/** Mean |SHAP| per feature, most important first. `values` is rows x features. */
export function globalImportance(values: Float64Array, featureNames: string[]): Insight[] {
  const F = featureNames.length;
  const n = numRowsOf(values, F, 'SHAP values');
  const sums = new Float64Array(F);
  for (let r = 0; r < n; r++) for (let f = 0; f < F; f++) sums[f] += Math.abs(values[r * F + f]);
  return featureNames
    .map((name, f) => ({ name, magnitude: n ? sums[f] / n : 0 }))
    .sort((a, b) => b.magnitude - a.magnitude)
    .map(({ name, magnitude }, i) => ({
      id: `insight:importance:${name}`,
      kind: 'importance',
      features: [name],
      direction: 'mixed',
      magnitude,
      support: n,
      rank: i + 1,
    }));
}

/** The shown value of an encoded one. */
export function displayValue(feature: FeatureDisplay, x: number): number {
  if (feature.toDisplay) return feature.toDisplay(x);
  return feature.log ? 10 ** x : x;
}

function labelOf(feature: FeatureDisplay, code: number): string {
  return feature.categories?.[code] ?? String(code);
}

function conditionKey(c: EffectCondition): string {
  let key = c.feature;
  if (c.low !== undefined) key += `>=${c.low}`;
  if (c.high !== undefined) key += `<${c.high}`;
  if (c.categories) key += `=${c.categories.join('+')}`;
  return key;
}

/** Row filter for a condition; throws when it names an unknown feature. */
function conditionFilter(
  features: FeatureDisplay[],
  X: Float64Array,
  condition: EffectCondition | undefined,
): (row: number) => boolean {
  if (!condition) return () => true;
  const F = features.length;
  const c = features.findIndex((f) => f.name === condition.feature);
  if (c === -1)
    throw new MetallmixError(`condition: unknown feature "${condition.feature}"`, {
      location: { field: 'condition.feature' },
    });
  const feature = features[c];
  return (r) => {
    const x = X[r * F + c];
    if (Number.isNaN(x)) return false;
    if (feature.kind === 'categorical')
      return !condition.categories || condition.categories.includes(labelOf(feature, x));
    const v = displayValue(feature, x);
    return (
      (condition.low === undefined || v >= condition.low) &&
      (condition.high === undefined || v < condition.high)
    );
  };
}

interface Group {
  range: ValueRange;
  sum: number;
  n: number;
}

/** Quantile bins of (value, shap) pairs sorted by value; equal values never straddle a cut. */
function quantileBins(pairs: [number, number][], bins: number): { lo: number; hi: number }[] {
  const out: { lo: number; hi: number }[] = [];
  let start = 0;
  for (let b = 1; b <= bins && start < pairs.length; b++) {
    let end = b === bins ? pairs.length : Math.round((b * pairs.length) / bins);
    if (end <= start) continue;
    while (end < pairs.length && pairs[end][0] === pairs[end - 1][0]) end++;
    out.push({ lo: start, hi: end });
    start = end;
  }
  return out;
}

function numericGroups(feature: FeatureDisplay, pairs: [number, number][], bins: number): Group[] {
  pairs.sort((a, b) => a[0] - b[0]);
  const groups: Group[] = [];
  for (const { lo, hi } of quantileBins(pairs, bins)) {
    let sum = 0;
    for (let i = lo; i < hi; i++) sum += pairs[i][1];
    const range: ValueRange = {
      kind: 'interval',
      low: displayValue(feature, pairs[lo][0]),
      high: displayValue(feature, pairs[hi - 1][0]),
    };
    const last = groups[groups.length - 1];
    // Neighbouring bins pushing the same way read as one range.
    if (last && Math.sign(last.sum) === Math.sign(sum) && last.range.kind === 'interval') {
      last.range.high = range.high;
      last.sum += sum;
      last.n += hi - lo;
    } else groups.push({ range, sum, n: hi - lo });
  }
  return groups;
}

function categoricalGroups(feature: FeatureDisplay, pairs: [number, number][]): Group[] {
  const byCode = new Map<number, Group>();
  for (const [x, s] of pairs) {
    let g = byCode.get(x);
    if (!g) {
      g = { range: { kind: 'categories', categories: [labelOf(feature, x)] }, sum: 0, n: 0 };
      byCode.set(x, g);
    }
    g.sum += s;
    g.n += 1;
  }
  return [...byCode.entries()].sort((a, b) => a[0] - b[0]).map(([, g]) => g);
}

/**
 * For each chosen feature, the value ranges (quantile bins for numeric features, merged while
 * the sign stays the same; single categories for categorical ones; unset values) where its SHAP
 * contribution is positive or negative, with the mean contribution and the number of rows.
 * `values` and `X` are rows x features, in the order of `features`.
 */
export function featureEffects(
  input: { values: Float64Array; X: Float64Array; features: FeatureDisplay[] },
  options: EffectOptions = {},
): Insight[] {
  const { values, X, features } = input;
  const F = features.length;
  const n = numRowsOf(values, F, 'SHAP values');
  if (X.length !== values.length)
    throw new MetallmixError(
      `feature values: expected ${values.length} values (${n} rows x ${F} features), got ${X.length}`,
    );
  const names = features.map((f) => f.name);
  const chosen =
    options.features ??
    globalImportance(values, names)
      .filter((i) => i.magnitude > 0)
      .slice(0, options.top ?? 5)
      .map((i) => i.features[0]);
  const inCondition = conditionFilter(features, X, options.condition);
  const rows: number[] = [];
  for (let r = 0; r < n; r++) if (inCondition(r)) rows.push(r);
  const minSupport = options.minSupport ?? Math.max(3, Math.ceil(0.02 * rows.length));
  const bins = options.bins ?? 5;
  const suffix = options.condition ? `:given:${conditionKey(options.condition)}` : '';

  const insights: Insight[] = [];
  for (const name of chosen) {
    const f = names.indexOf(name);
    if (f === -1)
      throw new MetallmixError(`unknown feature "${name}"`, { location: { field: 'features' } });
    const feature = features[f];
    const pairs: [number, number][] = [];
    let missingSum = 0;
    let missingN = 0;
    for (const r of rows) {
      const x = X[r * F + f];
      if (Number.isNaN(x)) {
        missingSum += values[r * F + f];
        missingN++;
      } else pairs.push([x, values[r * F + f]]);
    }
    const groups =
      feature.kind === 'categorical'
        ? categoricalGroups(feature, pairs)
        : numericGroups(feature, pairs, bins);
    if (missingN) groups.push({ range: { kind: 'missing' }, sum: missingSum, n: missingN });
    const kept = groups.filter((g) => g.n >= minSupport && g.sum !== 0);
    const ranks = kept
      .map((g, i) => ({ i, size: Math.abs(g.sum / g.n) }))
      .sort((a, b) => b.size - a.size);
    kept.forEach((g, k) => {
      const magnitude = g.sum / g.n;
      insights.push({
        id: `insight:effect:${name}${suffix}:${k}`,
        kind: 'effect',
        features: [name],
        range: g.range,
        ...(options.condition ? { condition: options.condition } : {}),
        direction: magnitude > 0 ? 'positive' : 'negative',
        magnitude,
        support: g.n,
        rank: ranks.findIndex((x) => x.i === k) + 1,
      });
    });
  }
  return insights;
}

/**
 * The `top` feature pairs with the largest mean |phi_ij + phi_ji|, from interaction values laid
 * out as treeShapInteractions returns them: rows x (F+1) x (F+1), index F the bias.
 */
export function strongestInteractions(
  interactions: Float64Array,
  featureNames: string[],
  options: { top?: number } = {},
): Insight[] {
  const F = featureNames.length;
  const W = F + 1;
  const n = numRowsOf(interactions, W * W, 'interaction values');
  const pairs: { i: number; j: number; magnitude: number }[] = [];
  for (let i = 0; i < F; i++) {
    for (let j = i + 1; j < F; j++) {
      let sum = 0;
      for (let r = 0; r < n; r++) {
        const base = r * W * W;
        sum += Math.abs(interactions[base + i * W + j] + interactions[base + j * W + i]);
      }
      pairs.push({ i, j, magnitude: n ? sum / n : 0 });
    }
  }
  return pairs
    .filter((p) => p.magnitude > 0)
    .sort((a, b) => b.magnitude - a.magnitude)
    .slice(0, options.top ?? 5)
    .map((p, k) => ({
      id: `insight:interaction:${featureNames[p.i]}:${featureNames[p.j]}`,
      kind: 'interaction',
      features: [featureNames[p.i], featureNames[p.j]],
      direction: 'mixed',
      magnitude: p.magnitude,
      support: n,
      rank: k + 1,
    }));
}

/** `x` rounded to two significant digits, so that split points read well ("under 4,900"). */
function roundForDisplay(x: number): number {
  return x === 0 ? 0 : Number(x.toPrecision(2));
}

/**
 * For each interaction insight (a, b): the effects of a among rows where b is low and where it
 * is high (split at b's median, in display units, rounded to two significant digits), or for
 * each category of a categorical b. This is what reads as "lr from 1e-4 to 3e-4 adds about +2
 * accuracy points for n_instances under 4,900".
 */
export function interactionEffects(
  input: { values: Float64Array; X: Float64Array; features: FeatureDisplay[] },
  interactions: Insight[],
  options: Omit<EffectOptions, 'features' | 'condition' | 'top'> = {},
): Insight[] {
  const { X, features } = input;
  const F = features.length;
  const n = numRowsOf(input.values, F, 'SHAP values');
  const out: Insight[] = [];
  for (const pair of interactions) {
    const [a, b] = pair.features;
    const fb = features.findIndex((f) => f.name === b);
    if (fb === -1)
      throw new MetallmixError(`unknown feature "${b}"`, { location: { field: 'features' } });
    const feature = features[fb];
    const seen: number[] = [];
    for (let r = 0; r < n; r++) if (!Number.isNaN(X[r * F + fb])) seen.push(X[r * F + fb]);
    let conditions: EffectCondition[];
    if (feature.kind === 'categorical')
      conditions = [...new Set(seen)]
        .sort((x, y) => x - y)
        .map((code) => ({ feature: b, categories: [labelOf(feature, code)] }));
    else {
      seen.sort((x, y) => x - y);
      const median = roundForDisplay(displayValue(feature, seen[Math.floor(seen.length / 2)] ?? 0));
      conditions = [
        { feature: b, high: median },
        { feature: b, low: median },
      ];
    }
    for (const condition of conditions)
      pushAll(out, featureEffects(input, { ...options, features: [a], condition }));
  }
  return out;
}
