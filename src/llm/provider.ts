// The provider specification (after the Vercel AI SDK's): what a provider reads from the
// settings, how it builds its configuration, and how it creates a LanguageModel. Every
// provider is one file in providers/ exporting a ProviderSpec, listed once in registry.ts;
// config resolution, flags, environment variables and the config file all derive from it.
import { MetallmixError } from '../core/errors.ts';
import type { Rng } from '../core/rng.ts';
import type { RetryPolicy } from './retry.ts';
import type { LanguageModel } from './types.ts';

export type SettingKind = 'text' | 'url' | 'path' | 'secret' | 'int' | 'float';

export interface SettingSpec {
  kind: SettingKind;
  /** One line for --help. */
  help: string;
  /** Names where the model is: a judge that names its own endpoint does not inherit these. */
  endpoint?: boolean;
  min?: number;
  max?: number;
  /** Shown in --help; the provider applies it. */
  default?: number | string;
}

/** Settings every provider takes. */
export interface CommonConfig {
  temperature: number;
  seed?: number;
  maxTokens: number;
  timeoutMs: number;
  /** Context window in tokens; the provider's own when absent (see LanguageModel.contextTokens). */
  context?: number;
}

/** Reads the settings that apply to one role (the recommender's LLM or the judge). */
export interface SettingsReader {
  text(name: string): string | undefined;
  number(name: string): number | undefined;
  /** A text setting that must be there; the error says which flag or variable sets it and why. */
  required(name: string, why: string): string;
  /** An error that points at where `name` was set (flag, variable, file line). */
  invalid(name: string, reason: string): MetallmixError;
}

export interface CreateOptions {
  /** Seeds retry jitter of HTTP providers. */
  rng?: Rng;
  retry?: RetryPolicy;
}

export interface ProviderConfig extends CommonConfig {
  provider: string;
}

export interface ProviderSpec<C extends ProviderConfig = ProviderConfig> {
  readonly name: string;
  readonly description: string;
  /** Settings of this provider besides the common ones, by name (camelCase, as in the config file). */
  readonly settings: Readonly<Record<string, SettingSpec>>;
  /** When no provider is named, this one is chosen if this setting is given (`gguf` -> llamacpp). */
  readonly selectedBy?: string;
  /** Variables read as the weakest source of a setting (OPENAI_API_KEY for the API key). */
  readonly fallbackVariables?: Readonly<Record<string, string>>;
  configure(settings: SettingsReader, common: CommonConfig): C;
  create(config: C, options: CreateOptions): LanguageModel;
}
