// Runs the metallmix CLI in-process with its own output streams, for CLI tests.
import type { Env } from '../../src/core/index.ts';
import { main } from '../../src/cli/main.ts';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** `runCliWith({ env }, 'recommend', '--json')` = `metallmix recommend --json` with that environment. */
export async function runCliWith(options: { env?: Env }, ...args: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['node', 'metallmix', ...args], {
    stdout: { write: (s: string) => out.push(s) > 0 },
    stderr: { write: (s: string) => err.push(s) > 0 },
    env: options.env ?? process.env,
  });
  return { code, out: out.join(''), err: err.join('') };
}

/** `runCli('recommend', '--json')` = `metallmix recommend --json`, in this process's environment. */
export function runCli(...args: string[]): Promise<CliResult> {
  return runCliWith({}, ...args);
}
