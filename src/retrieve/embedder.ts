import type { DocumentMeta } from './profile-features.ts';
import { pushAll } from '../core/arrays.ts';

/**
 * Turns texts (and, for embedders that use them, the structured side of each text) into unit
 * vectors, so that inner product is cosine similarity. `id` names the model and its fitted state:
 * a persisted index built with another id is stale.
 */
export interface Embedder {
  readonly id: string;
  readonly dim: number;
  embed(
    texts: readonly string[],
    items?: readonly (DocumentMeta | undefined)[],
  ): Promise<Float32Array[]>;
}

/** Scales `v` in place to unit length (a zero vector stays zero). */
export function l2normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  if (sum > 0) {
    const inv = 1 / Math.sqrt(sum);
    for (let i = 0; i < v.length; i++) v[i] *= inv;
  }
  return v;
}

/** Runs `embedBatch` over `texts` in slices of `batchSize`, keeping order. */
export async function inBatches(
  texts: readonly string[],
  batchSize: number,
  embedBatch: (batch: readonly string[]) => Promise<Float32Array[]>,
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < texts.length; i += batchSize) {
    pushAll(out, await embedBatch(texts.slice(i, i + batchSize)));
  }
  return out;
}
