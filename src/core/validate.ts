import type { z } from 'zod';
import { MetallmixError, type ErrorLocation } from './errors.ts';

/** Formats zod issues as `field.path: reason` lines. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * Parses `value` with `schema`, or throws a MetallmixError naming the location and every
 * field that failed, so a user can fix a file without reading a stack trace.
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  location: ErrorLocation & { what?: string } = {},
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  const field = location.field ?? (first && first.path.length ? first.path.join('.') : undefined);
  const what = location.what ? `invalid ${location.what}: ` : '';
  throw new MetallmixError(`${what}${describeIssues(result.error)}`, {
    location: { ...location, field },
  });
}
