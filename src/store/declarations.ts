// Declarations are data: the rules every backend applies alike when a mapping or a source
// declares hyperparameters. A set of declarations must be consistent on its own (no cycle among
// conditions, no condition that can never hold, values that fit their types) before anything is
// read; and a declaration that differs from the stored one is an explicit migration (`redeclare`)
// or an error that says which rule to add, never a silent replacement for every stored record.
//
// What a backend calls, inside the transaction that writes a batch:
//   const writes = mergeDeclarations(storedInThatTransaction, batch.hyperparameters ?? [], {
//     redeclare: batch.redeclare, declaredIn: batch.declaredIn });
// then stores each of `writes` (insert a new name at the end of the declaration order, replace an
// existing name in place); the merged set it leaves behind is checked here too.
import { MetallmixError, type Condition, type ParamValue } from '../core/index.ts';
import { canonicalJson } from './fingerprint.ts';

export const PARAM_TYPES = ['float', 'int', 'categorical', 'bool'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

/** A hyperparameter as declared by a mapping or a source: type, scale, condition, no range. */
export interface DeclaredHyperparameter {
  name: string;
  type: ParamType;
  log?: boolean;
  condition?: Condition;
  choices?: ParamValue[];
  description?: string;
}

/** Names that would reach Object.prototype when used as keys of a config or a metrics object. */
const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

export function isReservedName(name: string): boolean {
  return RESERVED_NAMES.has(name);
}

/** The stored form of a spec: type, scale, condition, choices, description; no source columns. */
export function toDeclared(spec: DeclaredHyperparameter): DeclaredHyperparameter {
  const { name, type, log, condition, choices, description } = spec;
  return Object.fromEntries(
    Object.entries({ name, type, log, condition, choices, description }).filter(
      ([, v]) => v !== undefined,
    ),
  ) as unknown as DeclaredHyperparameter;
}

/** Whether a value could be the value of a parameter of this type (and choices). */
function fits(value: ParamValue, d: DeclaredHyperparameter): boolean {
  switch (d.type) {
    case 'float':
      return typeof value === 'number' && Number.isFinite(value);
    case 'int':
      return typeof value === 'number' && Number.isInteger(value);
    case 'bool':
      return typeof value === 'boolean';
    case 'categorical':
      return !d.choices || d.choices.some((c) => String(c) === String(value));
  }
}

type Located = { file?: string; field: (i: number, key: string) => string };

/**
 * Checks that a set of declarations holds together: unique names, log scale on numbers only,
 * choices on categoricals only and without repeats, a `missing` value that fits, conditions on a
 * declared parent other than itself with values the parent can take, and no cycle of conditions.
 * `known` are declarations stored earlier that conditions may also name.
 */
export function checkDeclarations(
  specs: readonly (DeclaredHyperparameter & { missing?: ParamValue })[],
  where: Located,
  known: readonly DeclaredHyperparameter[] = [],
): void {
  const fail = (i: number, key: string, reason: string): never => {
    throw new MetallmixError(reason, {
      location: { file: where.file, field: where.field(i, key) },
    });
  };
  const byName = new Map<string, DeclaredHyperparameter>(known.map((k) => [k.name, k]));
  const seen = new Set<string>();
  specs.forEach((h, i) => {
    if (isReservedName(h.name)) fail(i, 'name', `"${h.name}" cannot be a hyperparameter name`);
    if (seen.has(h.name)) fail(i, 'name', `hyperparameter "${h.name}" is declared twice`);
    seen.add(h.name);
    byName.set(h.name, h);
    if (h.log && h.type !== 'float' && h.type !== 'int')
      fail(i, 'log', `log scale applies to float and int only, not ${h.type}`);
    if (h.choices) {
      if (h.type !== 'categorical')
        fail(i, 'choices', `choices apply to categorical hyperparameters only, not ${h.type}`);
      const texts = h.choices.map((c) => `${typeof c}:${String(c)}`);
      const repeated = h.choices.find((_, k) => texts.indexOf(texts[k]) !== k);
      if (repeated !== undefined)
        fail(i, 'choices', `choice ${JSON.stringify(repeated)} is listed twice`);
    }
    if (h.missing !== undefined) {
      const m = h.missing;
      const ok =
        h.type === 'categorical'
          ? fits(m, h)
          : h.type === 'bool'
            ? typeof m === 'boolean'
            : typeof m === 'number' && fits(m, h);
      if (!ok)
        fail(
          i,
          'missing',
          `the value for an empty cell, ${JSON.stringify(m)}, is not a possible ${h.type} value${h.choices ? ` (choices ${JSON.stringify(h.choices)})` : ''}`,
        );
    }
  });
  specs.forEach((h, i) => {
    if (!h.condition) return;
    const parent = byName.get(h.condition.parent);
    if (h.condition.parent === h.name)
      fail(i, 'condition.parent', `"${h.name}" cannot be conditional on itself`);
    if (!parent)
      fail(
        i,
        'condition.parent',
        `condition names parent "${h.condition.parent}", which is not a declared hyperparameter`,
      );
    const impossible = h.condition.values.filter((v) => !fits(v, parent!));
    if (impossible.length)
      fail(
        i,
        'condition.values',
        `the condition on "${parent!.name}" can never hold for ${impossible.map((v) => JSON.stringify(v)).join(', ')}: "${parent!.name}" is ${parent!.type}${parent!.choices ? ` with choices ${JSON.stringify(parent!.choices)}` : ''}`,
      );
  });
  const cycle = conditionCycle([...byName.values()]);
  if (cycle) {
    const i = specs.findIndex((s) => cycle.includes(s.name));
    fail(
      Math.max(0, i),
      'condition.parent',
      `the conditions form a cycle (${[...cycle, cycle[0]].join(' -> ')}): no parameter of it could ever be active`,
    );
  }
}

/** The names of a cycle of conditions (child -> parent -> ...), or undefined. */
export function conditionCycle(decls: readonly DeclaredHyperparameter[]): string[] | undefined {
  const parentOf = new Map(
    decls.filter((d) => d.condition).map((d) => [d.name, d.condition!.parent]),
  );
  const done = new Set<string>();
  for (const start of parentOf.keys()) {
    const path: string[] = [];
    const onPath = new Set<string>();
    for (let n: string | undefined = start; n !== undefined && !done.has(n); n = parentOf.get(n)) {
      if (onPath.has(n)) return path.slice(path.indexOf(n));
      onPath.add(n);
      path.push(n);
    }
    for (const n of path) done.add(n);
  }
  return undefined;
}

export interface MergeOptions {
  /** Replace stored declarations whose scale, condition or choices differ (an explicit migration). */
  redeclare?: boolean;
  /** The mapping (or source) file the incoming declarations come from, named in errors. */
  declaredIn?: string;
  /** Where an incoming declaration sits in the file (default `hyperparameters.<i>`). */
  field?: (i: number, key: string) => string;
}

const byIndex = (i: number, key: string) => `hyperparameters.${i}.${key}`;

function withoutDescription(d: DeclaredHyperparameter): string {
  return canonicalJson({ ...d, description: undefined });
}

/** What differs between two declarations of one name and type, in words. */
function differences(stored: DeclaredHyperparameter, incoming: DeclaredHyperparameter): string[] {
  const out: string[] = [];
  if (Boolean(stored.log) !== Boolean(incoming.log))
    out.push(
      incoming.log ? 'log scale here, linear when stored' : 'linear here, log scale when stored',
    );
  if (canonicalJson(stored.condition ?? null) !== canonicalJson(incoming.condition ?? null))
    out.push(
      `condition ${incoming.condition ? canonicalJson(incoming.condition) : 'none'} here, ${stored.condition ? canonicalJson(stored.condition) : 'none'} when stored`,
    );
  if (canonicalJson(stored.choices ?? null) !== canonicalJson(incoming.choices ?? null))
    out.push(
      `choices ${JSON.stringify(incoming.choices ?? null)} here, ${JSON.stringify(stored.choices ?? null)} when stored`,
    );
  return out;
}

/** Whether the declarations differ in their scale alone. */
const scaleOnly = (differing: string[]) =>
  differing.every((d) => d.startsWith('log') || d.startsWith('linear'));

/**
 * The `reconcile` rule that reads a source's values as `stored` declares them: the type alone
 * when it is linear, else (or when the scale is what differs) with its scale.
 */
function reconcileHint(stored: DeclaredHyperparameter, withScale = Boolean(stored.log)): string {
  return withScale
    ? `{ "type": "${stored.type}", "log": ${Boolean(stored.log)} }`
    : JSON.stringify(stored.type);
}

/**
 * The declarations to write when `incoming` meets `stored`: new names, and stored names whose
 * declaration changes. The same name with another type is an error that names the `reconcile`
 * rule to add; a changed scale or condition, or choices that drop a stored choice, is an error
 * unless `redeclare`; choices that only add to the stored ones are merged (stored order first),
 * since every stored record stays valid. A description-only difference keeps the stored text.
 */
export function mergeDeclarations(
  stored: readonly DeclaredHyperparameter[],
  incoming: readonly DeclaredHyperparameter[],
  options: MergeOptions = {},
): DeclaredHyperparameter[] {
  const field = options.field ?? byIndex;
  const current = new Map(stored.map((d) => [d.name, d]));
  const writes = new Map<string, DeclaredHyperparameter>();
  incoming.forEach((raw, i) => {
    const next = toDeclared(raw);
    const previous = current.get(next.name);
    const location = { file: options.declaredIn, field: field(i, 'type') };
    if (!previous) {
      current.set(next.name, next);
      writes.set(next.name, next);
      return;
    }
    if (previous.type !== next.type)
      throw new MetallmixError(
        `hyperparameter "${next.name}" is ${next.type} here but already stored as ${previous.type}: add "reconcile": { "${next.name}": ${reconcileHint(previous)} } to the mapping to read this source's values as ${previous.type}, or give the parameter another name`,
        { location },
      );
    if (withoutDescription(previous) === withoutDescription(next) && !options.redeclare) return;
    if (canonicalJson(previous) === canonicalJson(next)) return;
    let merged: DeclaredHyperparameter;
    const only = differences(previous, next);
    const widened =
      only.length === 1 &&
      previous.type === 'categorical' &&
      previous.choices &&
      next.choices &&
      Boolean(previous.log) === Boolean(next.log) &&
      canonicalJson(previous.condition ?? null) === canonicalJson(next.condition ?? null) &&
      previous.choices.every((c) =>
        next.choices!.some((n) => `${typeof n}:${n}` === `${typeof c}:${c}`),
      );
    if (options.redeclare) merged = next;
    else if (widened) {
      const extra = next.choices!.filter(
        (n) => !previous.choices!.some((c) => `${typeof n}:${n}` === `${typeof c}:${c}`),
      );
      merged = { ...previous, choices: [...previous.choices!, ...extra] };
    } else if (only.length === 0) return;
    else
      throw new MetallmixError(
        `hyperparameter "${next.name}" is declared differently from the stored declaration (${only.join('; ')}); the stored one applies to every stored record: pass --redeclare to replace it (an explicit migration that changes the knowledge base's version), or declare it as stored${scaleOnly(only) ? ` (for a parameter the source declares, with the rule "reconcile": { "${next.name}": ${reconcileHint(previous, true)} })` : ''}`,
        {
          location: {
            file: options.declaredIn,
            field: field(
              i,
              only[0].startsWith('log') || only[0].startsWith('linear')
                ? 'log'
                : only[0].startsWith('condition')
                  ? 'condition'
                  : 'choices',
            ),
          },
        },
      );
    current.set(next.name, merged);
    writes.set(next.name, merged);
  });
  if (writes.size) {
    const cycle = conditionCycle([...current.values()]);
    if (cycle)
      throw new MetallmixError(
        `with the stored declarations the conditions would form a cycle (${[...cycle, cycle[0]].join(' -> ')})`,
        { location: { file: options.declaredIn, field: 'hyperparameters' } },
      );
  }
  return [...writes.values()];
}
