import { z } from 'zod';
import { DatasetProfile } from './profile.ts';
import { SearchSpace } from './search-space.ts';
import { ModelCard } from './model-card.ts';
import { ExperimentRecord } from './experiment.ts';
import { LlmProposal, Recommendation } from './recommendation.ts';

const schemas = {
  DatasetProfile,
  SearchSpace,
  ModelCard,
  ExperimentRecord,
  Recommendation,
  LlmProposal,
};
export type SchemaName = keyof typeof schemas;
export const SCHEMA_NAMES = Object.keys(schemas) as SchemaName[];

/** JSON Schema (draft 2020-12) of a domain type, as published by `metallmix schema NAME`. */
export function jsonSchemaOf(name: SchemaName): Record<string, unknown> {
  return z.toJSONSchema(schemas[name], { io: 'input' }) as Record<string, unknown>;
}
