// Runs the metallmix CLI in-process and captures what it writes, for CLI tests.
import { main } from '../../src/cli/main.ts';

/** Writes made by the CLI (our code or commander), as opposed to the test runner's own report. */
const fromCli = (): boolean => /[/\\](src[/\\]|commander)/.test(new Error().stack ?? '');

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** `runCli('recommend', '--json')` = `metallmix recommend --json`, in this process. */
export async function runCli(...args: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = process.stdout.write;
  const stderr = process.stderr.write;
  // The test runner reports through the same stdout, so only the CLI's writes are diverted.
  const divert = (sink: string[], original: typeof stdout) =>
    function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      if (!fromCli()) return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
      sink.push(String(chunk));
      return true;
    } as typeof stdout;
  process.stdout.write = divert(out, stdout);
  process.stderr.write = divert(err, stderr);
  try {
    const code = await main(['node', 'metallmix', ...args]);
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
}
