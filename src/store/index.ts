export * from './knowledge-base.ts';
export type * from './vector-store.ts';
export * from './derived.ts';
export * from './open.ts';
export { BUILTIN_LABEL } from './builtin.ts';
export * from './import.ts';
export * from './mapping.ts';
export { detectFormat } from './sources.ts';
export { maskLocator } from './postgres/locator.ts';
export type { RowProblem } from './source-table.ts';
export { decodeDistribution, decodeParamValue } from './optuna.ts';
export { recordId } from './fingerprint.ts';
export { MIGRATIONS, SCHEMA_VERSION } from './sqlite/migrations.ts';
export {
  CATALOG_LIBRARIES,
  catalogCardFor,
  catalogCards,
  lookupModelCard,
  searchModelCards,
  type CatalogEntry,
  type CatalogLibrary,
  type CatalogMatch,
  type SearchOptions as CatalogSearchOptions,
} from './model-catalog.ts';
export { LayeredKnowledgeBase, mergeSnapshots } from './layered/knowledge-base.ts';
