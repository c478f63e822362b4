// The hot loops of training as WebAssembly, generated for one training run's layout: as typed-
// array JavaScript the histogram scatter-add costs 2.7-2.9 ns per update on the development
// machine, as WebAssembly SIMD (one f64x2 add per gradient pair, no bounds checks) 0.8-0.9 ns.
//
// Rows live as fixed-size records in one memory: [grad f32, hess f32, row id i32, one bin code
// per feature (u8, or u16 for features with more than 255 codes), padding to 16 bytes]. The
// records are cut into fixed chunks of CHUNK_ROWS; a node's rows are a list of segments, one
// contiguous run per chunk, and a split partitions each segment in place (left rows first), so
// the children's rows are contiguous runs again. Building a histogram thus streams through
// memory instead of jumping to each row's bins, which at deep nodes costs a cache miss per row
// (measured: 6-9 ns per update at 1/8-1/64 density), and a row never leaves its chunk, so the
// per-row arrays (gradients, margins) are read and written within a chunk-sized window.
//
// Work is handed out as tasks in a ring in the same memory; the main thread and any worker
// threads (sharing the memory) claim them with an atomic counter. Each task's result depends on
// its inputs only, and a histogram is summed over fixed groups of segments added in order, so a
// tree is the same bit for bit whoever runs which task.

import { i32, f32, v128, Code, moduleBytes, type Func } from './wasm.ts';

export const RECORD_HEADER = 12; // grad, hess, row id
/** Rows per chunk: the unit of parallel work and of the fixed summation order. */
export const CHUNK_ROWS = 1 << 15;

// Control words at the start of memory, then the task ring (8 words per task).
export const CTRL = { end: 0, cursor: 4, done: 8, stop: 12, failed: 16 } as const;
export const RING = 64;
export const TASK_BYTES = 32;

/** Task types; `list, count` name `count` segments [begin, end) (byte addresses) at `list`. */
export const TASK = {
  hist: 1, // out, list, count
  partition: 2, // list, count, key, table, results
  partitionSample: 3, // list, count, flags, results
  gather: 4, // list, count, grad, hess
  leafMargin: 5, // list, count, margin, value (f32)
  splitMargin: 6, // list, count, margin, left (f32), right (f32), key, table
  finish: 7, // target, partials, count, parent (0: none)
} as const;

export interface Layout {
  numFeatures: number;
  /** Bytes per bin code: 1 or 2. */
  codeBytes: number;
  /** First histogram slot of each feature (the slots of feature f are its bins, then missing). */
  slotOffset: Int32Array;
  totalSlots: number;
  /** Tasks the ring holds (a power of two). */
  ringTasks: number;
}

export const recordBytes = (numFeatures: number, codeBytes: number): number =>
  Math.ceil((RECORD_HEADER + numFeatures * codeBytes) / 16) * 16;

function loadCode(c: Code, codeBytes: number, offset = 0): Code {
  return codeBytes === 1 ? c.i32Load8U(offset) : c.i32Load16U(offset);
}

/** Emits `while (p < end) { body; p += step }` for locals p and end. */
function forRange(c: Code, p: number, end: number, step: number, body: () => void): void {
  c.block().loop();
  c.get(p).get(end).i32GeU().brIf(1);
  body();
  c.get(p).i32Const(step).i32Add().set(p);
  c.br(0).end().end();
}

/** Emits a loop over the segments of list `list` (`count` pairs): body(begin, end) locals. */
function forSegments(c: Code, list: number, count: number, body: (b: number, e: number) => void) {
  const b = c.local(i32);
  const e = c.local(i32);
  const listEnd = c.local(i32);
  c.get(list).get(count).i32Const(3).i32Shl().i32Add().set(listEnd);
  forRange(c, list, listEnd, 8, () => {
    c.get(list).i32Load(0).set(b);
    c.get(list).i32Load(4).set(e);
    body(b, e);
  });
}

// ---- quantization (a module of its own: it runs before the cuts, and so the layout, exist) ----

/**
 * sortColumn(col, n, keys, tmp, counts) -> m: the non-missing float32 values of `col` sorted
 * ascending into `keys` (as float32), by a three-pass radix sort of their order-preserving bit
 * patterns; `tmp` holds n words, `counts` 2048.
 */
function sortColumnFunc(): Code {
  const c = new Code([i32, i32, i32, i32, i32]);
  const [col, n, keys, tmp, counts] = [0, 1, 2, 3, 4];
  const i = c.local(i32);
  const m = c.local(i32);
  const bits = c.local(i32);
  const src = c.local(i32);
  const dst = c.local(i32);
  const sum = c.local(i32);
  const at = c.local(i32);
  const end = c.local(i32);
  c.get(col).get(n).i32Const(2).i32Shl().i32Add().set(end);
  c.get(keys).set(at);
  forRange(c, col, end, 4, () => {
    c.get(col).f32Load().get(col).f32Load().f32Ne().if().else(); // skip NaN
    c.get(col).i32Load().set(bits);
    // Negative floats: all bits flipped; others: the sign bit set. Unsigned order = float order.
    c.get(at)
      .get(bits)
      .get(bits)
      .i32Const(31)
      .i32ShrS()
      .i32Const(0x80000000 | 0)
      .i32Or();
    c.i32Xor().i32Store();
    c.get(at).i32Const(4).i32Add().set(at);
    c.end();
  });
  c.get(at).get(keys).i32Sub().i32Const(2).i32ShrU().set(m);
  c.get(keys).set(src);
  c.get(tmp).set(dst);
  for (const [shift, mask] of [
    [0, 2047],
    [11, 2047],
    [22, 1023],
  ]) {
    const bucket = () => c.i32Const(shift).i32ShrU().i32Const(mask).i32And().i32Const(2).i32Shl();
    c.get(counts).i32Const(0).i32Const(8192).memoryFill();
    c.get(src).set(i);
    c.get(src).get(m).i32Const(2).i32Shl().i32Add().set(end);
    forRange(c, i, end, 4, () => {
      c.get(counts).get(i).i32Load();
      bucket();
      c.i32Add().tee(at).get(at).i32Load().i32Const(1).i32Add().i32Store();
    });
    c.i32Const(0).set(sum);
    c.get(counts).set(i);
    c.get(counts).i32Const(8192).i32Add().set(end);
    forRange(c, i, end, 4, () => {
      c.get(i).i32Load().set(bits);
      c.get(i).get(sum).i32Store();
      c.get(sum).get(bits).i32Add().set(sum);
    });
    c.get(src).set(i);
    c.get(src).get(m).i32Const(2).i32Shl().i32Add().set(end);
    forRange(c, i, end, 4, () => {
      c.get(i).i32Load().set(bits);
      c.get(counts).get(bits);
      bucket();
      c.i32Add().tee(at).i32Load().set(sum);
      c.get(at).get(sum).i32Const(1).i32Add().i32Store();
      c.get(dst).get(sum).i32Const(2).i32Shl().i32Add().get(bits).i32Store();
    });
    c.get(src).set(at);
    c.get(dst).set(src);
    c.get(at).set(dst);
  }
  // Three passes leave the keys in `tmp` (now src); decode them into `keys`.
  c.get(src).set(i);
  c.get(src).get(m).i32Const(2).i32Shl().i32Add().set(end);
  c.get(keys).set(at);
  forRange(c, i, end, 4, () => {
    c.get(i).i32Load().set(bits);
    c.get(at).get(bits).get(bits).i32Const(-1).i32Xor().i32Const(31).i32ShrS();
    c.i32Const(0x80000000 | 0)
      .i32Or()
      .i32Xor()
      .i32Store();
    c.get(at).i32Const(4).i32Add().set(at);
  });
  c.get(m);
  return c;
}

/**
 * binColumn(col, n, cuts, nb, categorical, out, stride): the bin code of each value of `col`
 * (float32) written every `stride` bytes from `out`: numerical values by upper bound among the
 * nb cuts (the last bin for values beyond them), category codes as themselves, NaN as nb.
 */
function binColumnFunc(codeBytes: number): Code {
  const c = new Code([i32, i32, i32, i32, i32, i32, i32]);
  const [col, n, cuts, nb, categorical, out, stride] = [0, 1, 2, 3, 4, 5, 6];
  const end = c.local(i32);
  const v = c.local(f32);
  const base = c.local(i32);
  const len = c.local(i32);
  const half = c.local(i32);
  const code = c.local(i32);
  c.get(col).get(n).i32Const(2).i32Shl().i32Add().set(end);
  forRange(c, col, end, 4, () => {
    c.get(col).f32Load().set(v);
    c.get(categorical).if();
    c.get(v).get(v).f32Ne().if().i32Const(0).set(code).else().get(v).i32TruncF32S().set(code).end();
    c.else();
    // Branch-free binary search: base ends at the count of cuts <= v (Khuong and Morin).
    c.i32Const(0).set(base);
    c.get(nb).set(len);
    c.block().loop();
    c.get(len).i32Const(1).i32LeU().brIf(1);
    c.get(len).i32Const(1).i32ShrU().set(half);
    c.get(base).get(half).i32Add().get(base);
    c.get(cuts).get(base).get(half).i32Add().i32Const(2).i32Shl().i32Add().f32Load().get(v).f32Le();
    c.select().set(base);
    c.get(len).get(half).i32Sub().set(len);
    c.br(0).end().end();
    c.get(base).get(cuts).get(base).i32Const(2).i32Shl().i32Add().f32Load().get(v).f32Le();
    c.i32Add().set(code);
    c.get(code).get(nb).i32Const(1).i32Sub().get(code).get(nb).i32LtU().select().set(code);
    c.end();
    c.get(out).get(nb).get(code).get(v).get(v).f32Ne().select();
    if (codeBytes === 1) c.i32Store8();
    else c.i32Store16();
    c.get(out).get(stride).i32Add().set(out);
  });
  return c;
}

export interface QuantizeExports {
  sortColumn(col: number, n: number, keys: number, tmp: number, counts: number): number;
  binColumn(
    col: number,
    n: number,
    cuts: number,
    nb: number,
    categorical: number,
    out: number,
    stride: number,
  ): void;
}

export function quantizeModule(
  codeBytes: number,
  memory: { shared: boolean; initial: number; maximum: number },
): Uint8Array<ArrayBuffer> {
  return moduleBytes(
    [
      { name: 'sortColumn', code: sortColumnFunc(), results: [i32] },
      { name: 'binColumn', code: binColumnFunc(codeBytes), results: [] },
    ],
    memory,
  );
}

// ---- tree growing ----

/** hist(out, list, count): out = histogram of the records in the segments, in order. */
function histFunc(layout: Layout, stride: number): Code {
  const c = new Code([i32, i32, i32]);
  const [out, list, count] = [0, 1, 2];
  const gh = c.local(v128);
  const a = c.local(i32);
  c.get(out)
    .i32Const(0)
    .i32Const(layout.totalSlots * 16)
    .memoryFill();
  forSegments(c, list, count, (p, end) =>
    forRange(c, p, end, stride, () => {
      c.get(p).f64x2LoadF32x2().set(gh);
      for (let f = 0; f < layout.numFeatures; f++) {
        // Slot address = out + 16 * (slotOffset[f] + code); the constant part is the memarg offset.
        const at = 16 * layout.slotOffset[f];
        c.get(p);
        loadCode(c, layout.codeBytes, RECORD_HEADER + f * layout.codeBytes);
        c.i32Const(4).i32Shl().get(out).i32Add().tee(a);
        c.get(a).v128Load(at).get(gh).f64x2Add().v128Store(at);
      }
    }),
  );
  return c;
}

/** histAdd(dst, src) / histSub(dst, src): dst += src / dst -= src, slot by slot. */
function histCombine(layout: Layout, sub: boolean): Code {
  const c = new Code([i32, i32]);
  const [dst, src] = [0, 1];
  const end = c.local(i32);
  c.get(dst)
    .i32Const(layout.totalSlots * 16)
    .i32Add()
    .set(end);
  forRange(c, dst, end, 16, () => {
    c.get(dst).get(dst).v128Load().get(src).v128Load();
    if (sub) c.f64x2Sub();
    else c.f64x2Add();
    c.v128Store();
    c.get(src).i32Const(16).i32Add().set(src);
  });
  return c;
}

/**
 * Partitions each segment in place (Hoare: scan from both ends, swap misplaced pairs; left
 * rows first) and writes where its right rows start to results[k]. `goesRight` pushes 1 when
 * the record at address `p` goes right; its extra parameters follow (list, count).
 */
function partitionFunc(stride: number, params: number, goesRight: (c: Code, p: number) => void) {
  const c = new Code(Array.from({ length: 2 + params + 1 }, () => i32));
  const [list, count, results] = [0, 1, 2 + params];
  const lo = c.local(i32);
  const hi = c.local(i32);
  const parts = Array.from({ length: (2 * stride) / 16 }, () => c.local(v128));
  forSegments(c, list, count, (b, e) => {
    c.get(b).set(lo);
    c.get(e).i32Const(stride).i32Sub().set(hi);
    c.block().loop();
    // lo: first right-going record from the left; hi: first left-going one from the right.
    c.block().loop();
    c.get(lo).get(hi).i32GtU().brIf(1);
    goesRight(c, lo);
    c.brIf(1);
    c.get(lo).i32Const(stride).i32Add().set(lo);
    c.br(0).end().end();
    c.block().loop();
    c.get(lo).get(hi).i32GtU().brIf(1);
    goesRight(c, hi);
    c.i32Eqz().brIf(1);
    c.get(hi).i32Const(stride).i32Sub().set(hi);
    c.br(0).end().end();
    c.get(lo).get(hi).i32GeU().brIf(1);
    const half = stride / 16;
    for (let k = 0; k < half; k++) {
      c.get(lo)
        .v128Load(16 * k)
        .set(parts[k]);
      c.get(hi)
        .v128Load(16 * k)
        .set(parts[half + k]);
    }
    for (let k = 0; k < half; k++) {
      c.get(lo)
        .get(parts[half + k])
        .v128Store(16 * k);
      c.get(hi)
        .get(parts[k])
        .v128Store(16 * k);
    }
    c.get(lo).i32Const(stride).i32Add().set(lo);
    c.get(hi).i32Const(stride).i32Sub().set(hi);
    c.br(0).end().end();
    c.get(results).get(lo).i32Store();
    c.get(results).i32Const(4).i32Add().set(results);
  });
  return c;
}

/** gather(list, count, grad, hess): each record takes its row's gradient pair. */
function gatherFunc(stride: number): Code {
  const c = new Code([i32, i32, i32, i32]);
  const [list, count, grad, hess] = [0, 1, 2, 3];
  const r4 = c.local(i32);
  forSegments(c, list, count, (p, end) =>
    forRange(c, p, end, stride, () => {
      c.get(p).i32Load(8).i32Const(2).i32Shl().set(r4);
      c.get(p).get(grad).get(r4).i32Add().f32Load().f32Store(0);
      c.get(p).get(hess).get(r4).i32Add().f32Load().f32Store(4);
    }),
  );
  return c;
}

/**
 * Adds a leaf value to the margin (float64 array holding float32 values) of each record's row,
 * rounding the sum to float32 as XGBoost does. leafMargin(list, count, margin, value);
 * splitMargin(list, count, margin, left, right, key, table) picks the value by the split.
 */
function marginFunc(stride: number, codeBytes: number, split: boolean): Code {
  const c = new Code(split ? [i32, i32, i32, f32, f32, i32, i32] : [i32, i32, i32, f32]);
  const [list, count, margin, left, right, key, table] = [0, 1, 2, 3, 4, 5, 6];
  const at = c.local(i32);
  forSegments(c, list, count, (p, end) =>
    forRange(c, p, end, stride, () => {
      c.get(p).i32Load(8).i32Const(3).i32Shl().get(margin).i32Add().tee(at);
      c.get(at).f64Load();
      if (split) {
        c.get(right).get(left).get(table).get(p).get(key).i32Add();
        loadCode(c, codeBytes).i32Add().i32Load8U().select();
      } else c.get(left);
      c.f64PromoteF32().f64Add().f32DemoteF64().f64PromoteF32().f64Store();
    }),
  );
  return c;
}

// Function indices, for `call`.
const F = {
  hist: 0,
  histAdd: 1,
  histSub: 2,
  partition: 3,
  partitionSample: 4,
  gather: 5,
  leafMargin: 6,
  splitMargin: 7,
  finish: 8,
  runTask: 9,
  help: 10,
  work: 11,
} as const;

/** finish(target, partials, count, parent): target += each partial in order; parent -= target. */
function finishFunc(histBytes: number): Code {
  const c = new Code([i32, i32, i32, i32]);
  const [target, partials, count, parent] = [0, 1, 2, 3];
  const end = c.local(i32);
  c.get(partials).get(count).i32Const(histBytes).i32Mul().i32Add().set(end);
  forRange(c, partials, end, histBytes, () => {
    c.get(target).get(partials).call(F.histAdd);
  });
  c.get(parent).if().get(parent).get(target).call(F.histSub).end();
  return c;
}

/** runTask(task): dispatches the task at address `task` by its type word. */
function runTaskFunc(): Code {
  const c = new Code([i32]);
  const t = 0;
  const type = c.local(i32);
  const args = (...words: number[]) => words.forEach((k) => c.get(t).i32Load(4 * k));
  const floats = (...words: number[]) => words.forEach((k) => c.get(t).f32Load(4 * k));
  c.get(t).i32Load().set(type);
  const when = (kind: number, body: () => void) => {
    c.get(type).i32Const(kind).i32Eq().if();
    body();
    c.return().end();
  };
  when(TASK.hist, () => {
    args(1, 2, 3);
    c.call(F.hist);
  });
  when(TASK.partition, () => {
    args(1, 2, 3, 4, 5);
    c.call(F.partition);
  });
  when(TASK.partitionSample, () => {
    args(1, 2, 3, 4);
    c.call(F.partitionSample);
  });
  when(TASK.gather, () => {
    args(1, 2, 3, 4);
    c.call(F.gather);
  });
  when(TASK.leafMargin, () => {
    args(1, 2, 3);
    floats(4);
    c.call(F.leafMargin);
  });
  when(TASK.splitMargin, () => {
    args(1, 2, 3);
    floats(4, 5);
    args(6, 7);
    c.call(F.splitMargin);
  });
  when(TASK.finish, () => {
    args(1, 2, 3, 4);
    c.call(F.finish);
  });
  c.unreachable();
  return c;
}

/** help(): claims and runs tasks until none is left unclaimed. */
function helpFunc(ringTasks: number): Code {
  const c = new Code([]);
  const claimed = c.local(i32);
  const end = c.local(i32);
  c.loop();
  c.i32Const(0).atomicLoad(CTRL.cursor).set(claimed);
  c.i32Const(0).atomicLoad(CTRL.end).set(end);
  c.get(claimed).get(end).i32GeU().if().return().end();
  c.i32Const(0).get(claimed).get(claimed).i32Const(1).i32Add().atomicCmpxchg(CTRL.cursor);
  c.get(claimed).i32Eq().if();
  c.get(claimed)
    .i32Const(ringTasks - 1)
    .i32And()
    .i32Const(5)
    .i32Shl()
    .i32Const(RING)
    .i32Add();
  c.call(F.runTask);
  // The last task of a batch wakes the main thread if it waits.
  c.i32Const(0).i32Const(1).atomicAdd(CTRL.done).i32Const(1).i32Add();
  c.i32Const(0).atomicLoad(CTRL.end).i32Eq().if();
  c.i32Const(CTRL.done).i32Const(1).atomicNotify().drop();
  c.end();
  c.end();
  c.br(0).end();
  return c;
}

/** work(): a worker thread's loop; sleeps on the end word between batches until stop is set. */
function workFunc(): Code {
  const c = new Code([]);
  const end = c.local(i32);
  const spin = c.local(i32);
  c.loop();
  c.i32Const(0).atomicLoad(CTRL.stop).if().return().end();
  c.call(F.help);
  c.i32Const(0).atomicLoad(CTRL.end).set(end);
  // Spin a little first: the next batch often follows within microseconds.
  c.i32Const(20000).set(spin);
  c.block().loop();
  c.i32Const(0).atomicLoad(CTRL.end).get(end).i32Ne().brIf(2); // new tasks: back to the top
  c.get(spin).i32Const(1).i32Sub().tee(spin).i32Eqz().brIf(1);
  c.br(0).end().end();
  c.i32Const(CTRL.end).get(end).i64Const(-1).atomicWait().drop();
  c.br(0).end();
  return c;
}

export interface KernelExports {
  help(): void;
  work(): void;
}

/** The module's bytes for a layout; instantiate with the memory it was built for. */
export function kernelModule(
  layout: Layout,
  memory: { shared: boolean; initial: number; maximum: number },
): Uint8Array<ArrayBuffer> {
  const stride = recordBytes(layout.numFeatures, layout.codeBytes);
  const { codeBytes } = layout;
  const bodies: [keyof typeof F, Code, Func['results']][] = [
    ['hist', histFunc(layout, stride), []],
    ['histAdd', histCombine(layout, false), []],
    ['histSub', histCombine(layout, true), []],
    [
      'partition',
      partitionFunc(stride, 2, (c, p) => {
        const [key, table] = [2, 3];
        c.get(table).get(p).get(key).i32Add();
        loadCode(c, codeBytes).i32Add().i32Load8U();
      }),
      [],
    ],
    [
      'partitionSample',
      partitionFunc(stride, 1, (c, p) => {
        const flags = 2;
        c.get(flags).get(p).i32Load(8).i32Add().i32Load8U().i32Eqz();
      }),
      [],
    ],
    ['gather', gatherFunc(stride), []],
    ['leafMargin', marginFunc(stride, codeBytes, false), []],
    ['splitMargin', marginFunc(stride, codeBytes, true), []],
    ['finish', finishFunc(layout.totalSlots * 16), []],
    ['runTask', runTaskFunc(), []],
    ['help', helpFunc(layout.ringTasks), []],
    ['work', workFunc(), []],
  ];
  bodies.forEach(([name], i) => {
    if (F[name] !== i) throw new Error(`kernel ${name} out of order`);
  });
  return moduleBytes(
    bodies.map(([name, code, results]) => ({ name, code, results })),
    memory,
  );
}
