import type { Command } from 'commander';
import { LLM_DEFAULTS } from './config.ts';

const OPTIONS: [flag: string, what: string][] = [
  [
    'provider <name>',
    'LLM provider: openai (any OpenAI-compatible server), llamacpp (in-process GGUF) or none',
  ],
  ['base-url <url>', 'OpenAI-compatible base URL, e.g. http://127.0.0.1:11434/v1 for Ollama'],
  ['model <name>', 'model name on the server'],
  ['api-key <key>', 'API key (prefer the environment variable: flags show in the process list)'],
  ['gguf <path>', 'GGUF model file for the in-process llamacpp provider'],
  ['threads <n>', `CPU threads of the in-process provider (default ${LLM_DEFAULTS.threads})`],
  ['temperature <t>', `sampling temperature (default ${LLM_DEFAULTS.temperature})`],
  ['seed <n>', 'sampling seed'],
  ['max-tokens <n>', `most tokens per answer (default ${LLM_DEFAULTS.maxTokens})`],
  [
    'timeout-ms <ms>',
    `deadline per LLM call, retries included (default ${LLM_DEFAULTS.timeoutMs})`,
  ],
];

/**
 * Adds the --llm-* options and their --judge-* twins (the judge inherits what it does not set),
 * so that every command that talks to an LLM reads them alike; pass the parsed options as
 * `flags` to resolveLlmConfig. Each also reads METALLMIX_LLM_* / METALLMIX_JUDGE_* variables.
 */
export function commanderLlmOptions(cmd: Command): Command {
  for (const [flag, what] of OPTIONS) cmd.option(`--llm-${flag}`, what);
  for (const [flag, what] of OPTIONS)
    cmd.option(`--judge-${flag}`, `judge: ${what.replace(/ \(default [^)]*\)$/, '')}`);
  return cmd;
}
