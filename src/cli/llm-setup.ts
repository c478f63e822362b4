// Turns the --llm-*/--judge-* flags (plus environment and config file) into language models for
// the pipeline; both `recommend` and `bench` use it.
import { join } from 'node:path';
import {
  createLanguageModel,
  resolveLlmConfig,
  type LanguageModel,
  type LlmFlags,
} from '../llm/index.ts';
import type { Command } from 'commander';
import { MetallmixError } from '../core/index.ts';
import { HttpEmbedder, NeuralEmbedder, indexPathFor, type Embedder } from '../retrieve/index.ts';

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

export interface EmbedderFlags {
  embedder: string;
  embedderModelDir?: string;
  embedderBaseUrl?: string;
  embedderModel?: string;
}

/** The retrieval embedder chosen on the command line; undefined = the dependency-free default. */
export async function embedderFrom(flags: EmbedderFlags): Promise<Embedder | undefined> {
  switch (flags.embedder) {
    case 'default':
      return undefined;
    case 'neural':
      return NeuralEmbedder.load({ modelDir: flags.embedderModelDir });
    case 'http':
      if (!flags.embedderBaseUrl || !flags.embedderModel)
        throw new MetallmixError('--embedder http needs --embedder-base-url and --embedder-model', {
          location: { field: 'embedder' },
        });
      return HttpEmbedder.connect({
        baseUrl: flags.embedderBaseUrl,
        model: flags.embedderModel,
        apiKey: process.env.METALLMIX_EMBEDDER_API_KEY,
      });
    default:
      throw new MetallmixError(
        `unknown embedder "${flags.embedder}"; choose default, neural or http`,
        { location: { field: 'embedder' } },
      );
  }
}

/** Adds --embedder and its settings to a command. */
export function embedderOptions(cmd: Command): Command {
  return cmd
    .option(
      '--embedder <kind>',
      'retrieval embedder: default (meta-features + hashed TF-IDF, no model files), neural (local model directory) or http (OpenAI-compatible /embeddings)',
      'default',
    )
    .option(
      '--embedder-model-dir <dir>',
      'model directory for --embedder neural (default: the bundled Universal Sentence Encoder lite)',
    )
    .option(
      '--embedder-base-url <url>',
      'base URL for --embedder http, e.g. http://127.0.0.1:11434/v1 (key from $METALLMIX_EMBEDDER_API_KEY)',
    )
    .option('--embedder-model <name>', 'model for --embedder http, e.g. nomic-embed-text');
}
