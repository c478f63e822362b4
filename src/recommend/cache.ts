// What a second `recommend` on the same knowledge base reuses from disk, keyed by the
// knowledge base's content version (O(1) to read, see store/derived.ts):
// - trained meta-learners, per version and settings, their trees packed in typed arrays;
// - the compact view of the knowledge base (profiles, cards, search space, summary, and the
//   records in a dictionary-coded form read only when a caller needs them), per version and
//   shipped model catalog, so no call parses the records' JSON from the knowledge base again.
// A corrupt or foreign cache file is ignored and replaced, never fatal.
import { createHash } from 'node:crypto';
import {
  closeSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { ensureDirectory } from '../core/files.ts';
import { join } from 'node:path';
import {
  MetallmixError,
  pushAll,
  type DatasetProfile,
  type ExperimentRecord,
  type ModelCard,
  type RunStatus,
} from '../core/index.ts';
import type { Tree, TreeEnsemble } from '../learn/tree-model.ts';
import type { KnowledgeBase, SnapshotOptions, StoredRecord } from '../store/index.ts';
import { CATALOG_PATH } from '../store/model-catalog.ts';
import { lazyView, viewOf, type Codec, type Derive, type KbView } from './kb-view.ts';
import type { MetaLearner, MetaLearnerSettings } from './metalearner.ts';

const FORMAT = 'metallmix-metalearner/5';
const MAGIC = Buffer.from('MLMXML05');

function cachePath(dir: string, kbVersion: string, settings: MetaLearnerSettings): string {
  const key = createHash('sha256')
    .update(`${kbVersion}\n${JSON.stringify(settings)}`)
    .digest('hex')
    .slice(0, 24);
  return join(dir, 'metalearners', `${key}.bin`);
}

/**
 * A meta-learner file: MAGIC, the byte length of a JSON header, the header, then every tree's
 * node arrays packed by element type (int32: left, right, feature; float32: threshold, value,
 * cover, gain; uint8: defaultLeft), each section 8-byte aligned. Loading takes views of the
 * file's bytes: no parse per node (XGBoost's JSON of 15 ensembles took longer to validate than
 * a whole cached recommendation may).
 */
interface Header {
  format: string;
  kbVersion: string;
  /** Every field of the meta-learner that is not a list of ensembles. */
  fields: Record<string, unknown>;
  /** Lists of ensembles by field name: each ensemble's scalars and per-tree node counts. */
  ensembles: Record<string, PackedEnsemble[]>;
  sections: { int32: number; float32: number; uint8: number };
}

interface PackedEnsemble {
  objective: TreeEnsemble['objective'];
  baseScore: number;
  featureNames: string[];
  featureTypes: TreeEnsemble['featureTypes'];
  nodes: number[];
  /** Per tree: [node, codes going right] of its categorical splits. */
  categories: [number, number[]][][];
}

/** A non-empty list of ensembles (an empty one is stored with the other fields). */
const isEnsembles = (v: unknown): v is TreeEnsemble[] =>
  Array.isArray(v) && v.length > 0 && v.every((e) => Array.isArray((e as TreeEnsemble)?.trees));

const align8 = (n: number) => Math.ceil(n / 8) * 8;

function pack(kbVersion: string, learner: MetaLearner): Buffer {
  const fields: Record<string, unknown> = {};
  const ensembles: Record<string, PackedEnsemble[]> = {};
  const trees: Tree[] = [];
  // Object.entries reads every property, so the lazily computed insights are stored too.
  for (const [name, value] of Object.entries(learner)) {
    if (!isEnsembles(value)) {
      fields[name] = value;
      continue;
    }
    ensembles[name] = value.map((e) => {
      pushAll(trees, e.trees);
      return {
        objective: e.objective,
        baseScore: e.baseScore,
        featureNames: e.featureNames,
        featureTypes: e.featureTypes,
        nodes: e.trees.map((t) => t.left.length),
        categories: e.trees.map((t) => [...t.categories].map(([n, c]) => [n, [...c]])),
      };
    });
  }
  const n = trees.reduce((s, t) => s + t.left.length, 0);
  const int32 = new Int32Array(3 * n);
  const float32 = new Float32Array(4 * n);
  const uint8 = new Uint8Array(n);
  let at = 0;
  for (const t of trees) {
    const k = t.left.length;
    int32.set(t.left, 3 * at);
    int32.set(t.right, 3 * at + k);
    int32.set(t.feature, 3 * at + 2 * k);
    float32.set(t.threshold, 4 * at);
    float32.set(t.value, 4 * at + k);
    float32.set(t.cover, 4 * at + 2 * k);
    float32.set(t.gain, 4 * at + 3 * k);
    uint8.set(t.defaultLeft, at);
    at += k;
  }
  const header: Header = {
    format: FORMAT,
    kbVersion,
    fields,
    ensembles,
    sections: { int32: int32.length, float32: float32.length, uint8: uint8.length },
  };
  const json = Buffer.from(JSON.stringify(header));
  const headerEnd = align8(MAGIC.length + 4 + json.length);
  const out = Buffer.alloc(
    headerEnd + align8(int32.byteLength) + float32.byteLength + uint8.length,
  );
  MAGIC.copy(out, 0);
  out.writeUInt32LE(json.length, MAGIC.length);
  json.copy(out, MAGIC.length + 4);
  Buffer.from(int32.buffer).copy(out, headerEnd);
  Buffer.from(float32.buffer).copy(out, headerEnd + align8(int32.byteLength));
  Buffer.from(uint8.buffer).copy(out, headerEnd + align8(int32.byteLength) + float32.byteLength);
  return out;
}

function unpack(
  bytes: Buffer,
  kbVersion: string,
  settings: MetaLearnerSettings,
): MetaLearner | undefined {
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const jsonLength = bytes.readUInt32LE(MAGIC.length);
  const header = JSON.parse(
    bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + jsonLength).toString('utf8'),
  ) as Header;
  if (
    header.format !== FORMAT ||
    header.kbVersion !== kbVersion ||
    JSON.stringify(header.fields.settings) !== JSON.stringify(settings)
  )
    return undefined;
  // Typed-array views need aligned offsets; a file read into a pooled buffer may not be.
  const buf = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes);
  const headerEnd = align8(MAGIC.length + 4 + jsonLength);
  const { sections } = header;
  const int32 = new Int32Array(buf.buffer, buf.byteOffset + headerEnd, sections.int32);
  const floatAt = headerEnd + align8(int32.byteLength);
  const float32 = new Float32Array(buf.buffer, buf.byteOffset + floatAt, sections.float32);
  const uint8 = new Uint8Array(
    buf.buffer,
    buf.byteOffset + floatAt + float32.byteLength,
    sections.uint8,
  );
  let at = 0;
  const learner: Record<string, unknown> = { ...header.fields };
  for (const [name, list] of Object.entries(header.ensembles))
    learner[name] = list.map((e): TreeEnsemble => ({
      objective: e.objective,
      baseScore: e.baseScore,
      featureNames: e.featureNames,
      featureTypes: e.featureTypes,
      trees: e.nodes.map((k, i): Tree => {
        const i3 = 3 * at;
        const f4 = 4 * at;
        const tree: Tree = {
          left: int32.subarray(i3, i3 + k),
          right: int32.subarray(i3 + k, i3 + 2 * k),
          feature: int32.subarray(i3 + 2 * k, i3 + 3 * k),
          threshold: float32.subarray(f4, f4 + k),
          value: float32.subarray(f4 + k, f4 + 2 * k),
          cover: float32.subarray(f4 + 2 * k, f4 + 3 * k),
          gain: float32.subarray(f4 + 3 * k, f4 + 4 * k),
          defaultLeft: uint8.subarray(at, at + k),
          categories: new Map(e.categories[i].map(([node, codes]) => [node, new Set(codes)])),
        };
        at += k;
        return tree;
      }),
    }));
  if (at !== sections.uint8) return undefined;
  return learner as unknown as MetaLearner;
}

function read(
  path: string,
  kbVersion: string,
  settings: MetaLearnerSettings,
): MetaLearner | undefined {
  try {
    return unpack(readFileSync(path), kbVersion, settings);
  } catch {
    return undefined;
  }
}

function write(path: string, kbVersion: string, learner: MetaLearner): void {
  ensureDirectory(join(path, '..'), 'the cache folder');
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, pack(kbVersion, learner));
  renameSync(tmp, path);
}

export interface CacheOutcome {
  learner: MetaLearner;
  cached: boolean;
}

/** The cached meta-learner for this knowledge-base version and settings, or a freshly fitted (and stored) one. */
export function loadOrFit(
  kbVersion: string,
  settings: MetaLearnerSettings,
  fit: () => MetaLearner,
  dir: string | undefined,
): CacheOutcome {
  if (!dir) return { learner: fit(), cached: false };
  const path = cachePath(dir, kbVersion, settings);
  const hit = read(path, kbVersion, settings);
  if (hit) return { learner: hit, cached: true };
  const learner = fit();
  try {
    write(path, kbVersion, learner);
  } catch {
    // A read-only or full cache directory only costs a retrain next time.
  }
  return { learner, cached: false };
}

/**
 * Small plain-data results derived from a knowledge-base version (the self-validation of
 * quality/model.ts), cached as JSON beside the meta-learners under the same kind of key: the
 * version and what the result was computed with. Like a meta-learner, a corrupt or unreadable
 * file is recomputed, and an unwritable directory only costs the recomputation next time.
 */
export function loadOrComputeJson<T>(
  kind: string,
  kbVersion: string,
  key: unknown,
  compute: () => T,
  dir: string | undefined,
): { value: T; cached: boolean } {
  if (!dir) return { value: compute(), cached: false };
  return keptOrComputed(
    keptPath(dir, kind, kbVersion, key, 'json'),
    (bytes) => {
      const file = JSON.parse(bytes.toString('utf8')) as { kbVersion?: string; value?: T };
      return file.kbVersion === kbVersion ? file.value : undefined;
    },
    (value) => JSON.stringify({ kbVersion, value }),
    compute,
  );
}

/** Where a value derived from a version and a key is kept: a name hashing all three. */
function keptPath(dir: string, kind: string, version: string, key: unknown, ext: string): string {
  const hash = createHash('sha256')
    .update(`${kind}\n${version}\n${JSON.stringify(key)}`)
    .digest('hex')
    .slice(0, 24);
  return join(dir, kind, `${hash}.${ext}`);
}

/**
 * The value kept in `path` when `read` recognizes it (undefined: not ours or stale), else
 * `compute()`, then written atomically. A missing or corrupt file is recomputed; a read-only or
 * full cache directory only costs a recomputation next time.
 */
function keptOrComputed<T>(
  path: string,
  read: (bytes: Buffer) => T | undefined,
  write: (value: T) => string | Buffer,
  compute: () => T,
): { value: T; cached: boolean } {
  try {
    const kept = read(readFileSync(path));
    if (kept !== undefined) return { value: kept, cached: true };
  } catch {
    // Missing or damaged: computed again below.
  }
  const value = compute();
  try {
    ensureDirectory(join(path, '..'), 'the cache folder');
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, write(value));
    renameSync(tmp, path);
  } catch {
    // Only the next call pays: it computes again.
  }
  return { value, cached: false };
}

const VIEW_FORMAT = 'metallmix-view/1';
/** Views of this many knowledge-base versions are kept; the least recently used go first. */
const VIEWS_KEPT = 4;

interface ViewHeadFile {
  format: string;
  /** The knowledge base's content version and the shipped catalog's hash the view was made from. */
  kbVersion: string;
  catalog: string;
  /** The view's own version (the knowledge base's, plus the catalog cards it borrowed). */
  version: string;
  profiles: [string, DatasetProfile][];
  cards: [string, ModelCard][];
  catalogCards: string[];
  space: KbView['space'];
  summary: KbView['summary'];
  /** Size of records.json, checked before the view is used. */
  recordsBytes: number;
  /** The knowledge base's record count when the view holds a sample of them. */
  totalRecords?: number;
}

/** [id, dataset, model, status, source, the rest of the record], strings as indexes into words. */
type Row = [string, number, number, number, number, Partial<ExperimentRecord>];

/** Rows per line of records.json: no line comes near V8's limit on the length of a string. */
const ROWS_PER_LINE = 10_000;

/**
 * Records with their repeated strings (dataset, model, status, source) as indexes into a word
 * list: a third smaller than the records' JSON. records.json holds one JSON array per line, the
 * words first, then the rows in lines of ROWS_PER_LINE, so neither writing nor reading ever makes
 * one string of the whole file (a million records are about 250 MB).
 */
function encodeRecords(records: readonly StoredRecord[]): Buffer[] {
  const index = new Map<string, number>();
  const words: string[] = [];
  const word = (w: string) => {
    let i = index.get(w);
    if (i === undefined) {
      index.set(w, (i = words.length));
      words.push(w);
    }
    return i;
  };
  const lines: Buffer[] = [];
  for (let start = 0; start < records.length; start += ROWS_PER_LINE) {
    const rows = records.slice(start, start + ROWS_PER_LINE).map((r): Row => {
      const { id, dataset, model, status, provenance, ...rest } = r;
      const { source, ...where } = provenance;
      return [
        id,
        word(dataset),
        word(model),
        word(status),
        word(source),
        { ...rest, provenance: where as ExperimentRecord['provenance'] },
      ];
    });
    lines.push(Buffer.from(`${JSON.stringify(rows)}\n`));
  }
  return [Buffer.from(`${JSON.stringify(words)}\n`), ...lines];
}

function decodeRecords(bytes: Buffer): StoredRecord[] {
  const lines: string[] = [];
  for (let start = 0; start < bytes.length;) {
    const end = bytes.indexOf(0x0a, start);
    if (end < 0) throw new SyntaxError('the last line is cut off');
    lines.push(bytes.toString('utf8', start, end));
    start = end + 1;
  }
  const words = JSON.parse(lines[0] ?? '') as string[];
  const out: StoredRecord[] = [];
  for (const line of lines.slice(1))
    for (const [id, d, m, s, src, rest] of JSON.parse(line) as Row[])
      out.push({
        ...(rest as ExperimentRecord),
        dataset: words[d],
        model: words[m],
        status: words[s] as RunStatus,
        provenance: { ...rest.provenance, source: words[src] },
        id,
      });
  return out;
}

let catalogHash: string | undefined;

/** A hash of the shipped model catalog: a view borrows cards from it (kb-view.ts viewOf). */
function catalog(): string {
  return (catalogHash ??= createHash('sha256')
    .update(readFileSync(CATALOG_PATH))
    .digest('hex')
    .slice(0, 16));
}

/** What a view is made from: this format of the code, the content version, the catalog. */
interface ViewKey {
  kbVersion: string;
  catalog: string;
  /** The sample size asked for (a larger knowledge base gives a sampled view). */
  maxRecords: number | null;
}

function viewDir(dir: string, key: ViewKey): string {
  const name = createHash('sha256')
    .update(`${VIEW_FORMAT}\n${key.kbVersion}\n${key.catalog}\n${key.maxRecords}`)
    .digest('hex')
    .slice(0, 24);
  return join(dir, 'views', name);
}

/**
 * Values derived from a view's records (candidate plans, the families of its sources), kept
 * as JSON like the self-validation, under the content version they were derived from.
 */
function deriveIn(dir: string): Derive {
  return (kind, version, key, compute, codec) =>
    codec
      ? loadOrComputeBytes(kind, version, key, compute, codec, dir)
      : loadOrComputeJson(kind, version, key, compute, dir).value;
}

/** A derived value kept as bytes (its codec's); bytes the codec does not recognize are recomputed. */
function loadOrComputeBytes<T>(
  kind: string,
  version: string,
  key: unknown,
  compute: () => T,
  codec: Codec<T>,
  dir: string,
): T {
  return keptOrComputed(
    keptPath(dir, kind, version, key, 'bin'),
    (bytes) => codec.decode(bytes),
    (value) => codec.encode(value),
    compute,
  ).value;
}

function readView(
  dir: string,
  path: string,
  key: ViewKey,
  label: string,
): { view: KbView; totalRecords?: number } | undefined {
  try {
    const head = JSON.parse(readFileSync(join(path, 'head.json'), 'utf8')) as ViewHeadFile;
    const recordsPath = join(path, 'records.json');
    if (
      head.format !== VIEW_FORMAT ||
      head.kbVersion !== key.kbVersion ||
      head.catalog !== key.catalog ||
      statSync(recordsPath).size !== head.recordsBytes
    )
      return undefined;
    touch(path);
    const view = lazyView(
      {
        label,
        version: head.version,
        profiles: new Map(head.profiles),
        cards: new Map(head.cards),
        catalogCards: head.catalogCards,
        space: head.space,
        summary: head.summary,
        derive: deriveIn(dir),
      },
      () => {
        try {
          return decodeRecords(readFileSync(recordsPath));
        } catch (err) {
          throw new MetallmixError(
            `the cached view of the knowledge base is damaged (${(err as Error).message}); delete ${path} and run again`,
            { location: { file: recordsPath }, cause: err },
          );
        }
      },
    );
    return {
      view,
      ...(head.totalRecords !== undefined ? { totalRecords: head.totalRecords } : {}),
    };
  } catch {
    return undefined;
  }
}

/** Marks a view as just used, for eviction; a read-only cache directory keeps its old times. */
function touch(path: string): void {
  try {
    const now = new Date();
    utimesSync(path, now, now);
  } catch {
    // Only the eviction order suffers.
  }
}

function writeView(dir: string, key: ViewKey, view: KbView, totalRecords?: number): void {
  const path = viewDir(dir, key);
  const tmp = `${path}.${process.pid}.tmp`;
  ensureDirectory(tmp, 'the cache folder');
  try {
    const records = encodeRecords(view.records);
    const fd = openSync(join(tmp, 'records.json'), 'w');
    try {
      for (const line of records) writeSync(fd, line);
    } finally {
      closeSync(fd);
    }
    const head: ViewHeadFile = {
      format: VIEW_FORMAT,
      ...key,
      version: view.version,
      profiles: [...view.profiles],
      cards: [...view.cards],
      catalogCards: view.catalogCards,
      space: view.space,
      summary: view.summary,
      recordsBytes: records.reduce((n, line) => n + line.length, 0),
      ...(totalRecords !== undefined ? { totalRecords } : {}),
    };
    writeFileSync(join(tmp, 'head.json'), JSON.stringify(head));
    rmSync(path, { recursive: true, force: true });
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  evictViews(join(dir, 'views'));
}

/** Keeps the VIEWS_KEPT most recently used views (a hit touches its directory). */
function evictViews(root: string): void {
  const views = readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.endsWith('.tmp'))
    .map((e) => ({ path: join(root, e.name), used: statSync(join(root, e.name)).mtimeMs }))
    .sort((a, b) => b.used - a.used);
  for (const old of views.slice(VIEWS_KEPT)) rmSync(old.path, { recursive: true, force: true });
}

export interface ViewOutcome {
  view: KbView;
  /** Read from the cache (hit), read from the knowledge base and stored (miss), or not cached. */
  cache: 'hit' | 'miss' | 'off';
  /** Set when the knowledge base holds more records than the view: the view is a sample. */
  totalRecords?: number;
}

/**
 * The compact view of a knowledge base: from the cache when one was stored for its current
 * version (reading the version is O(1); the records stay on disk until a caller reads them),
 * else from a snapshot, then stored for the next call.
 */
export async function loadOrBuildView(
  kb: KnowledgeBase,
  dir: string | undefined,
  options: SnapshotOptions = {},
): Promise<ViewOutcome> {
  const maxRecords = options.maxRecords ?? null;
  if (dir) {
    const key = { kbVersion: await kb.version(), catalog: catalog(), maxRecords };
    const hit = readView(dir, viewDir(dir, key), key, kb.label);
    if (hit) return { ...hit, cache: 'hit' };
  }
  const snapshot = await kb.snapshot(options);
  const view = viewOf(snapshot, kb.label);
  const sampled =
    snapshot.totalRecords !== undefined && snapshot.totalRecords > snapshot.records.length
      ? { totalRecords: snapshot.totalRecords }
      : {};
  if (!dir) return { view, cache: 'off', ...sampled };
  view.derive = deriveIn(dir);
  try {
    writeView(
      dir,
      { kbVersion: snapshot.version, catalog: catalog(), maxRecords },
      view,
      sampled.totalRecords,
    );
  } catch {
    // A read-only or full cache directory only costs the full read next time.
  }
  return { view, cache: 'miss', ...sampled };
}
