import type { Command } from 'commander';
import { EMBEDDERS, type EmbedderKind, type EmbedderSetup } from '../api/index.ts';

export interface EmbedderFlags {
  embedder: EmbedderKind;
  embedderModelDir?: string;
  embedderBaseUrl?: string;
  embedderModel?: string;
}

/** Adds --embedder and its settings to a command. */
export function embedderOptions(cmd: Command): Command {
  return cmd
    .option(
      '--embedder <kind>',
      `retrieval embedder: ${EMBEDDERS.join(', ')} (default: meta-features + hashed TF-IDF, no model files; neural: a local model directory; http: an OpenAI-compatible /embeddings endpoint)`,
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

export function embedderSetup(flags: EmbedderFlags): EmbedderSetup {
  return {
    kind: flags.embedder,
    modelDir: flags.embedderModelDir,
    baseUrl: flags.embedderBaseUrl,
    model: flags.embedderModel,
  };
}
