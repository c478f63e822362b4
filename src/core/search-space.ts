import { z } from 'zod';

export const ParamValue = z.union([z.string(), z.number(), z.boolean()]);
export type ParamValue = z.infer<typeof ParamValue>;

/** A parameter is active only when its parent parameter takes one of `values`. */
export const Condition = z.object({
  parent: z.string().min(1),
  values: z.array(ParamValue).min(1),
});
export type Condition = z.infer<typeof Condition>;

const base = {
  name: z.string().min(1),
  condition: Condition.optional(),
  description: z.string().optional(),
};

export const FloatParam = z.object({
  ...base,
  type: z.literal('float'),
  low: z.number(),
  high: z.number(),
  log: z.boolean().default(false),
});
export const IntParam = z.object({
  ...base,
  type: z.literal('int'),
  low: z.number().int(),
  high: z.number().int(),
  log: z.boolean().default(false),
});
export const CategoricalParam = z.object({
  ...base,
  type: z.literal('categorical'),
  choices: z.array(ParamValue).min(1),
});
export const BoolParam = z.object({ ...base, type: z.literal('bool') });

export const Hyperparameter = z
  .discriminatedUnion('type', [FloatParam, IntParam, CategoricalParam, BoolParam])
  .refine((p) => !('low' in p) || p.low <= p.high, { message: 'low must be <= high' })
  .refine((p) => !('log' in p) || !p.log || p.low > 0, { message: 'log scale needs low > 0' });
export type Hyperparameter = z.infer<typeof Hyperparameter>;

export const SearchSpace = z.object({ parameters: z.array(Hyperparameter) });
export type SearchSpace = z.infer<typeof SearchSpace>;

/** Values of the active hyperparameters; inactive conditional parameters are absent. */
export const Config = z.record(z.string(), ParamValue);
export type Config = z.infer<typeof Config>;

/** Whether `param` is active in `config` (its condition's parent holds an allowed value). */
export function isActive(param: Hyperparameter, config: Config): boolean {
  if (!param.condition) return true;
  const parentValue = config[param.condition.parent];
  return parentValue !== undefined && param.condition.values.includes(parentValue);
}

/**
 * Reasons why `config` does not fit `space` (empty when it fits): unknown names, wrong types,
 * values out of range, inactive parameters set, active ones missing.
 */
export function configViolations(space: SearchSpace, config: Config): string[] {
  const problems: string[] = [];
  const known = new Map(space.parameters.map((p) => [p.name, p]));
  for (const name of Object.keys(config)) {
    if (!known.has(name)) problems.push(`${name}: not a parameter of the search space`);
  }
  for (const p of space.parameters) {
    const v = config[p.name];
    const active = isActive(p, config);
    if (!active) {
      if (v !== undefined)
        problems.push(
          `${p.name}: set although its condition on ${p.condition!.parent} does not hold`,
        );
      continue;
    }
    if (v === undefined) {
      problems.push(`${p.name}: missing`);
      continue;
    }
    switch (p.type) {
      case 'float':
      case 'int':
        if (typeof v !== 'number' || !Number.isFinite(v))
          problems.push(`${p.name}: expected a number, got ${JSON.stringify(v)}`);
        else if (p.type === 'int' && !Number.isInteger(v))
          problems.push(`${p.name}: expected an integer, got ${v}`);
        else if (v < p.low || v > p.high)
          problems.push(`${p.name}: ${v} is outside [${p.low}, ${p.high}]`);
        break;
      case 'categorical':
        if (!p.choices.includes(v))
          problems.push(
            `${p.name}: ${JSON.stringify(v)} is not one of ${JSON.stringify(p.choices)}`,
          );
        break;
      case 'bool':
        if (typeof v !== 'boolean')
          problems.push(`${p.name}: expected true or false, got ${JSON.stringify(v)}`);
        break;
    }
  }
  return problems;
}

/** Canonical text of a config, equal for equal configurations whatever the key order. */
export function configKey(config: Config): string {
  return JSON.stringify(
    Object.keys(config)
      .sort()
      .map((k) => [k, config[k]]),
  );
}
