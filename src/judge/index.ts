export * from './context.ts';
export * from './context-text.ts';
export * from './parse-answer.ts';
export * from './rules.ts';
export * from './llm-judge.ts';
export * from './templates.ts';
