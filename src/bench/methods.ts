// Benchmark methods by name: the recommenders (fitted per fold) and HPO baselines `NAME@TRIALS`.
import { MetallmixError } from '../core/index.ts';
import { LOOKUP_METHODS, type LookupMethod } from '../hpo/lookup.ts';
import { BASE_STRATEGIES, createBaseRecommender } from '../recommend/registry.ts';
import { hpoMethod, recommenderMethod, type BenchMethod } from './lodo.ts';

export const DEFAULT_METHODS = [
  'random',
  'single-best',
  'knn',
  'metalearner',
  'random-search@10',
  'tpe@10',
];

const HPO_NAMES: Record<string, LookupMethod> = {
  'random-search': 'random',
  tpe: 'tpe',
  'successive-halving': 'successive-halving',
  hyperband: 'hyperband',
};

export function benchMethod(name: string): BenchMethod {
  if ((BASE_STRATEGIES as readonly string[]).includes(name))
    return recommenderMethod(name, (view) => createBaseRecommender(name, view), name === 'random');
  const m = /^([a-z-]+)@(\d+)$/.exec(name);
  if (m && HPO_NAMES[m[1]] && LOOKUP_METHODS.includes(HPO_NAMES[m[1]]))
    return hpoMethod(HPO_NAMES[m[1]], Number(m[2]), m[1]);
  throw new MetallmixError(
    `unknown method "${name}"; choose from ${BASE_STRATEGIES.join(', ')}, or an HPO baseline with a trial budget: ${Object.keys(
      HPO_NAMES,
    )
      .map((h) => `${h}@N`)
      .join(', ')}`,
    { location: { field: 'methods' } },
  );
}
