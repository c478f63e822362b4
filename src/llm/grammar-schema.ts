import { MetallmixError } from '../core/errors.ts';

// node-llama-cpp turns a subset of JSON Schema into a GBNF grammar. This maps what zod's
// toJSONSchema emits onto that subset so that every answer the grammar allows still validates
// against the original schema (the subset only ever narrows), and bounds strings, arrays and
// records so that a small model cannot loop inside one value until it runs out of tokens.

export interface GrammarLimits {
  /** Longest string when the schema sets no maxLength. */
  maxStringLength: number;
  /** Most array items when the schema sets no maxItems. */
  maxItems: number;
  /** Most keys of a record (open object) when the schema sets no maxProperties. */
  maxProperties: number;
}

export const DEFAULT_GRAMMAR_LIMITS: GrammarLimits = {
  maxStringLength: 400,
  maxItems: 8,
  maxProperties: 16,
};

export type GrammarSchema = Record<string, unknown>;

const PRIMITIVES = new Set(['string', 'number', 'integer', 'boolean', 'null']);
const STRING_FORMATS = new Set(['date-time', 'time', 'date']);
// Keywords that only narrow values further (bounds, patterns) or only annotate: the grammar
// cannot express them, so they are dropped and the caller's validation checks them afterwards.
const DROPPED = new Set([
  '$schema',
  '$id',
  '$comment',
  'title',
  'default',
  'examples',
  'readOnly',
  'writeOnly',
  'deprecated',
  'propertyNames',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'pattern',
  'format',
  'contentEncoding',
  'contentMediaType',
  'required',
  '$defs',
  'definitions',
  'uniqueItems',
]);

/** Converts a JSON Schema (draft 2020-12, as zod emits it) to node-llama-cpp's grammar subset. */
export function toGrammarSchema(
  schema: Record<string, unknown>,
  limits: GrammarLimits = DEFAULT_GRAMMAR_LIMITS,
): GrammarSchema {
  return new Converter(schema, limits).convert(schema, '(root)', []);
}

class Converter {
  constructor(
    private readonly root: Record<string, unknown>,
    private readonly limits: GrammarLimits,
  ) {}

  convert(node: unknown, path: string, refStack: string[]): GrammarSchema {
    if (node === true || (isRecord(node) && isEmptySchema(node))) return this.anyValue();
    if (!isRecord(node))
      throw unsupported(path, `expected a schema object, got ${JSON.stringify(node)}`);
    const out: GrammarSchema = {};
    if (typeof node.description === 'string') out.description = node.description;

    if (typeof node.$ref === 'string') {
      if (refStack.includes(node.$ref)) throw unsupported(path, `recursive $ref ${node.$ref}`);
      const target = this.resolve(node.$ref, path);
      return { ...this.convert(target, path, [...refStack, node.$ref]), ...out };
    }
    if ('const' in node) return { ...out, const: node.const };
    if (Array.isArray(node.enum)) return { ...out, enum: node.enum };
    const alternatives = node.anyOf ?? node.oneOf;
    if (Array.isArray(alternatives)) {
      const options = alternatives.map((a, i) => this.convert(a, `${path}|${i}`, refStack));
      return options.length === 1 ? { ...options[0], ...out } : { ...out, oneOf: options };
    }
    if (Array.isArray(node.allOf)) {
      if (node.allOf.length !== 1) throw unsupported(path, 'allOf with several schemas');
      return { ...this.convert(node.allOf[0], path, refStack), ...out };
    }
    for (const key of Object.keys(node)) {
      if (['not', 'if', 'then', 'else', 'dependentSchemas', 'patternProperties'].includes(key))
        throw unsupported(path, `keyword "${key}"`);
    }

    const type = node.type;
    if (Array.isArray(type)) {
      if (type.every((t) => PRIMITIVES.has(t)) && !type.includes('string')) return { ...out, type };
      // Strings need their length bound and objects/arrays their own shape: one branch per type.
      const options = type.map((t) => this.convert({ ...node, type: t }, path, refStack));
      return { ...out, oneOf: options };
    }
    switch (type) {
      case 'string':
        return this.string(node, out);
      case 'number':
      case 'integer':
      case 'boolean':
      case 'null':
        return { ...out, type };
      case 'object':
        return this.object(node, out, path, refStack);
      case 'array':
        return this.array(node, out, path, refStack);
      default:
        throw unsupported(path, `type ${JSON.stringify(type)}`);
    }
  }

  private string(node: Record<string, unknown>, out: GrammarSchema): GrammarSchema {
    if (typeof node.format === 'string' && STRING_FORMATS.has(node.format))
      return { ...out, type: 'string', format: node.format };
    return {
      ...out,
      type: 'string',
      ...bounds(node, 'minLength', 'maxLength', this.limits.maxStringLength),
    };
  }

  private object(
    node: Record<string, unknown>,
    out: GrammarSchema,
    path: string,
    refStack: string[],
  ): GrammarSchema {
    const properties = isRecord(node.properties) ? node.properties : {};
    const required = new Set(Array.isArray(node.required) ? (node.required as string[]) : []);
    const props: Record<string, GrammarSchema> = {};
    // The grammar writes every listed key, so optional keys are left out rather than forced.
    for (const [key, value] of Object.entries(properties)) {
      if (required.has(key)) props[key] = this.convert(value, `${path}.${key}`, refStack);
    }
    const obj: GrammarSchema = { ...out, type: 'object', properties: props };
    const extra = node.additionalProperties;
    const open = extra === undefined ? Object.keys(properties).length === 0 : extra !== false;
    if (open) {
      obj.additionalProperties =
        isRecord(extra) && !isEmptySchema(extra)
          ? this.convert(extra, `${path}.*`, refStack)
          : this.anyValue();
      const most = Object.keys(props).length + this.limits.maxProperties;
      Object.assign(obj, bounds(node, 'minProperties', 'maxProperties', most));
    } else {
      obj.additionalProperties = false;
    }
    return obj;
  }

  private array(
    node: Record<string, unknown>,
    out: GrammarSchema,
    path: string,
    refStack: string[],
  ): GrammarSchema {
    const arr: GrammarSchema = { ...out, type: 'array' };
    if (Array.isArray(node.prefixItems))
      arr.prefixItems = node.prefixItems.map((p, i) => this.convert(p, `${path}[${i}]`, refStack));
    arr.items =
      node.items === undefined || node.items === true
        ? this.anyValue()
        : this.convert(node.items, `${path}[]`, refStack);
    return { ...arr, ...bounds(node, 'minItems', 'maxItems', this.limits.maxItems) };
  }

  /** "Any value" narrowed to scalars: nesting without a shape would let a model wander off. */
  private anyValue(): GrammarSchema {
    return {
      oneOf: [
        { type: 'string', maxLength: this.limits.maxStringLength },
        { type: ['number', 'boolean', 'null'] },
      ],
    };
  }

  private resolve(ref: string, path: string): unknown {
    const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
    const defs = match ? this.root[match[1]] : undefined;
    const target = isRecord(defs) ? defs[decodeURIComponent(match![2])] : undefined;
    if (target === undefined) throw unsupported(path, `unresolvable $ref ${ref}`);
    return target;
  }
}

/**
 * The schema's own size bounds (`min`, `max`), with `fallback` as the upper bound when it sets
 * none: an unbounded string, array or record would let a small model loop inside it.
 */
function bounds(
  node: Record<string, unknown>,
  min: string,
  max: string,
  fallback: number,
): GrammarSchema {
  return {
    ...(typeof node[min] === 'number' ? { [min]: node[min] } : {}),
    [max]: typeof node[max] === 'number' ? node[max] : fallback,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEmptySchema(node: Record<string, unknown>): boolean {
  return Object.keys(node).every((k) => DROPPED.has(k) || k === 'description');
}

function unsupported(path: string, what: string): MetallmixError {
  return new MetallmixError(`JSON Schema ${what} cannot be turned into a grammar`, {
    location: { field: path },
  });
}
