// The library's public operations: what every face (the CLI, the HTTP server) calls. Each takes
// plain options and returns the objects `--json` prints; no face needs anything from another.
export * from './dataset.ts';
export * from './knowledge-base.ts';
export * from './import.ts';
export * from './language-models.ts';
export * from './recommend.ts';
export * from './bench.ts';
export * from './export.ts';
export * from './gbdt.ts';
export * from './models.ts';
export * from './run.ts';
export * from './record.ts';
