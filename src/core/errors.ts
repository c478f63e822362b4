// One error type for everything a user can fix: bad input, bad usage, missing files.
// The CLI prints `message` without a stack trace and exits with `exitCode`.

export interface ErrorLocation {
  file?: string;
  line?: number;
  column?: string;
  field?: string;
}

export const ExitCode = {
  ok: 0,
  internal: 1,
  badInput: 2,
  unsatisfiable: 3,
  unavailable: 4,
} as const;

export class MetallmixError extends Error {
  readonly exitCode: number;
  readonly location: ErrorLocation;

  constructor(
    message: string,
    options: { exitCode?: number; location?: ErrorLocation; cause?: unknown } = {},
  ) {
    super(withLocation(message, options.location), { cause: options.cause });
    this.name = 'MetallmixError';
    this.exitCode = options.exitCode ?? ExitCode.badInput;
    this.location = options.location ?? {};
  }
}

/** Prefixes a message with `file:line column "x" field "y":` for whatever parts are known. */
export function withLocation(message: string, loc: ErrorLocation | undefined): string {
  if (!loc) return message;
  const parts: string[] = [];
  if (loc.file) parts.push(loc.line !== undefined ? `${loc.file}:${loc.line}` : loc.file);
  else if (loc.line !== undefined) parts.push(`line ${loc.line}`);
  if (loc.column) parts.push(`column "${loc.column}"`);
  if (loc.field) parts.push(`field "${loc.field}"`);
  return parts.length ? `${parts.join(' ')}: ${message}` : message;
}
