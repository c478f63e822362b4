// Commander argument parsers that reject bad numbers with the flag's value in the message.
import { InvalidArgumentError } from 'commander';
import { MetallmixError } from '../core/errors.ts';

export function integer(value: string): number {
  if (!/^-?\d+$/.test(value.trim()))
    throw new InvalidArgumentError(`"${value}" is not an integer.`);
  return Number(value);
}

export function positiveInt(value: string): number {
  const n = integer(value);
  if (n < 1) throw new InvalidArgumentError(`"${value}" must be at least 1.`);
  return n;
}

export function positiveNumber(value: string): number {
  const n = value.trim() === '' ? Number.NaN : Number(value);
  if (!(n > 0) || !Number.isFinite(n))
    throw new InvalidArgumentError(`"${value}" is not a positive number.`);
  return n;
}

/**
 * Checks that exactly one of the named flags was given, and not as an empty string, so the
 * message names the flags the user typed (the library checks again in its own terms).
 */
export function exactlyOneOf(values: Record<string, string | undefined>): void {
  const given = Object.entries(values).filter(([, v]) => v !== undefined);
  for (const [flag, v] of given)
    if (v!.trim() === '')
      throw new MetallmixError(`${flag} needs a path, not an empty string`, {
        location: { field: flag },
      });
  if (given.length !== 1)
    throw new MetallmixError(`give exactly one of ${Object.keys(values).join(', ')}`);
}
