// Running recommended configurations: executors (local processes, Slurm), command templates,
// result parsing, the trial loop with its state file, and resume.
export * from './executor.ts';
export * from './local.ts';
export * from './slurm.ts';
export * from './template.ts';
export * from './result.ts';
export * from './state.ts';
export * from './settings.ts';
export * from './study.ts';
export * from './logged.ts';
