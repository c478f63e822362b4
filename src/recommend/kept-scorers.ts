// What a request's scorers keep of a knowledge base between calls, so that a cached request
// reads no record and parses nothing in proportion to the knowledge base: the additive fit (a
// backfit over every run) and each dataset's runs as the neighbour scores read them, packed in
// typed arrays. A request looks up a few hundred candidates' configuration effects and three
// datasets' runs; at a million runs the same data as JSON took half a second to parse.
//
// The bytes: MAGIC, the byte length of a JSON header, the header (datasets, dataset and model
// effects in the fit's map order, so sums come out the same; section lengths), then 8-byte
// aligned sections: float64 key hashes (ascending), configuration effects, run values; uint32
// key offsets into the key text, run ranges per dataset, each run's key and model; the keys as
// UTF-8. A key is found by its hash and confirmed against its text, so lookups are exact.
import type { AdditiveFit } from './quality/portfolio.ts';
import type { TrainedScorers } from './quality/scorers.ts';
import type { NeighborRuns } from './quality/neighbors.ts';
import type { Codec } from './kb-view.ts';

const MAGIC = Buffer.from('MLMXSC01');

interface Header {
  datasets: string[];
  dataset: [string, number][];
  model: [string, number][];
  keys: number;
  runs: number;
  keyBytes: number;
}

/** A 52-bit hash of a key (two FNV-1a passes over its UTF-16 units), exact as a float64. */
function hashKey(key: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return (a >>> 0) * 2 ** 20 + ((b >>> 0) & 0xfffff);
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** The scorers' fit and run table packed (from a freshly trained TrainedScorers). */
export function packScorers(t: TrainedScorers): Buffer {
  const keySet = new Set<string>();
  for (const r of t.table.runs) keySet.add(r.key);
  const hashed = [...keySet].map((key) => ({ key, hash: hashKey(key) }));
  hashed.sort((x, y) => x.hash - y.hash || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  const index = new Map(hashed.map((h, i) => [h.key, i]));
  const models = [...t.additive.model.keys()];
  const modelIndex = new Map(models.map((m, i) => [m, i]));
  const K = hashed.length;
  const R = t.table.runs.length;
  const D = t.table.datasets.length;
  const text = hashed.map((h) => Buffer.from(h.key, 'utf8'));
  const keyBytes = text.reduce((n, b) => n + b.length, 0);
  const f64 = new Float64Array(2 * K + R);
  const u32 = new Uint32Array(K + 1 + D + 1 + 2 * R);
  hashed.forEach((h, i) => {
    f64[i] = h.hash;
    f64[K + i] = t.additive.config.get(h.key) ?? 0;
  });
  let at = 0;
  text.forEach((b, i) => {
    u32[i] = at;
    at += b.length;
  });
  u32[K] = at;
  let run = 0;
  t.table.datasets.forEach((d, i) => {
    u32[K + 1 + i] = run;
    for (const r of t.table.byDataset.get(d)!) {
      f64[2 * K + run] = r.y;
      u32[K + 1 + D + 1 + run] = index.get(r.key)!;
      u32[K + 1 + D + 1 + R + run] = modelIndex.get(r.model)!;
      run++;
    }
  });
  u32[K + 1 + D] = run;
  const header: Header = {
    datasets: t.table.datasets,
    dataset: [...t.additive.dataset],
    model: [...t.additive.model],
    keys: K,
    runs: R,
    keyBytes,
  };
  const json = Buffer.from(JSON.stringify(header));
  const headerEnd = align8(MAGIC.length + 4 + json.length);
  const u32At = headerEnd + f64.byteLength;
  const textAt = u32At + u32.byteLength;
  const out = Buffer.alloc(textAt + keyBytes);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(json.length, MAGIC.length);
  json.copy(out, MAGIC.length + 4);
  Buffer.from(f64.buffer).copy(out, headerEnd);
  Buffer.from(u32.buffer).copy(out, u32At);
  let textPos = textAt;
  for (const b of text) textPos += b.copy(out, textPos);
  return out;
}

export interface KeptScorers {
  /** The packed form it was read from. */
  bytes: Buffer;
  datasets: string[];
  additive: AdditiveFit;
  neighborRuns: NeighborRuns;
}

/** How a view's store keeps them: the packed bytes themselves. */
export const KEPT_SCORERS_CODEC: Codec<KeptScorers> = {
  encode: (kept) => kept.bytes,
  decode: unpackScorers,
};

/** The packed scorers as the scorers' predict reads them; undefined when the bytes are not ours. */
export function unpackScorers(bytes: Buffer): KeptScorers | undefined {
  if (bytes.length < MAGIC.length + 4 || !bytes.subarray(0, MAGIC.length).equals(MAGIC))
    return undefined;
  const jsonLength = bytes.readUInt32LE(MAGIC.length);
  const header = JSON.parse(
    bytes.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + jsonLength),
  ) as Header;
  const { keys: K, runs: R } = header;
  const D = header.datasets.length;
  // Typed-array views need aligned offsets; a file read into a pooled buffer may not be.
  const buf = bytes.byteOffset % 8 === 0 ? bytes : Buffer.from(new Uint8Array(bytes));
  const headerEnd = align8(MAGIC.length + 4 + jsonLength);
  const f64 = new Float64Array(buf.buffer, buf.byteOffset + headerEnd, 2 * K + R);
  const u32At = headerEnd + f64.byteLength;
  const u32 = new Uint32Array(buf.buffer, buf.byteOffset + u32At, K + 1 + D + 1 + 2 * R);
  const textAt = u32At + u32.byteLength;
  if (textAt + header.keyBytes !== buf.length) return undefined;
  const keyText = (i: number) => buf.toString('utf8', textAt + u32[i], textAt + u32[i + 1]);
  /** The index of `key`, or -1: the first hash not below its own, then every equal one checked. */
  const find = (key: string): number => {
    const h = hashKey(key);
    let lo = 0;
    let hi = K;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (f64[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < K && f64[i] === h; i++) if (keyText(i) === key) return i;
    return -1;
  };
  const config = {
    get(key: string): number | undefined {
      const i = find(key);
      return i < 0 ? undefined : f64[K + i];
    },
  };
  const models = header.model.map(([m]) => m);
  const position = new Map(header.datasets.map((d, i) => [d, i]));
  const decoded = new Map<string, { key: string; model: string; y: number }[]>();
  const runsAt = K + 1;
  const keyAt = K + 1 + D + 1;
  return {
    bytes,
    datasets: header.datasets,
    additive: { dataset: new Map(header.dataset), model: new Map(header.model), config },
    neighborRuns: {
      runsOf(dataset) {
        let runs = decoded.get(dataset);
        if (!runs) {
          const d = position.get(dataset)!;
          runs = [];
          for (let r = u32[runsAt + d]; r < u32[runsAt + d + 1]; r++)
            runs.push({
              key: keyText(u32[keyAt + r]),
              model: models[u32[keyAt + R + r]],
              y: f64[2 * K + r],
            });
          decoded.set(dataset, runs);
        }
        return runs;
      },
    },
  };
}
