import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { MetallmixError } from '../../src/core/errors.ts';
import { jsonSchemaOf } from '../../src/core/json-schema.ts';
import { toGrammarSchema, type GrammarLimits } from '../../src/llm/grammar-schema.ts';

const limits: GrammarLimits = { maxStringLength: 50, maxItems: 3, maxProperties: 4 };

describe('JSON Schema to node-llama-cpp grammar subset', () => {
  test('LlmProposal: record of scalars, bounded strings and arrays, enum, closed object', () => {
    const grammar = toGrammarSchema(jsonSchemaOf('LlmProposal'), limits);
    const boundedString = { type: 'string', maxLength: 50 };
    assert.deepEqual(grammar, {
      type: 'object',
      properties: {
        model: boundedString,
        hyperparameters: {
          type: 'object',
          properties: {},
          additionalProperties: {
            oneOf: [boundedString, { type: 'number' }, { type: 'boolean' }],
          },
          maxProperties: 4,
        },
        expectedMetric: { type: 'number' },
        expectedTrainingTimeSec: { type: 'number' },
        justification: boundedString,
        citedEvidence: { type: 'array', items: boundedString, maxItems: 3 },
        confidence: { enum: ['low', 'medium', 'high'] },
      },
      additionalProperties: false,
    });
  });

  test('optional keys are left out, bounds kept, numeric bounds dropped', () => {
    const schema = z.toJSONSchema(
      z.object({
        name: z.string().min(2).max(10),
        note: z.string().optional(),
        score: z.number().min(1).max(5),
        tags: z.array(z.string()).min(1).max(2),
        when: z.iso.datetime(),
      }),
    ) as Record<string, unknown>;
    assert.deepEqual(toGrammarSchema(schema, limits), {
      type: 'object',
      properties: {
        name: { type: 'string', minLength: 2, maxLength: 10 },
        score: { type: 'number' },
        tags: { type: 'array', items: { type: 'string', maxLength: 50 }, minItems: 1, maxItems: 2 },
        when: { type: 'string', format: 'date-time' },
      },
      additionalProperties: false,
    });
  });

  test('nullable, unions, literals, $ref, descriptions, untyped values', () => {
    const Shared = z.object({ id: z.string().max(5) }).meta({ id: 'Shared' });
    const schema = z.toJSONSchema(
      z.object({
        maybe: z.number().nullable(),
        label: z.string().nullable(),
        either: z.union([z.literal('a'), z.boolean()]),
        first: Shared,
        second: Shared.describe('again'),
        free: z.unknown(),
      }),
    ) as Record<string, unknown>;
    const grammar = toGrammarSchema(schema, limits) as { properties: Record<string, unknown> };
    const p = grammar.properties;
    assert.deepEqual(p.maybe, { type: ['number', 'null'] });
    assert.deepEqual(p.label, { oneOf: [{ type: 'string', maxLength: 50 }, { type: 'null' }] });
    assert.deepEqual(p.either, { oneOf: [{ const: 'a' }, { type: 'boolean' }] });
    const shared = {
      type: 'object',
      properties: { id: { type: 'string', maxLength: 5 } },
      additionalProperties: false,
    };
    assert.deepEqual(p.first, shared);
    assert.deepEqual(p.second, { ...shared, description: 'again' });
    assert.deepEqual(p.free, {
      oneOf: [{ type: 'string', maxLength: 50 }, { type: ['number', 'boolean', 'null'] }],
    });
  });

  test('what a grammar cannot express is a MetallmixError naming the field', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { type: 'object', properties: { x: { not: { type: 'string' } } }, required: ['x'] },
        /field "\(root\)\.x": JSON Schema keyword "not" cannot be turned into a grammar/,
      ],
      [
        {
          $defs: {
            Node: {
              type: 'object',
              properties: { next: { $ref: '#/$defs/Node' } },
              required: ['next'],
            },
          },
          $ref: '#/$defs/Node',
        },
        /field "\(root\)\.next": JSON Schema recursive \$ref #\/\$defs\/Node/,
      ],
      [{ $ref: '#/$defs/Missing' }, /unresolvable \$ref #\/\$defs\/Missing/],
      [{ type: 'tuple' }, /type "tuple"/],
    ];
    for (const [schema, message] of cases)
      assert.throws(
        () => toGrammarSchema(schema, limits),
        (e) => e instanceof MetallmixError && message.test(e.message),
      );
  });
});
