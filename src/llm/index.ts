export * from './types.ts';
export * from './config.ts';
export * from './create.ts';
export * from './provider.ts';
export { PROVIDERS } from './registry.ts';
export {
  OpenAICompatibleModel,
  type OpenAICompatibleOptions,
  type OpenAIConfig,
} from './providers/openai.ts';
export {
  LlamaCppModel,
  LLAMACPP_DEFAULT_MAX_TOKENS,
  LLAMACPP_DEFAULT_THREADS,
  type LlamaCppConfig,
  type LlamaCppOptions,
} from './providers/llamacpp.ts';
export { toGrammarSchema, DEFAULT_GRAMMAR_LIMITS, type GrammarLimits } from './grammar-schema.ts';
export { DEFAULT_RETRY, backoffDelayMs, type RetryPolicy } from './retry.ts';
export { parseJsonAnswer } from './support.ts';
