// metallmix as a library: the operations the faces call (src/api) and the domain types and
// schemas they exchange (src/core).
export * from './api/index.ts';
export * from './core/index.ts';
export { jsonSchemaOf, SCHEMA_NAMES, type SchemaName } from './core/json-schema.ts';
export { STRATEGIES, STRATEGY_NAMES, AUTO, type StrategyName } from './recommend/registry.ts';
export type { BenchReport, MethodSummary, DatasetResult } from './bench/lodo.ts';
export type { ImportReport, KbStats, StoredRecord, RecordFilter } from './store/index.ts';
export type { ProfileResult } from './profile/index.ts';
export type { ShapTable } from './explain/index.ts';
