// Turns the --llm-*/--judge-* flags (plus environment and config file) into language models for
// the pipeline; both `recommend` and `bench` use it.
import { join } from 'node:path';
import {
  createLanguageModel,
  resolveLlmConfig,
  type LanguageModel,
  type LlmFlags,
} from '../llm/index.ts';
import { indexPathFor } from '../retrieve/index.ts';

export interface LlmModels {
  llm?: LanguageModel;
  judge?: LanguageModel;
  /** --llm-seed (or its env/config value), which wins over --seed for the LLM's sampling. */
  seed?: number;
  close(): Promise<void>;
}

export function languageModelsFrom(flags: LlmFlags & { llmConfig?: string }): LlmModels {
  const settings = resolveLlmConfig({ flags, configFile: flags.llmConfig });
  const llm = settings.llm ? createLanguageModel(settings.llm) : undefined;
  const judge = settings.judge ? createLanguageModel(settings.judge) : undefined;
  return {
    llm,
    judge,
    seed: settings.llm?.seed,
    async close() {
      await Promise.all([llm?.close?.(), judge?.close?.()]);
    },
  };
}

/** The retrieval index beside a knowledge-base file, or in the cache for the built-in one. */
export function indexPathForKb(kbPath: string, cacheDir: string): string {
  return kbPath.startsWith('builtin:')
    ? join(cacheDir, `${kbPath.replace(/[^a-z0-9]+/gi, '-')}.vectors`)
    : indexPathFor(kbPath);
}
