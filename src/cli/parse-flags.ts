// Commander argument parsers that reject bad numbers with the flag's value in the message.
import { InvalidArgumentError } from 'commander';

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
