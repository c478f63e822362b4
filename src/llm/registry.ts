// Every language-model provider by name. Adding one (say an Ollama-native client) is one file in
// providers/ exporting a ProviderSpec, plus one entry here.
import { llamacppProvider } from './providers/llamacpp.ts';
import { openaiProvider } from './providers/openai.ts';
import type { ProviderSpec } from './provider.ts';

export const PROVIDERS: readonly ProviderSpec[] = [openaiProvider, llamacppProvider];
