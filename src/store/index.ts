export * from './knowledge-base.ts';
export * from './import.ts';
export * from './mapping.ts';
export { detectFormat, type RowProblem } from './sources.ts';
export { decodeDistribution, decodeParamValue } from './optuna.ts';
export { recordId } from './fingerprint.ts';
export { MIGRATIONS, SCHEMA_VERSION } from './migrations.ts';
