import type { Rng } from '../core/rng.ts';
import type { LlmConfig } from './config.ts';
import { LlamaCppModel } from './llamacpp-provider.ts';
import { OpenAICompatibleModel } from './openai-provider.ts';
import type { RetryPolicy } from './retry.ts';
import type { LanguageModel } from './types.ts';

export interface CreateOptions {
  /** Seeds retry jitter of HTTP providers. */
  rng?: Rng;
  retry?: RetryPolicy;
}

/** The provider for a resolved configuration (nothing is loaded or contacted yet). */
export function createLanguageModel(config: LlmConfig, options: CreateOptions = {}): LanguageModel {
  if (config.provider === 'llamacpp')
    return new LlamaCppModel({
      gguf: config.gguf,
      threads: config.threads,
      temperature: config.temperature,
      seed: config.seed,
      maxTokens: config.maxTokens,
      timeoutMs: config.timeoutMs,
    });
  return new OpenAICompatibleModel({
    baseUrl: config.baseUrl,
    model: config.model,
    apiKey: config.apiKey,
    temperature: config.temperature,
    seed: config.seed,
    maxTokens: config.maxTokens,
    timeoutMs: config.timeoutMs,
    retry: options.retry,
    rng: options.rng,
  });
}

/**
 * A cheap check that `model` can answer, so a pipeline can fall back before building prompts:
 * GET /models over HTTP, loading the GGUF in-process (kept for the generation that follows).
 * Throws an unavailable MetallmixError naming the URL or path; other providers pass.
 */
export async function checkReachable(model: LanguageModel, timeoutMs = 2000): Promise<void> {
  if (model instanceof OpenAICompatibleModel) await model.probe(timeoutMs);
  else if (model instanceof LlamaCppModel) await model.load();
}
