// Content fingerprints: a record's id is a hash of what it says, so importing the same run
// twice (from the same or another copy of a file) is recognised as a duplicate.
import { createHash } from 'node:crypto';
import type { ExperimentRecord } from '../core/index.ts';

/** JSON with object keys sorted, so equal content always gives equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The id of a record: everything except where the file lay and at which line, which change
 * when the same export is moved or re-sorted but do not change the run.
 */
export function recordId(record: ExperimentRecord): string {
  const { provenance, ...content } = record;
  return sha256(canonicalJson({ ...content, runId: provenance.runId })).slice(0, 20);
}
