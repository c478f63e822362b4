// Language models and retrieval embedders from a face's settings (flags, environment, config
// file), so that every face builds them the same way.
import { MetallmixError, type Env } from '../core/index.ts';
import {
  createLanguageModel,
  resolveLlmConfig,
  type LanguageModel,
  type LlmFlags,
} from '../llm/index.ts';
import { HttpEmbedder, NeuralEmbedder, type Embedder } from '../retrieve/index.ts';

export interface LlmSetup {
  /** Settings by flag name (`llmBaseUrl`, `judgeModel`, ...), strongest source. */
  flags?: LlmFlags;
  /** Config file (YAML or JSON); default $METALLMIX_CONFIG or ~/.config/metallmix/config.yaml. */
  configFile?: string;
}

export interface LanguageModels {
  llm?: LanguageModel;
  judge?: LanguageModel;
  /** The LLM's configured sampling seed, which wins over the request's seed for its sampling. */
  seed?: number;
  close(): Promise<void>;
}

/** The configured recommender and judge models (nothing is contacted yet). */
export function languageModels(setup: LlmSetup = {}, env: Env = process.env): LanguageModels {
  const settings = resolveLlmConfig({ flags: setup.flags, env, configFile: setup.configFile });
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

export const EMBEDDERS = ['default', 'neural', 'http'] as const;
export type EmbedderKind = (typeof EMBEDDERS)[number];

export interface EmbedderSetup {
  kind?: EmbedderKind;
  /** --embedder neural: model directory (default: the bundled Universal Sentence Encoder lite). */
  modelDir?: string;
  /** --embedder http: an OpenAI-compatible /embeddings endpoint. */
  baseUrl?: string;
  model?: string;
}

/** The retrieval embedder; undefined means the dependency-free default. */
export async function embedderFor(
  setup: EmbedderSetup = {},
  env: Env = process.env,
): Promise<Embedder | undefined> {
  switch (setup.kind ?? 'default') {
    case 'default':
      return undefined;
    case 'neural':
      return NeuralEmbedder.load({ modelDir: setup.modelDir });
    case 'http':
      if (!setup.baseUrl || !setup.model)
        throw new MetallmixError('--embedder http needs --embedder-base-url and --embedder-model', {
          location: { field: 'embedder' },
        });
      return HttpEmbedder.connect({
        baseUrl: setup.baseUrl,
        model: setup.model,
        apiKey: env.METALLMIX_EMBEDDER_API_KEY,
      });
    default:
      throw new MetallmixError(
        `unknown embedder "${String(setup.kind)}"; choose ${EMBEDDERS.join(', ')}`,
        { location: { field: 'embedder' } },
      );
  }
}
