import { Rng } from '../core/rng.ts';

export interface RetryPolicy {
  /** Retries after the first attempt; 0 disables retrying. */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 3, baseDelayMs: 500, maxDelayMs: 8000 };

/**
 * Wait before retry number `retry` (1-based): exponential and capped, with "equal jitter" (half
 * fixed, half drawn from the seeded Rng) so that clients started together do not retry in lockstep
 * while runs stay reproducible. A server's Retry-After wins when longer, still within the cap.
 */
export function backoffDelayMs(
  policy: RetryPolicy,
  retry: number,
  rng: Rng,
  retryAfterMs?: number,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  const jittered = ceiling / 2 + rng.next() * (ceiling / 2);
  return Math.min(policy.maxDelayMs, Math.max(jittered, retryAfterMs ?? 0));
}

/** Parses a Retry-After header (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(
  value: string | null | undefined,
  now = Date.now(),
): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
