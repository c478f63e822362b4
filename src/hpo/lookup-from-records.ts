// Lookup problems from a knowledge base's experiment records: one problem per dataset, whose
// candidates are the distinct (model, config) pairs run on it, averaged over seeds.
import { MetallmixError } from '../core/errors.ts';
import { isLowerBetter, type ExperimentRecord } from '../core/experiment.ts';
import {
  configKey,
  configViolations,
  type Config,
  type SearchSpace,
} from '../core/search-space.ts';
import { type LookupCandidate, type LookupProblem } from './lookup.ts';
import { orderedParameters } from './space.ts';

interface Group {
  config: Config;
  weight: number;
  valueSum: number;
  cost: { sum: number; weight: number };
  curve: Map<number, { sum: number; weight: number }>;
}

/**
 * One LookupProblem per dataset (sorted by name). The space gains a categorical `model`
 * parameter whose choices are every model in the records, so all problems share one space.
 * Only finished records that carry `metric` count. Config values outside the space's
 * parameters (and values of parameters whose condition fails) are ignored, so runs that
 * differ only there are averaged into one candidate, like runs with different seeds; a record
 * standing for several runs (`count`) weighs as many.
 */
export function lookupProblemsFromRecords(
  records: readonly ExperimentRecord[],
  metric: string,
  space: SearchSpace,
): LookupProblem[] {
  if (space.parameters.some((p) => p.name === 'model'))
    throw new MetallmixError('search space already has a parameter named "model"', {
      location: { field: 'model' },
    });
  const usable = records.filter((r) => r.status === 'finished' && r.metrics[metric] !== undefined);
  if (usable.length === 0)
    throw new MetallmixError(`no finished experiment record has the metric "${metric}"`, {
      location: { field: `metrics.${metric}` },
    });
  const models = [...new Set(usable.map((r) => r.model))].sort();
  const fullSpace: SearchSpace = {
    parameters: [{ name: 'model', type: 'categorical', choices: models }, ...space.parameters],
  };
  const params = orderedParameters(fullSpace);
  const byDataset = new Map<string, Map<string, Group>>();
  for (const r of usable) {
    const config: Config = {};
    const source: Config = { ...r.config, model: r.model };
    for (const p of params) {
      const active =
        !p.condition ||
        (config[p.condition.parent] !== undefined &&
          p.condition.values.includes(config[p.condition.parent]));
      if (active && source[p.name] !== undefined) config[p.name] = source[p.name];
    }
    const problems = configViolations(fullSpace, config);
    if (problems.length)
      throw new MetallmixError(
        `record of dataset "${r.dataset}" does not fit the search space: ${problems.join('; ')}`,
        {
          location: {
            file: r.provenance.source,
            line: r.provenance.line,
            field: `config.${problems[0].split(':')[0]}`,
          },
        },
      );
    const groups = byDataset.get(r.dataset) ?? new Map<string, Group>();
    byDataset.set(r.dataset, groups);
    const key = configKey(config);
    let g = groups.get(key);
    if (!g) {
      g = { config, weight: 0, valueSum: 0, cost: { sum: 0, weight: 0 }, curve: new Map() };
      groups.set(key, g);
    }
    const w = r.count ?? 1;
    g.weight += w;
    g.valueSum += w * r.metrics[metric];
    if (r.cost.trainingTimeSec !== undefined) {
      g.cost.sum += w * r.cost.trainingTimeSec;
      g.cost.weight += w;
    }
    for (const point of r.curve ?? []) {
      const v = point.metrics[metric];
      if (v === undefined) continue;
      const acc = g.curve.get(point.epoch) ?? { sum: 0, weight: 0 };
      acc.sum += w * v;
      acc.weight += w;
      g.curve.set(point.epoch, acc);
    }
  }
  const direction = isLowerBetter(metric) ? 'minimize' : 'maximize';
  return [...byDataset.keys()].sort().map((dataset) => ({
    name: dataset,
    space: fullSpace,
    direction,
    candidates: [...byDataset.get(dataset)!.values()].map((g) => {
      const c: LookupCandidate = { config: g.config, value: g.valueSum / g.weight };
      if (g.cost.weight > 0) c.costSec = g.cost.sum / g.cost.weight;
      if (g.curve.size > 0)
        c.curve = [...g.curve.entries()]
          .sort((a, b) => a[0] - b[0])
          .filter(([epoch]) => epoch > 0)
          .map(([epoch, acc]) => ({ budget: epoch, value: acc.sum / acc.weight }));
      return c;
    }),
  }));
}
