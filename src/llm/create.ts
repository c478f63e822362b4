import { PROVIDERS } from './registry.ts';
import type { ProviderConfig, CreateOptions } from './provider.ts';
import type { LanguageModel } from './types.ts';

export type { CreateOptions } from './provider.ts';

/** The provider for a resolved configuration (nothing is loaded or contacted yet). */
export function createLanguageModel(
  config: ProviderConfig,
  options: CreateOptions = {},
): LanguageModel {
  const spec = PROVIDERS.find((p) => p.name === config.provider);
  if (!spec) throw new TypeError(`no provider "${config.provider}" in the registry`);
  return spec.create(config, options);
}
