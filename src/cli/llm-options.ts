import type { Command } from 'commander';
import { LLM_FIELDS, LLM_SETTINGS } from '../llm/index.ts';

const kebab = (field: string) => field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const placeholder: Record<string, string> = {
  text: 'name',
  url: 'url',
  path: 'path',
  secret: 'key',
  int: 'n',
  float: 'x',
};

/**
 * Adds the --llm-* options and their --judge-* twins (the judge inherits what it does not set),
 * one per setting of the provider registry, so that every command that talks to an LLM reads
 * them alike. Each also reads METALLMIX_LLM_* / METALLMIX_JUDGE_* variables.
 */
export function llmOptions(cmd: Command): Command {
  for (const role of ['llm', 'judge'] as const)
    for (const field of LLM_FIELDS) {
      const spec = LLM_SETTINGS[field];
      const shown =
        spec.default === undefined || role === 'judge' ? '' : ` (default ${spec.default})`;
      cmd.option(
        `--${role}-${kebab(field)} <${placeholder[spec.kind]}>`,
        `${role === 'judge' ? 'judge: ' : ''}${spec.help}${shown}`,
      );
    }
  return cmd;
}
