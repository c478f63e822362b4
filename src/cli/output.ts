import { Command, Option } from 'commander';
import type { CliIo } from './io.ts';
import { maxOf } from '../core/arrays.ts';

/** Prints `value` as JSON (the library's own shape) or as text from `render`. */
export function emit<T>(
  io: CliIo,
  value: T,
  json: boolean | undefined,
  render: (v: T) => string,
): void {
  io.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${render(value)}\n`);
}

/** A line on stderr, prefixed with the program's name. */
export function say(io: CliIo, text: string): void {
  io.stderr.write(`metallmix: ${text}\n`);
}

/** The `--json` flag every command takes. */
export function jsonOption(): Option {
  return new Option('--json', 'print machine-readable JSON (the same shape the library returns)');
}

/** Appends an "Examples:" block to a command's --help. */
export function withExamples(cmd: Command, examples: string[]): Command {
  return cmd.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
}

/** Comma-separated list flag, trimmed, empty items dropped. */
export function listFlag(value: string | undefined): string[] | undefined {
  return value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Formats rows as an aligned plain-text table. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => maxOf(cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r, ri) => {
      const line = r
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd();
      return ri === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}
