// Signed feature hashing of word unigrams and bigrams ("hashing trick", Weinberger et al. 2009):
// a fixed-size text vector with no vocabulary to store; the sign bit makes collisions cancel
// on average instead of piling up.

const STOPWORDS = new Set(
  'a an and are as at be by for from has have in into is it its of on or than that the then this to was were with'.split(
    ' ',
  ),
);

/**
 * Lower-cased words with light normalization so prose and identifiers meet: a hyphenated word
 * gives its joined form and its parts (`skin-lesions` = `skinlesion skin lesion`, `x-ray` =
 * `xray ray`), underscores split (`learning_rate` = `learning rate`), English plurals are folded
 * (`images` = `image`), stopwords dropped. Pure numbers are dropped too: figures are compared by
 * the meta-feature part, and as words they only dilute the norm of a text vector.
 */
export function tokenize(text: string): string[] {
  const words =
    text
      .toLowerCase()
      .replace(/_/g, ' ')
      .match(/[\p{L}\p{N}]+(?:[-.][\p{L}\p{N}]+)*/gu) ?? [];
  const out: string[] = [];
  const keep = (w: string) => !/^[\d.eE+-]+$/.test(w) && !STOPWORDS.has(w);
  for (const word of words) {
    if (!keep(word)) continue;
    out.push(singular(word.replace(/-/g, '')));
    if (word.includes('-'))
      for (const part of word.split('-'))
        if (part.length >= 3 && keep(part)) out.push(singular(part));
  }
  return out;
}

function singular(w: string): string {
  if (w.length <= 3 || /(ss|us|is)$/.test(w)) return w;
  if (w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (/(s|x|ch|sh)es$/.test(w)) return w.slice(0, -2);
  return w.endsWith('s') ? w.slice(0, -1) : w;
}

/** Unigrams and adjacent bigrams of `text`. */
export function terms(text: string): string[] {
  const words = tokenize(text);
  const out = words.slice();
  for (let i = 1; i < words.length; i++) out.push(`${words[i - 1]} ${words[i]}`);
  return out;
}

/** 32-bit FNV-1a followed by a murmur3 finalizer so that similar strings spread over buckets. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Sublinear term frequencies per signed bucket: bucket index and sign come from one hash. */
export function hashedTermFrequencies(text: string, dim: number): Map<number, number> {
  const counts = new Map<string, number>();
  for (const t of terms(text)) counts.set(t, (counts.get(t) ?? 0) + 1);
  const buckets = new Map<number, number>();
  for (const [term, count] of counts) {
    const h = hash32(term);
    const bucket = h % dim;
    const sign = h & 0x80000000 ? -1 : 1;
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + sign * (1 + Math.log(count)));
  }
  return buckets;
}

/**
 * Smoothed inverse document frequency per bucket, fit on the knowledge base's document texts
 * (`log((1 + n) / (1 + df)) + 1`, as scikit-learn). Buckets stand in for terms, so the state is
 * `dim` numbers whatever the vocabulary.
 */
export function fitBucketIdf(texts: readonly string[], dim: number): Float32Array {
  const df = new Float64Array(dim);
  for (const text of texts)
    for (const bucket of hashedTermFrequencies(text, dim).keys()) df[bucket]++;
  const idf = new Float32Array(dim);
  for (let b = 0; b < dim; b++) idf[b] = Math.log((1 + texts.length) / (1 + df[b])) + 1;
  return idf;
}

/** Writes the hashed TF-IDF vector of `text` into `out` at `offset` (unnormalized). */
export function writeTextPart(
  text: string,
  idf: Float32Array,
  out: Float32Array,
  offset: number,
): boolean {
  const tf = hashedTermFrequencies(text, idf.length);
  for (const [bucket, value] of tf) out[offset + bucket] = value * idf[bucket];
  return tf.size > 0;
}
