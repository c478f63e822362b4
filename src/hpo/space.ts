// Search-space helpers shared by the samplers: parameter order (parents before children),
// uniform draws, and the mapping of numeric values to the space the samplers model
// (log for log-scale parameters).
import { MetallmixError } from '../core/errors.ts';
import type { Config, Hyperparameter, ParamValue, SearchSpace } from '../core/search-space.ts';
import type { Rng } from '../core/rng.ts';

/**
 * The parameters with every condition's parent before its children, so a sampler can decide
 * activity while it builds a config. Throws on unknown parents, duplicates and cycles.
 */
export function orderedParameters(space: SearchSpace): Hyperparameter[] {
  const byName = new Map<string, Hyperparameter>();
  for (const p of space.parameters) {
    if (byName.has(p.name))
      throw new MetallmixError(`search space: parameter "${p.name}" is defined twice`, {
        location: { field: p.name },
      });
    byName.set(p.name, p);
  }
  const ordered: Hyperparameter[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (p: Hyperparameter): void => {
    if (state.get(p.name) === 'done') return;
    if (state.get(p.name) === 'visiting')
      throw new MetallmixError(`search space: conditions form a cycle through "${p.name}"`, {
        location: { field: p.name },
      });
    state.set(p.name, 'visiting');
    if (p.condition) {
      const parent = byName.get(p.condition.parent);
      if (!parent)
        throw new MetallmixError(
          `search space: condition of "${p.name}" names unknown parameter "${p.condition.parent}"`,
          { location: { field: `${p.name}.condition.parent` } },
        );
      visit(parent);
    }
    state.set(p.name, 'done');
    ordered.push(p);
  };
  for (const p of space.parameters) visit(p);
  return ordered;
}

export type NumericParam = Extract<Hyperparameter, { type: 'float' | 'int' }>;

/** Categorical view of a parameter: its choices (booleans as [false, true]). */
export function choicesOf(p: Hyperparameter): readonly ParamValue[] {
  if (p.type === 'categorical') return p.choices;
  if (p.type === 'bool') return [false, true];
  throw new Error(`choicesOf: ${p.name} is numeric`);
}

/**
 * Bounds of a numeric parameter in the sampler's internal space: log for log scale, and
 * integers widened by half a step on each side so every integer gets an equal share
 * (as Optuna's Parzen estimator does).
 */
export function internalBounds(p: NumericParam): { low: number; high: number } {
  if (p.type === 'int') {
    return p.log
      ? { low: Math.log(p.low - 0.5), high: Math.log(p.high + 0.5) }
      : { low: p.low - 0.5, high: p.high + 0.5 };
  }
  return p.log ? { low: Math.log(p.low), high: Math.log(p.high) } : { low: p.low, high: p.high };
}

export function toInternal(p: NumericParam, value: number): number {
  return p.log ? Math.log(value) : value;
}

/** Back from the internal space: exp for log scale, integers rounded, all clipped to the range. */
export function fromInternal(p: NumericParam, x: number): number {
  let v = p.log ? Math.exp(x) : x;
  if (p.type === 'int') v = Math.round(v);
  return Math.min(p.high, Math.max(p.low, v));
}

/** One uniform draw for `p` (log-uniform for log scale). */
export function sampleUniform(p: Hyperparameter, rng: Rng): ParamValue {
  if (p.type === 'float' || p.type === 'int') {
    if (p.type === 'int' && !p.log) return p.low + rng.int(p.high - p.low + 1);
    const { low, high } = internalBounds(p);
    return fromInternal(p, rng.uniform(low, high));
  }
  return rng.choice(choicesOf(p));
}

/** Builds a config parameter by parameter, skipping parameters whose condition fails. */
export function buildConfig(
  space: SearchSpace,
  draw: (p: Hyperparameter, partial: Config) => ParamValue,
): Config {
  const config: Config = {};
  for (const p of orderedParameters(space)) {
    if (p.condition) {
      const parentValue = config[p.condition.parent];
      if (parentValue === undefined || !p.condition.values.includes(parentValue)) continue;
    }
    config[p.name] = draw(p, config);
  }
  return config;
}
