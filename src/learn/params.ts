// Booster parameters with XGBoost's names, aliases and defaults (XGBoost 1.7), so a params JSON
// written for XGBoost works here unchanged.

import { z } from 'zod';
import { MetallmixError, type ErrorLocation } from '../core/errors.ts';
import { parseWith } from '../core/validate.ts';
import type { Objective } from './tree-model.ts';

const positive = z.number().positive();
const fraction = z.number().gt(0).lte(1);

const ParamsSchema = z.strictObject({
  objective: z
    .enum(['reg:squarederror', 'binary:logistic', 'rank:pairwise'])
    .default('reg:squarederror'),
  n_estimators: z.number().int().positive().default(100),
  eta: z.number().min(0).default(0.3),
  max_depth: z.number().int().min(1).max(31).default(6),
  min_child_weight: z.number().min(0).default(1),
  lambda: z.number().min(0).default(1),
  alpha: z.number().min(0).default(0),
  gamma: z.number().min(0).default(0),
  subsample: fraction.default(1),
  colsample_bytree: fraction.default(1),
  max_bin: z.number().int().min(2).max(65535).default(256),
  /** Categorical features with fewer categories than this split one category against the rest. */
  max_cat_to_onehot: z.number().int().min(1).default(4),
  base_score: z.number().optional(),
  seed: z.number().int().default(0),
  early_stopping_rounds: positive.int().optional(),
  /**
   * Threads for training (XGBoost's name). Default 1, unlike XGBoost's all cores: the library
   * trains many small models side by side, where threads cost more than they gain. The trees
   * are the same for every thread count.
   */
  nthread: z.number().int().min(1).max(64).default(1),
  /** Accepted for XGBoost compatibility; only the histogram method exists here. */
  tree_method: z.literal('hist').optional(),
});

export type GBDTParams = z.output<typeof ParamsSchema> & { base_score: number };
export type GBDTParamsInput = z.input<typeof ParamsSchema> & Record<string, unknown>;

const ALIASES: Record<string, string> = {
  learning_rate: 'eta',
  reg_lambda: 'lambda',
  reg_alpha: 'alpha',
  min_split_loss: 'gamma',
  random_state: 'seed',
  num_boost_round: 'n_estimators',
  n_jobs: 'nthread',
};

/** Validates user parameters, resolving XGBoost aliases and filling XGBoost's defaults. */
export function resolveParams(
  input: Record<string, unknown>,
  location: ErrorLocation = {},
): GBDTParams {
  const named: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const canonical = ALIASES[key] ?? key;
    if (!(canonical in ParamsSchema.shape))
      throw new MetallmixError(
        `unknown parameter; supported: ${[...Object.keys(ParamsSchema.shape), ...Object.keys(ALIASES)].join(', ')}`,
        { location: { ...location, field: key } },
      );
    if (canonical in named)
      throw new MetallmixError(`parameter given twice (as "${key}" and an alias)`, {
        location: { ...location, field: key },
      });
    named[canonical] = value;
  }
  const p = parseWith(ParamsSchema, named, { ...location, what: 'GBDT parameters' });
  const baseScore = p.base_score ?? 0.5;
  if (p.objective === 'binary:logistic' && !(baseScore > 0 && baseScore < 1))
    throw new MetallmixError('base_score must lie in (0, 1) for binary:logistic', {
      location: { ...location, field: 'base_score' },
    });
  return { ...p, base_score: baseScore };
}

export type { Objective };
