// Shared pieces of the run tests: temp dirs, a script that reports the argv and cwd it got, and
// the hostile values every shell-safety test pushes through a command.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestContext {
  after(fn: () => void | Promise<void>): void;
}

export function tempDir(t: TestContext, prefix = 'metallmix-run-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Values a config, a dataset name or a folder may hold that a shell would run or split: every
 * one must reach the training command as the very same string.
 */
export const HOSTILE = [
  '; touch PWNED_semicolon',
  '$(touch PWNED_dollar)',
  '`touch PWNED_backtick`',
  `it's "quoted" \\ back`,
  'two\nlines',
  '  spaced  out  ',
  '*',
  '&& touch PWNED_and',
  '| touch PWNED_pipe',
  '> PWNED_redirect',
  '-n',
  '',
];

/** A Python script that prints {"argv": [...], "cwd": ..., "env": $ECHO_VAR} as one JSON line. */
export function echoScript(dir: string): string {
  const file = path.join(dir, 'echo_argv.py');
  writeFileSync(
    file,
    [
      'import json, os, sys',
      'print(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd(), "env": os.environ.get("ECHO_VAR")}))',
      '',
    ].join('\n'),
  );
  return file;
}

export const PYTHON = '/usr/bin/python3';
