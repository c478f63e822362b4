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

/**
 * A process stream whose reader may go away (`metallmix kb records --json | head`): a closed
 * pipe (EPIPE) ends the output quietly instead of an unhandled 'error' with a stack trace.
 */
function pipeSafe(stream: NodeJS.WriteStream): OutputStream {
  let closed = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') closed = true;
    else throw err;
  });
  return {
    write: (text) => (closed ? false : stream.write(text)),
    get isTTY() {
      return stream.isTTY;
    },
    get columns() {
      return stream.columns;
    },
  };
}

export function processIo(): CliIo {
  return { stdout: pipeSafe(process.stdout), stderr: pipeSafe(process.stderr), env: process.env };
}
