import type { Env } from '../core/index.ts';

/** A stream the CLI writes to; a TTY gets a redrawn progress bar and width-aware output. */
export interface OutputStream {
  write(text: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

/** Where the CLI reads its environment and writes its output: the process's, or a test's. */
export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  env: Env;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}
