// The declarative mapping file: how the columns of a source (CSV, JSONL, W&B export, Optuna
// storage) become ExperimentRecords. One format for every source, validated with zod so a typo
// in a mapping is reported with its field path instead of silently importing wrong data.
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { RE2JS } from 're2js';
import { z } from 'zod';
import {
  DatasetProfile,
  MetallmixError,
  ModelCard,
  ParamValue,
  Condition,
  RunStatus,
  completeProfile,
  parseWith,
} from '../core/index.ts';
import { parseJsonText } from '../core/json-text.ts';
import { readTextFile } from '../core/text-file.ts';
import { checkProfileConsistency } from '../profile/index.ts';
import { PARAM_TYPES, checkDeclarations, isReservedName } from './declarations.ts';

export const SOURCE_FORMATS = ['csv', 'jsonl', 'wandb', 'optuna', 'mlflow'] as const;
export const SourceFormat = z.enum(SOURCE_FORMATS);
export type SourceFormat = z.infer<typeof SourceFormat>;

/** One column name, or several where the first non-empty one wins (e.g. test_auc, test_auc_macro). */
const ColumnRef = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const sourceFields = {
  column: ColumnRef.optional(),
  /** A constant instead of a column. */
  value: ParamValue.optional(),
  /**
   * Regular expression (RE2 syntax: linear time, no backreferences or lookaround) applied to the
   * cell text; the first capture group (or the match) is kept.
   */
  pattern: z.string().optional(),
  /** Path inside a JSON cell, dot-separated (`optimizer.lr`, `betas.0`). */
  json: z.string().optional(),
  /** The column may be missing from a file (e.g. one W&B export has it, another not). */
  optional: z.boolean().optional(),
};

interface SourceShape {
  column?: string | string[];
  value?: ParamValue;
}

/** A bare string is shorthand for `{ "column": "<string>" }`. */
function shorthand<S extends z.ZodType<SourceShape>>(object: S) {
  return z.union([
    z
      .string()
      .min(1)
      .transform((column) => ({ column }) as z.output<S>),
    object.refine((s) => (s.column === undefined) !== (s.value === undefined), {
      message: 'give exactly one of "column" and "value"',
    }),
  ]);
}

export const ValueSource = shorthand(z.strictObject(sourceFields));
export type ValueSource = z.output<typeof ValueSource>;

export const NumberSource = shorthand(
  z.strictObject({
    ...sourceFields,
    /** value = cell * scale + offset (e.g. a 0-based last epoch index needs offset 1). */
    scale: z.number().optional(),
    offset: z.number().optional(),
  }),
);
export type NumberSource = z.output<typeof NumberSource>;

export const MetricSource = shorthand(
  z.strictObject({
    ...sourceFields,
    /** Stored metrics are fractions in [0, 1]; `percent` divides by 100. */
    unit: z.enum(['fraction', 'percent']).optional(),
    scale: z.number().optional(),
  }),
);
export type MetricSource = z.output<typeof MetricSource>;

export const TIME_UNITS = { ms: 0.001, s: 1, min: 60, h: 3600 } as const;
export const TimeSource = shorthand(
  z.strictObject({ ...sourceFields, unit: z.enum(['ms', 's', 'min', 'h']).optional() }),
);
export type TimeSource = z.output<typeof TimeSource>;

const SCALAR_OPS = ['==', '!=', '<', '<=', '>', '>='] as const;
const LIST_OPS = ['in', 'notIn'] as const;
const EMPTY_OPS = ['empty', 'notEmpty'] as const;

export const RowCondition = z
  .strictObject({
    column: z.string().min(1),
    op: z.enum([...SCALAR_OPS, ...LIST_OPS, ...EMPTY_OPS]),
    value: z.union([ParamValue, z.array(ParamValue)]).optional(),
  })
  .superRefine((c, ctx) => {
    // A condition whose value does not fit its operator would hold for no row (or every row).
    const list = Array.isArray(c.value);
    const problem = (LIST_OPS as readonly string[]).includes(c.op)
      ? !list || (c.value as unknown[]).length === 0
        ? `"${c.op}" needs "value": a non-empty list`
        : undefined
      : (EMPTY_OPS as readonly string[]).includes(c.op)
        ? c.value !== undefined
          ? `"${c.op}" takes no "value"`
          : undefined
        : c.value === undefined || list
          ? `"${c.op}" needs "value": one number, text or boolean`
          : undefined;
    if (problem) ctx.addIssue({ code: 'custom', path: ['value'], message: problem });
  });
export type RowCondition = z.infer<typeof RowCondition>;

const StatusTarget = z.union([RunStatus, z.literal('skip')]);

export const StatusSpec = z.union([
  RunStatus,
  z.strictObject({
    column: ColumnRef,
    /** Cell value -> status; `skip` leaves the row out (e.g. runs still running). */
    map: z.record(z.string(), StatusTarget),
    /** Status for values missing from `map`; without it such a row is invalid. */
    default: StatusTarget.optional(),
    /** A run mapped to `finished` stays finished only if all of these hold... */
    finishedOnlyIf: z.array(RowCondition).optional(),
    /** ...otherwise it gets this status. */
    otherwise: RunStatus.default('stopped'),
  }),
]);
export type StatusSpec = z.output<typeof StatusSpec>;

export const HyperparameterSpec = z.strictObject({
  name: z.string().min(1),
  column: ColumnRef.optional(),
  json: z.string().optional(),
  pattern: z.string().optional(),
  type: z.enum(['float', 'int', 'categorical', 'bool']),
  log: z.boolean().optional(),
  condition: Condition.optional(),
  /** Allowed values (categorical); a value outside them makes the row invalid. */
  choices: z.array(ParamValue).min(1).optional(),
  /** Value for an empty cell (e.g. `"none"` where the empty cell means "not used"). */
  missing: ParamValue.optional(),
  description: z.string().optional(),
});
export type HyperparameterSpec = z.infer<typeof HyperparameterSpec>;

/** A `reconcile` rule in its object form: the type to store, and for numbers the scale. */
const ReconcileRule = z.strictObject({ type: z.enum(PARAM_TYPES), log: z.boolean().optional() });

/** A `reconcile` entry as `{ type, log? }`, whichever form the mapping wrote it in. */
export function reconcileRule(
  entry: z.output<typeof ReconcileRule> | (typeof PARAM_TYPES)[number],
): z.output<typeof ReconcileRule> {
  return typeof entry === 'string' ? { type: entry } : entry;
}

export const Mapping = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  /** Credit for the source data, shown with the records. */
  credit: z.string().optional(),
  format: SourceFormat.optional(),
  /** Optuna study name (when the storage holds several). */
  study: z.string().optional(),
  dataset: ValueSource,
  model: ValueSource,
  metrics: z
    .record(z.string(), MetricSource)
    .refine((m) => Object.keys(m).length > 0, { message: 'name at least one metric' }),
  cost: z
    .strictObject({
      trainingTimeSec: TimeSource.optional(),
      epochs: NumberSource.optional(),
      hardware: ValueSource.optional(),
    })
    .optional(),
  seed: NumberSource.optional(),
  status: StatusSpec.optional(),
  runId: ValueSource.optional(),
  /** For aggregated sources: how many runs a row stands for, and the std of each metric. */
  count: NumberSource.optional(),
  std: z.record(z.string(), MetricSource).optional(),
  hyperparameters: z.array(HyperparameterSpec).optional(),
  /**
   * Parameter name -> the type to store it as, when a source has it with another type than the
   * knowledge base (an Optuna categorical of integers that W&B logged as int): the source's
   * values are read as that type, and a value that does not convert makes its row invalid. The
   * object form also gives the scale (`{ "type": "int", "log": true }`), since a categorical of
   * batch sizes has none and the stored int may be log-scaled.
   */
  reconcile: z.record(z.string(), z.union([z.enum(PARAM_TYPES), ReconcileRule])).optional(),
  filters: z.array(RowCondition).optional(),
  /** JSON array of DatasetProfile, path relative to the mapping file; joined by dataset name. */
  profiles: z.string().optional(),
  /** JSON array of ModelCard, path relative to the mapping file; joined by model id. */
  models: z.string().optional(),
});
export type Mapping = z.output<typeof Mapping>;

export interface LoadedMapping {
  file: string;
  mapping: Mapping;
  profiles: DatasetProfile[];
  models: ModelCard[];
}

function readJson(file: string, what: string): unknown {
  return parseJsonText(readTextFile(file, what), { file, what });
}

/** Longest pattern accepted; RE2 bounds the time of a match, this bounds its compiled size. */
const MAX_PATTERN_LENGTH = 1000;

/** Compiles a mapping pattern with RE2 (linear-time matching, whatever the pattern). */
export function compilePattern(pattern: string): RE2JS {
  if (pattern.length > MAX_PATTERN_LENGTH)
    throw new Error(`longer than ${MAX_PATTERN_LENGTH} characters`);
  return RE2JS.compile(pattern);
}

function checkPatterns(mapping: Mapping, file: string): void {
  const visit = (value: unknown, field: string): void => {
    if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (k === 'pattern' && typeof v === 'string') {
          try {
            compilePattern(v);
          } catch (err) {
            throw new MetallmixError(
              `invalid regular expression (RE2 syntax: no backreferences or lookaround): ${(err as Error).message}`,
              { location: { file, field: `${field}${field ? '.' : ''}pattern` } },
            );
          }
        } else visit(v, `${field}${field ? '.' : ''}${k}`);
      }
    }
  };
  visit(mapping, '');
}

/** Metric (and std) names become object keys: none may reach Object.prototype. */
function checkNames(mapping: Mapping, file: string): void {
  for (const [group, record] of [
    ['metrics', mapping.metrics],
    ['std', mapping.std ?? {}],
    ['reconcile', mapping.reconcile ?? {}],
  ] as const)
    for (const name of Object.keys(record))
      if (isReservedName(name))
        throw new MetallmixError(`"${name}" cannot be a ${group} name`, {
          location: { file, field: `${group}.${name}` },
        });
}

/**
 * A file the mapping names, resolved inside the mapping's folder: a mapping is data and may come
 * from someone else, so it must not read (and quote in errors) whatever file it likes.
 */
function besideMapping(mappingFile: string, relative: string, field: string): string {
  const dir = path.dirname(path.resolve(mappingFile));
  const target = path.resolve(dir, relative);
  const inside = (p: string, root: string) => p === root || p.startsWith(root + path.sep);
  let real: string | undefined;
  try {
    real = realpathSync(target);
  } catch {
    // A missing file is reported when it is read.
  }
  if (
    path.isAbsolute(relative) ||
    !inside(target, dir) ||
    (real && !inside(real, realpathSync(dir)))
  )
    throw new MetallmixError(
      `"${relative}" must be a path inside the mapping's folder (${dir}); copy the file there`,
      { location: { file: mappingFile, field } },
    );
  return target;
}

/** Reads and validates a mapping file and the profiles and model catalog it points to. */
export function loadMapping(file: string): LoadedMapping {
  const mapping = parseWith(Mapping, readJson(file, 'mapping file'), {
    file,
    what: 'mapping file',
  });
  checkDeclarations(mapping.hyperparameters ?? [], {
    file,
    field: (i, key) => `hyperparameters.${i}.${key}`,
  });
  checkPatterns(mapping, file);
  checkNames(mapping, file);
  const profiles = mapping.profiles
    ? loadProfiles(besideMapping(file, mapping.profiles, 'profiles'))
    : ([] as DatasetProfile[]);
  const models = mapping.models
    ? loadModelCards(besideMapping(file, mapping.models, 'models'))
    : [];
  return { file, mapping, profiles, models };
}

/** A dataset-profiles file: a JSON array of DatasetProfile; class statistics filled from counts. */
export function loadProfiles(file: string): DatasetProfile[] {
  return loadUniqueList(file, DatasetProfile, 'dataset-profiles file', 'name').map((p, i) => {
    checkProfileConsistency(p, { file, field: String(i) });
    return completeProfile(p);
  });
}

/** A model-catalog file: a JSON array of ModelCard. */
export function loadModelCards(file: string): ModelCard[] {
  return loadUniqueList(file, ModelCard, 'model-catalog file', 'id');
}

/** A JSON array file of `schema` items, no two with the same `key`. */
function loadUniqueList<S extends z.ZodType<Record<K, string>>, K extends string>(
  file: string,
  schema: S,
  what: string,
  key: K,
): z.output<S>[] {
  const list = parseWith(z.array(schema), readJson(file, what), { file, what });
  assertUnique(
    list.map((item) => item[key]),
    file,
    key,
  );
  return list;
}

function assertUnique(keys: string[], file: string, key: string): void {
  const seen = new Set<string>();
  keys.forEach((k, i) => {
    if (seen.has(k))
      throw new MetallmixError(`duplicate ${key} "${k}"`, {
        location: { file, field: `${i}.${key}` },
      });
    seen.add(k);
  });
}
