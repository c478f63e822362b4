// Training rows as records in one WebAssembly memory (layout and kernels in kernels.ts), with
// the per-row arrays the boosting loop shares with the kernels (gradients, margins, sample
// flags), a pool of histograms, and the task queue that the main thread and, with nthread > 1,
// worker threads run. Record indices address rows in their current (node) order.

import { Worker } from 'node:worker_threads';
import { MetallmixError } from '../core/errors.ts';
import type { Matrix } from './matrix.ts';
import { binCode, type Cuts } from './quantize.ts';
import {
  CHUNK_ROWS,
  CTRL,
  RECORD_HEADER,
  RING,
  TASK,
  TASK_BYTES,
  kernelModule,
  recordBytes,
  type KernelExports,
  type Layout,
} from './kernels.ts';

const PAGE = 65536;
const MAX_PAGES = 65536; // 4 GiB: the most a 32-bit WebAssembly memory can address
/** Nodes whose tasks go into one batch (bounds the ring and the result slots). */
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

export class RowStore {
  readonly layout: Layout;
  readonly stride: number;
  readonly histBytes: number;
  readonly parallel: boolean;
  private readonly memory: WebAssembly.Memory;
  private readonly k: KernelExports;
  private readonly workers: Worker[] = [];
  private top: number;
  private readonly records: number;
  private readonly scratch: number;
  readonly gradPtr: number;
  readonly hessPtr: number;
  readonly marginPtr: number;
  readonly flagsPtr: number;
  private readonly results: number;
  readonly partials: number;
  private readonly freeHists: number[] = [];
  private readonly tables: number;
  private readonly maxCodes: number;
  /** Tasks published so far (the end word) and queued for the next run. */
  private published = 0;
  private pending = 0;

  constructor(
    X: Matrix,
    readonly cuts: Cuts,
    nthread: number,
  ) {
    const n = X.numRows;
    const F = X.numFeatures;
    let maxCode = 0;
    for (let f = 0; f < F; f++) maxCode = Math.max(maxCode, cuts.numBins[f]);
    const chunks = Math.ceil(n / CHUNK_ROWS);
    this.layout = {
      numFeatures: F,
      codeBytes: maxCode <= 255 ? 1 : 2,
      slotOffset: cuts.offset.subarray(0, F),
      totalSlots: cuts.totalSlots,
      ringTasks: nextPowerOfTwo(2 * (NODES_PER_BATCH + chunks) + 8),
    };
    this.stride = recordBytes(this.layout);
    this.histBytes = cuts.totalSlots * 16;
    let at = RING + this.layout.ringTasks * TASK_BYTES;
    const region = (bytes: number) => {
      const start = at;
      at += Math.ceil(bytes / 16) * 16;
      return start;
    };
    this.records = region(n * this.stride);
    this.scratch = region(n * this.stride);
    this.gradPtr = region(4 * n);
    this.hessPtr = region(4 * n);
    this.marginPtr = region(8 * n);
    this.flagsPtr = region(n);
    this.results = region(4 * (NODES_PER_BATCH + chunks));
    this.partials = region(chunks * this.histBytes);
    this.maxCodes = Math.max(...Array.from(cuts.numBins, (nb) => nb + 1));
    this.tables = region(NODES_PER_BATCH * this.maxCodes);
    this.top = at;
    // Room for a level's worth of histograms up front; more pages come when a tree needs them.
    const pages = Math.ceil((at + 40 * this.histBytes) / PAGE);
    if (pages > MAX_PAGES)
      throw new MetallmixError(
        `${n} rows x ${F} features need ${(pages / 16384).toFixed(1)} GiB of training memory; at most 4 GiB are possible`,
      );
    this.parallel = nthread > 1;
    const shared = this.parallel;
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: MAX_PAGES, shared });
    const module = new WebAssembly.Module(
      kernelModule(this.layout, { shared, initial: pages, maximum: MAX_PAGES }),
    );
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.k = instance.exports as unknown as KernelExports;
    this.writeRecords(X);
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

  private writeRecords(X: Matrix): void {
    const { numRows: n, numFeatures: F, data } = X;
    const buffer = this.buffer;
    const words = this.stride / 4;
    const ids = new Int32Array(buffer, this.records, n * words);
    for (let r = 0; r < n; r++) ids[r * words + 2] = r;
    const { codeBytes } = this.layout;
    const codes =
      codeBytes === 1
        ? new Uint8Array(buffer, this.records, n * this.stride)
        : new Uint16Array(buffer, this.records, (n * this.stride) / 2);
    const step = this.stride / codeBytes;
    const first = RECORD_HEADER / codeBytes;
    for (let f = 0; f < F; f++)
      for (let r = 0; r < n; r++)
        codes[r * step + first + f] = binCode(this.cuts, f, data[r * F + f]);
  }

  private get buffer(): ArrayBuffer {
    return this.memory.buffer as ArrayBuffer;
  }

  private ctrl(): Int32Array {
    return new Int32Array(this.buffer, 0, 16);
  }

  /** Byte address of the record at index `record`. */
  addr(record: number): number {
    return this.records + record * this.stride;
  }

  /** Address of the scratch space that mirrors the record at index `record`. */
  scratchAddr(record: number): number {
    return this.scratch + record * this.stride;
  }

  grad(n: number): Float32Array {
    return new Float32Array(this.buffer, this.gradPtr, n);
  }
  hess(n: number): Float32Array {
    return new Float32Array(this.buffer, this.hessPtr, n);
  }
  margin(n: number): Float64Array {
    return new Float64Array(this.buffer, this.marginPtr, n);
  }
  /** Per row id: 1 when the row is in the current tree's sample. */
  sampleFlags(n: number): Uint8Array {
    return new Uint8Array(this.buffer, this.flagsPtr, n);
  }

  /** Bin code of feature `f` in the record at index `record`. */
  code(record: number, f: number): number {
    const at = this.addr(record) + RECORD_HEADER + f * this.layout.codeBytes;
    return this.layout.codeBytes === 1
      ? new Uint8Array(this.buffer, at, 1)[0]
      : new Uint16Array(this.buffer, at, 1)[0];
  }

  /** Row id of the record at index `record`. */
  rowId(record: number): number {
    return new Int32Array(this.buffer, this.addr(record) + 8, 1)[0];
  }

  takeHist(): number {
    const free = this.freeHists.pop();
    if (free !== undefined) return free;
    const ptr = this.top;
    this.top += this.histBytes;
    const have = this.buffer.byteLength / PAGE;
    const needed = Math.ceil(this.top / PAGE) - have;
    if (needed > 0) {
      if (have + needed > MAX_PAGES)
        throw new MetallmixError(
          'tree growing needs more than 4 GiB of histograms; lower max_depth',
        );
      this.memory.grow(needed);
    }
    return ptr;
  }

  releaseHist(ptr: number): void {
    this.freeHists.push(ptr);
  }

  /** A view of histogram `ptr`: (gradient, hessian) sums per slot. Invalid after takeHist. */
  histView(ptr: number): Float64Array {
    return new Float64Array(this.buffer, ptr, 2 * this.layout.totalSlots);
  }

  /** Address of result slot `i` (an i32 a task writes). */
  resultAddr(i: number): number {
    return this.results + 4 * i;
  }

  result(i: number): number {
    return new Int32Array(this.buffer, this.results, i + 1)[i];
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

  /** Queues a task (TASK type and up to 7 words; numbers, or float32 bits for margin values). */
  push(type: number, ...args: number[]): void {
    if (this.pending === this.layout.ringTasks) throw new Error('task ring overflow');
    const slot = (this.published + this.pending) & (this.layout.ringTasks - 1);
    const at = RING + slot * TASK_BYTES;
    const words = new Int32Array(this.buffer, at, 8);
    words[0] = type;
    for (let i = 0; i < args.length; i++) words[i + 1] = args[i];
    this.pending++;
  }

  /** As push, with float32 values in words 4 (and 5). */
  pushMargin(type: number, args: number[], values: number[]): void {
    this.push(type, ...args);
    const slot = (this.published + this.pending - 1) & (this.layout.ringTasks - 1);
    new Float32Array(this.buffer, RING + slot * TASK_BYTES + 16, values.length).set(values);
  }

  /** Runs the queued tasks (on all threads) and returns when every one has finished. */
  run(): void {
    if (this.pending === 0) return;
    const ctrl = this.ctrl();
    this.published += this.pending;
    this.pending = 0;
    Atomics.store(ctrl, CTRL.end / 4, this.published);
    if (this.parallel) Atomics.notify(ctrl, CTRL.end / 4);
    this.k.help();
    for (let spin = 0; ; spin++) {
      const done = Atomics.load(ctrl, CTRL.done / 4);
      if (done === this.published) return;
      if (Atomics.load(ctrl, CTRL.failed / 4)) throw new Error('a training worker thread failed');
      if (spin > 1000) Atomics.wait(ctrl, CTRL.done / 4, done, 100);
    }
  }

  /** Queues the histogram of records [begin, end) into `hist` (chunk partials from `partials`). */
  pushHist(hist: number, begin: number, end: number, partials: number): number {
    const first = Math.min(end, begin + CHUNK_ROWS);
    this.push(TASK.hist, hist, this.addr(begin), this.addr(first));
    let count = 0;
    for (let b = first; b < end; b += CHUNK_ROWS, count++)
      this.push(
        TASK.hist,
        partials + count * this.histBytes,
        this.addr(b),
        this.addr(Math.min(end, b + CHUNK_ROWS)),
      );
    return count;
  }
}
