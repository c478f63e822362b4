// The JSON Schema of the `hyperparameters` an LLM answer must set, closed to this request's
// search space: its names, types, ranges and choices, and its conditions. Conditions become one
// alternative per combination of the values of the parameters they depend on (so a grammar,
// which cannot express "required when", still forces exactly the active parameters); above
// MAX_VARIANTS combinations the conditional parameters are left optional instead.
import type { Hyperparameter, ParamValue, SearchSpace } from '../../core/index.ts';

const MAX_VARIANTS = 16;

function valueSchema(p: Hyperparameter): Record<string, unknown> {
  const note = p.description ? { description: p.description } : {};
  switch (p.type) {
    case 'float':
      return { type: 'number', minimum: p.low, maximum: p.high, ...note };
    case 'int':
      return { type: 'integer', minimum: p.low, maximum: p.high, ...note };
    case 'categorical':
      return { enum: p.choices, ...note };
    case 'bool':
      return { type: 'boolean', ...note };
  }
}

/** Every assignment of values to `parents` (each a categorical or boolean parameter). */
function combinations(parents: Hyperparameter[]): Map<string, ParamValue>[] {
  let out: Map<string, ParamValue>[] = [new Map()];
  for (const p of parents) {
    const values: ParamValue[] = p.type === 'categorical' ? p.choices : [false, true];
    out = out.flatMap((c) => values.map((v) => new Map(c).set(p.name, v)));
  }
  return out;
}

export function hyperparameterSchema(space: SearchSpace): Record<string, unknown> {
  const byName = new Map(space.parameters.map((p) => [p.name, p]));
  const parentNames = [
    ...new Set(space.parameters.flatMap((p) => (p.condition ? [p.condition.parent] : []))),
  ];
  const parents = parentNames
    .map((n) => byName.get(n))
    .filter((p): p is Hyperparameter => p?.type === 'categorical' || p?.type === 'bool');
  const object = (
    params: Hyperparameter[],
    fixed: Map<string, ParamValue>,
    required: string[],
  ) => ({
    type: 'object',
    properties: Object.fromEntries(
      params.map((p) => [
        p.name,
        fixed.has(p.name) ? { const: fixed.get(p.name) } : valueSchema(p),
      ]),
    ),
    required,
    additionalProperties: false,
  });
  const unconditional = space.parameters.filter((p) => !p.condition);
  const combos = combinations(parents);
  const everyParentKnown = parents.length === parentNames.length;
  if (parents.length === 0 || !everyParentKnown || combos.length > MAX_VARIANTS)
    return object(
      space.parameters,
      new Map(),
      unconditional.map((p) => p.name),
    );
  const variants = combos.map((fixed) => {
    const active = space.parameters.filter(
      (p) => !p.condition || p.condition.values.includes(fixed.get(p.condition.parent)!),
    );
    return object(
      active,
      fixed,
      active.map((p) => p.name),
    );
  });
  return variants.length === 1 ? variants[0] : { anyOf: variants };
}
