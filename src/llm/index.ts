export * from './types.ts';
export * from './config.ts';
export * from './create.ts';
export { commanderLlmOptions } from './cli-options.ts';
export { OpenAICompatibleModel, type OpenAICompatibleOptions } from './openai-provider.ts';
export {
  LlamaCppModel,
  LLAMACPP_DEFAULT_MAX_TOKENS,
  LLAMACPP_DEFAULT_THREADS,
  type LlamaCppOptions,
} from './llamacpp-provider.ts';
export { toGrammarSchema, DEFAULT_GRAMMAR_LIMITS, type GrammarLimits } from './grammar-schema.ts';
export { DEFAULT_RETRY, backoffDelayMs, type RetryPolicy } from './retry.ts';
export { parseJsonAnswer } from './support.ts';
