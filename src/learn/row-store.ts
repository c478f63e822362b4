// Training rows as records in one WebAssembly memory (layout and kernels in kernels.ts): built
// by quantizing the matrix (cuts as quantize.ts defines them, computed here with a radix sort),
// with the per-row arrays the boosting loop shares with the kernels (gradients, margins, sample
// flags), a pool of histograms, and the task queue that the main thread and, with nthread > 1,
// worker threads run. Record indices address rows in their current order.

import { Worker } from 'node:worker_threads';
import { MetallmixError } from '../core/errors.ts';
import type { Matrix } from './matrix.ts';
import {
  assembleCuts,
  categoricalCuts,
  minimumCut,
  MAX_CATEGORY_CODE,
  numericalCuts,
  type Cuts,
} from './quantize.ts';
import type { FeatureType } from './tree-model.ts';
import {
  CHUNK_ROWS,
  CTRL,
  RECORD_HEADER,
  RING,
  TASK_BYTES,
  kernelModule,
  quantizeModule,
  recordBytes,
  type KernelExports,
  type Layout,
  type QuantizeExports,
} from './kernels.ts';

const PAGE = 65536;
const MAX_PAGES = 65536; // 4 GiB: the most a 32-bit WebAssembly memory can address
/** Nodes whose tasks go into one batch (bounds the ring, segment lists and result slots). */
export const NODES_PER_BATCH = 1024;

// A worker thread runs the module's task loop on the shared memory until told to stop. Plain
// JavaScript evaluated in the worker: it needs no loader for TypeScript files.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory } = workerData;
const ctrl = new Int32Array(memory.buffer, 0, 16);
try {
  new WebAssembly.Instance(module, { env: { memory } }).exports.work();
} catch (err) {
  Atomics.store(ctrl, ${CTRL.failed / 4}, 1);
  Atomics.notify(ctrl, ${CTRL.done / 4});
  throw err;
}
`;

function nextPowerOfTwo(x: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(2, x)));
}

/** Segments: pairs of record indices [begin, end), flat. */
export type Segments = Int32Array;

export class RowStore {
  readonly cuts: Cuts;
  readonly layout: Layout;
  readonly stride: number;
  readonly histBytes: number;
  readonly parallel: boolean;
  readonly numRows: number;
  private readonly memory: WebAssembly.Memory;
  private readonly k: KernelExports;
  private readonly workers: Worker[] = [];
  private top: number;
  private readonly records: number;
  readonly gradPtr: number;
  readonly hessPtr: number;
  readonly marginPtr: number;
  readonly flagsPtr: number;
  private readonly lists: number;
  private readonly listsEnd: number;
  private listTop: number;
  private readonly results: number;
  private resultTop = 0;
  readonly partials: number;
  private readonly tables: number;
  private readonly maxCodes: number;
  private readonly freeHists: number[] = [];
  /** Tasks published so far (the end word) and queued for the next run. */
  private published = 0;
  private pending = 0;

  constructor(
    X: Matrix,
    types: readonly FeatureType[],
    names: readonly string[],
    maxBin: number,
    nthread: number,
  ) {
    const n = X.numRows;
    const F = X.numFeatures;
    this.numRows = n;
    const chunks = Math.ceil(n / CHUNK_ROWS);
    // Every segment of a batch's nodes needs a list entry and a result slot.
    const segments = Math.min(n, NODES_PER_BATCH * chunks) + NODES_PER_BATCH;
    const ringTasks = nextPowerOfTwo(2 * (NODES_PER_BATCH + chunks) + 8);
    // A feature's codes are its bins plus, with missing values, one more: a byte holds them
    // unless a feature has more than 255 bins or 256 and missing values. Before the cuts exist
    // that is only known for some data; otherwise codes are written as u16 and narrowed after.
    const scan = scanColumns(X, types);
    const surelyWide = maxBin > 256 || scan.maxCategory >= 255;
    const surelyNarrow = !surelyWide && (maxBin <= 255 || !scan.numericalMissing);
    const writeBytes = surelyNarrow ? 1 : 2;
    let at = RING + ringTasks * TASK_BYTES;
    const region = (bytes: number) => {
      const start = at;
      at += Math.ceil(bytes / 16) * 16;
      return start;
    };
    this.lists = region(8 * segments);
    this.listsEnd = at;
    this.listTop = this.lists;
    this.results = region(4 * segments);
    this.gradPtr = region(4 * n);
    this.hessPtr = region(4 * n);
    this.marginPtr = region(8 * n);
    this.flagsPtr = region(n);
    const column = region(4 * n);
    const keys = region(4 * n);
    const tmp = region(4 * n);
    const counts = region(4 * 2048);
    const cutsBuf = region(4 * (Math.max(maxBin, MAX_CATEGORY_CODE) + 1));
    this.records = region(n * recordBytes(F, writeBytes));
    const pages = Math.ceil(at / PAGE) + 1;
    if (pages > MAX_PAGES) throw tooLarge(n, F);
    this.parallel = nthread > 1;
    const shared = this.parallel;
    const memoryType = { initial: pages, maximum: MAX_PAGES, shared };
    this.memory = new WebAssembly.Memory(memoryType);

    // Quantize column by column: cuts from the radix-sorted values, then every row's code.
    const q = new WebAssembly.Instance(
      new WebAssembly.Module(quantizeModule(writeBytes, memoryType)),
      { env: { memory: this.memory } },
    ).exports as unknown as QuantizeExports;
    const perFeature: Float32Array[] = [];
    const minValue = new Float32Array(F);
    const isCategorical = new Uint8Array(F);
    const { data } = X;
    const writeStride = recordBytes(F, writeBytes);
    let maxCode = 0;
    for (let f = 0; f < F; f++) {
      const col = new Float32Array(this.buffer, column, n);
      for (let r = 0; r < n; r++) col[r] = data[r * F + f];
      const m = q.sortColumn(column, n, keys, tmp, counts);
      const sorted = new Float32Array(this.buffer, keys, m);
      let cuts: Float32Array;
      if (types[f] === 'c') {
        isCategorical[f] = 1;
        cuts = categoricalCuts(sorted, names[f]);
      } else {
        cuts = numericalCuts(sorted, maxBin);
        minValue[f] = minimumCut(sorted);
      }
      perFeature.push(cuts);
      maxCode = Math.max(maxCode, cuts.length - (m < n ? 0 : 1));
      new Float32Array(this.buffer, cutsBuf, cuts.length).set(cuts);
      const out = this.records + RECORD_HEADER + f * writeBytes;
      q.binColumn(column, n, cutsBuf, cuts.length, isCategorical[f], out, writeStride);
    }
    this.cuts = assembleCuts(perFeature, minValue, isCategorical);
    const codeBytes = writeBytes === 1 || maxCode <= 255 ? 1 : 2;
    this.stride = recordBytes(F, codeBytes);
    if (codeBytes < writeBytes) {
      const bytes = new Uint8Array(this.buffer, this.records, n * writeStride);
      narrowCodes(bytes, n, F, writeStride, this.stride);
    }
    const ids = new Int32Array(this.buffer, this.records, (n * this.stride) / 4);
    for (let r = 0, words = this.stride / 4; r < n; r++) ids[r * words + 2] = r;

    this.layout = {
      numFeatures: F,
      codeBytes,
      slotOffset: this.cuts.offset.subarray(0, F),
      totalSlots: this.cuts.totalSlots,
      ringTasks,
    };
    this.histBytes = this.cuts.totalSlots * 16;
    this.maxCodes = Math.max(1, ...Array.from(this.cuts.numBins, (nb) => nb + 1));
    this.tables = region(NODES_PER_BATCH * this.maxCodes);
    this.partials = region(chunks * this.histBytes);
    this.top = at;
    this.ensure(at + 40 * this.histBytes);
    const module = new WebAssembly.Module(kernelModule(this.layout, memoryType));
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.k = instance.exports as unknown as KernelExports;
    for (let i = 1; i < nthread; i++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module, memory: this.memory },
      });
      // A failure is reported through the failed word; the event only keeps Node from exiting.
      worker.on('error', () => undefined);
      worker.unref();
      this.workers.push(worker);
    }
  }

  /** Stops the worker threads (they finish their current task first). */
  close(): void {
    if (this.workers.length === 0) return;
    const ctrl = this.ctrl();
    Atomics.store(ctrl, CTRL.stop / 4, 1);
    Atomics.notify(ctrl, CTRL.end / 4);
    this.workers.length = 0;
  }

  private get buffer(): ArrayBuffer {
    return this.memory.buffer as ArrayBuffer;
  }

  /** Grows the memory to hold `bytes`. */
  private ensure(bytes: number): void {
    const have = this.buffer.byteLength / PAGE;
    const needed = Math.ceil(bytes / PAGE) - have;
    if (needed <= 0) return;
    if (have + needed > MAX_PAGES) throw tooLarge(this.numRows, this.layout.numFeatures);
    this.memory.grow(needed);
  }

  private ctrl(): Int32Array {
    return new Int32Array(this.buffer, 0, 16);
  }

  /** Byte address of the record at index `record`. */
  addr(record: number): number {
    return this.records + record * this.stride;
  }

  grad(): Float32Array {
    return new Float32Array(this.buffer, this.gradPtr, this.numRows);
  }
  hess(): Float32Array {
    return new Float32Array(this.buffer, this.hessPtr, this.numRows);
  }
  margin(): Float64Array {
    return new Float64Array(this.buffer, this.marginPtr, this.numRows);
  }
  /** Per row id: 1 when the row is in the current tree's sample. */
  sampleFlags(): Uint8Array {
    return new Uint8Array(this.buffer, this.flagsPtr, this.numRows);
  }

  /** The records' bytes (codes at RECORD_HEADER + f * codeBytes, row id as i32 at 8). */
  bytes(): Uint8Array {
    return new Uint8Array(this.buffer, this.records, this.numRows * this.stride);
  }

  takeHist(): number {
    const free = this.freeHists.pop();
    if (free !== undefined) return free;
    const ptr = this.top;
    this.top += this.histBytes;
    this.ensure(this.top);
    return ptr;
  }

  releaseHist(ptr: number): void {
    this.freeHists.push(ptr);
  }

  /** A view of histogram `ptr`: (gradient, hessian) sums per slot. Invalid after takeHist. */
  histView(ptr: number): Float64Array {
    return new Float64Array(this.buffer, ptr, 2 * this.layout.totalSlots);
  }

  /**
   * Copies a split's table (code -> 1 when the row goes right) into table slot `slot` (one per
   * node of a batch); returns its address.
   */
  table(goesRight: Uint8Array, slot: number): number {
    const at = this.tables + slot * this.maxCodes;
    new Uint8Array(this.buffer, at, goesRight.length).set(goesRight);
    return at;
  }

  /** Writes segments [from, to) of `segs` as a task's list (byte addresses); returns its address. */
  list(segs: Segments, from: number, to: number): number {
    const at = this.listTop;
    const words = new Int32Array(this.buffer, at, 2 * (to - from));
    for (let i = from; i < to; i++) {
      words[2 * (i - from)] = this.addr(segs[2 * i]);
      words[2 * (i - from) + 1] = this.addr(segs[2 * i + 1]);
    }
    this.listTop += 8 * (to - from);
    if (this.listTop > this.listsEnd) throw new Error('segment lists overflow');
    return at;
  }

  /** Reserves `count` result slots (one per segment of a partition task); returns the first. */
  resultSlots(count: number): number {
    const first = this.resultTop;
    this.resultTop += count;
    return first;
  }

  resultAddr(slot: number): number {
    return this.results + 4 * slot;
  }

  /** Record index where the right rows of the segment with result `slot` start. */
  resultRecord(slot: number): number {
    return (new Int32Array(this.buffer, this.resultAddr(slot), 1)[0] - this.records) / this.stride;
  }

  /** Queues a task (TASK type and up to 7 words); `floats` go to words 4 and 5 as float32. */
  push(type: number, args: number[], floats: number[] = []): void {
    if (this.pending === this.layout.ringTasks) throw new Error('task ring overflow');
    const slot = (this.published + this.pending) & (this.layout.ringTasks - 1);
    const at = RING + slot * TASK_BYTES;
    const words = new Int32Array(this.buffer, at, 8);
    words[0] = type;
    for (let i = 0; i < args.length; i++) words[i + 1] = args[i];
    if (floats.length) new Float32Array(this.buffer, at + 16, floats.length).set(floats);
    this.pending++;
  }

  /**
   * Runs the queued tasks (on all threads) and returns when every one has finished; segment
   * lists and result slots are free again after the caller has read the results.
   */
  run(): void {
    this.listTop = this.lists;
    if (this.pending === 0) return;
    const ctrl = this.ctrl();
    this.published += this.pending;
    this.pending = 0;
    Atomics.store(ctrl, CTRL.end / 4, this.published);
    if (this.parallel) Atomics.notify(ctrl, CTRL.end / 4);
    this.k.help();
    for (let spin = 0; ; spin++) {
      const done = Atomics.load(ctrl, CTRL.done / 4);
      if (done === this.published) break;
      if (Atomics.load(ctrl, CTRL.failed / 4)) throw new Error('a training worker thread failed');
      if (spin > 1000) Atomics.wait(ctrl, CTRL.done / 4, done, 100);
    }
  }

  /** Frees the result slots (after their values were read). */
  resetResults(): void {
    this.resultTop = 0;
  }
}

function tooLarge(n: number, F: number): MetallmixError {
  return new MetallmixError(
    `${n} rows x ${F} features need more than the 4 GiB of training memory possible`,
  );
}

/** The largest category code in any categorical column (-1 without any), and whether a numerical one misses values. */
function scanColumns(
  X: Matrix,
  types: readonly FeatureType[],
): { maxCategory: number; numericalMissing: boolean } {
  let maxCategory = -1;
  let numericalMissing = false;
  const { numRows, numFeatures: F, data } = X;
  for (let f = 0; f < F; f++)
    if (types[f] === 'c')
      for (let r = 0; r < numRows; r++) maxCategory = Math.max(maxCategory, data[r * F + f] || 0);
    else if (!numericalMissing)
      for (let r = 0; r < numRows; r++)
        if (data[r * F + f] !== data[r * F + f]) numericalMissing = true;
  return { maxCategory, numericalMissing };
}

/** Rewrites records with u16 codes (stride `from`) as records with u8 codes (stride `to`), in place. */
function narrowCodes(bytes: Uint8Array, n: number, F: number, from: number, to: number): void {
  for (let r = 0; r < n; r++) {
    const src = r * from;
    const dst = r * to;
    bytes.copyWithin(dst, src, src + RECORD_HEADER);
    for (let f = 0; f < F; f++) bytes[dst + RECORD_HEADER + f] = bytes[src + RECORD_HEADER + 2 * f];
    bytes.fill(0, dst + RECORD_HEADER + F, dst + to);
  }
}

/** Groups of consecutive segments with at least CHUNK_ROWS rows each (the last may have fewer). */
export function segmentGroups(segs: Segments): [number, number][] {
  const groups: [number, number][] = [];
  const count = segs.length / 2;
  let from = 0;
  let rows = 0;
  for (let i = 0; i < count; i++) {
    rows += segs[2 * i + 1] - segs[2 * i];
    if (rows >= CHUNK_ROWS || i === count - 1) {
      groups.push([from, i + 1]);
      from = i + 1;
      rows = 0;
    }
  }
  return groups;
}
