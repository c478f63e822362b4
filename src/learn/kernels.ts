// The hot loops of tree growing as WebAssembly, generated for one training run's layout.
//
// Rows live as fixed-size records in one memory: [grad f32, hess f32, row id i32, one bin code
// per feature (u8, or u16 when some feature has more than 255 bins), padding to 16 bytes]. Each
// node's rows are a contiguous run of records, and a split moves them (stably: left rows first)
// so that the children's runs are contiguous too. Building a histogram then streams through
// memory in order instead of jumping to each row's bins, which at deep nodes costs a cache miss
// per row (measured: 6-9 ns per update at 1/8-1/64 density against 0.9 ns streaming).
//
// Work is handed out as tasks in a ring in the same memory; the main thread and any worker
// threads (sharing the memory) claim them with an atomic counter. A node's histogram is built
// over fixed chunks of its rows whose partial sums are added in chunk order, and partitions are
// stable, so every result is the same bit for bit whoever runs which task.

import { i32, f32, v128, Code, moduleBytes, type Func } from './wasm.ts';

export const RECORD_HEADER = 12; // grad, hess, row id
/** Rows per histogram chunk: the unit of parallel work and of the fixed summation order. */
export const CHUNK_ROWS = 1 << 15;

// Control words at the start of memory, then the task ring (8 words per task).
export const CTRL = { end: 0, cursor: 4, done: 8, stop: 12, failed: 16 } as const;
export const RING = 64;
export const TASK_BYTES = 32;

export const TASK = {
  hist: 1, // out, begin, end
  partition: 2, // begin, end, scratch, key, table, result
  partitionSample: 3, // begin, end, scratch, flags, result
  partitionOut: 4, // begin, end, out, key, table, result
  copy: 5, // dst, src, bytes
  copyReversed: 6, // dst, srcEnd, bytes
  gather: 7, // begin, end, grad, hess
  leafMargin: 8, // begin, end, margin, value (f32)
  splitMargin: 9, // begin, end, margin, left (f32), right (f32), key, table
  finish: 10, // target, partials, count, parent (0: none)
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

export const recordBytes = (layout: Layout): number =>
  Math.ceil((RECORD_HEADER + layout.numFeatures * layout.codeBytes) / 16) * 16;

function loadCode(c: Code, codeBytes: number, offset = 0): Code {
  return codeBytes === 1 ? c.i32Load8U(offset) : c.i32Load16U(offset);
}

/** Emits `while (p < end) { body; p += step }` for locals p and end. */
function forRecords(c: Code, p: number, end: number, step: number, body: () => void): void {
  c.block().loop();
  c.get(p).get(end).i32GeU().brIf(1);
  body();
  c.get(p).i32Const(step).i32Add().set(p);
  c.br(0).end().end();
}

/** hist(out, begin, end): out = histogram of the records at byte addresses [begin, end). */
function histFunc(layout: Layout, stride: number): Code {
  const c = new Code([i32, i32, i32]);
  const [out, begin, end] = [0, 1, 2];
  const gh = c.local(v128);
  const a = c.local(i32);
  c.get(out)
    .i32Const(0)
    .i32Const(layout.totalSlots * 16)
    .memoryFill();
  forRecords(c, begin, end, stride, () => {
    c.get(begin).f64x2LoadF32x2().set(gh);
    for (let f = 0; f < layout.numFeatures; f++) {
      // Slot address = out + 16 * (slotOffset[f] + code); the constant part is the memarg offset.
      const at = 16 * layout.slotOffset[f];
      c.get(begin);
      loadCode(c, layout.codeBytes, RECORD_HEADER + f * layout.codeBytes);
      c.i32Const(4).i32Shl().get(out).i32Add().tee(a);
      c.get(a).v128Load(at).get(gh).f64x2Add().v128Store(at);
    }
  });
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
  forRecords(c, dst, end, 16, () => {
    c.get(dst).get(dst).v128Load().get(src).v128Load();
    if (sub) c.f64x2Sub();
    else c.f64x2Add();
    c.v128Store();
    c.get(src).i32Const(16).i32Add().set(src);
  });
  return c;
}

/**
 * Stable partition of the records [begin, end) -> the address where the right ones start.
 * In place (`outOfPlace` false): left records are compacted from `begin`, right ones copied to
 * `out` and back after the left ones. Out of place: left records go forward from `out`, right
 * ones backward from out + (end - begin), for copy and copyReversed to put in place.
 * `goesRight` pushes 1 when the record at address `p` goes right.
 */
function partitionFunc(
  stride: number,
  params: number,
  outOfPlace: boolean,
  goesRight: (c: Code, p: number) => void,
): Code {
  const c = new Code(Array.from({ length: 3 + params }, () => i32));
  const [begin, end, out] = [0, 1, 2];
  const dst = c.local(i32);
  const back = c.local(i32);
  const to = c.local(i32);
  const right = c.local(i32);
  const parts = Array.from({ length: stride / 16 }, () => c.local(v128));
  if (outOfPlace) {
    c.get(out).set(dst);
    c.get(out).get(end).i32Add().get(begin).i32Sub().set(back);
  } else {
    c.get(begin).set(dst);
    c.get(out).set(back);
  }
  forRecords(c, begin, end, stride, () => {
    goesRight(c, begin);
    c.set(right);
    if (outOfPlace) {
      // back is pre-decremented for a right record: it points at the slot to write.
      c.get(back).get(right).i32Const(stride).i32Mul().i32Sub().set(back);
      c.get(back).get(dst).get(right).select().set(to);
    } else c.get(back).get(dst).get(right).select().set(to);
    parts.forEach((v, k) =>
      c
        .get(begin)
        .v128Load(16 * k)
        .set(v),
    );
    parts.forEach((v, k) =>
      c
        .get(to)
        .get(v)
        .v128Store(16 * k),
    );
    if (!outOfPlace) c.get(back).get(right).i32Const(stride).i32Mul().i32Add().set(back);
    c.get(dst).i32Const(stride).get(right).i32Const(stride).i32Mul().i32Sub().i32Add().set(dst);
  });
  if (!outOfPlace) c.get(dst).get(out).get(back).get(out).i32Sub().memoryCopy();
  c.get(dst);
  return c;
}

/** copyReversed(dst, srcEnd, bytes): records stored backward before srcEnd, put in order. */
function copyReversedFunc(stride: number): Code {
  const c = new Code([i32, i32, i32]);
  const [dst, srcEnd, bytes] = [0, 1, 2];
  const end = c.local(i32);
  const parts = Array.from({ length: stride / 16 }, () => c.local(v128));
  c.get(dst).get(bytes).i32Add().set(end);
  forRecords(c, dst, end, stride, () => {
    c.get(srcEnd).i32Const(stride).i32Sub().set(srcEnd);
    parts.forEach((v, k) =>
      c
        .get(srcEnd)
        .v128Load(16 * k)
        .set(v),
    );
    parts.forEach((v, k) =>
      c
        .get(dst)
        .get(v)
        .v128Store(16 * k),
    );
  });
  return c;
}

/** gather(begin, end, grad, hess): each record takes its row's gradient pair (float32 arrays). */
function gatherFunc(stride: number): Code {
  const c = new Code([i32, i32, i32, i32]);
  const [begin, end, grad, hess] = [0, 1, 2, 3];
  const r4 = c.local(i32);
  forRecords(c, begin, end, stride, () => {
    c.get(begin).i32Load(8).i32Const(2).i32Shl().set(r4);
    c.get(begin).get(grad).get(r4).i32Add().f32Load().f32Store(0);
    c.get(begin).get(hess).get(r4).i32Add().f32Load().f32Store(4);
  });
  return c;
}

/**
 * Adds a leaf value to the margin (float64 array holding float32 values) of each record's row,
 * rounding the sum to float32 as XGBoost does. leafMargin(begin, end, margin, value);
 * splitMargin(begin, end, margin, left, right, key, table) picks the value by the split.
 */
function marginFunc(stride: number, codeBytes: number, split: boolean): Code {
  const c = new Code(split ? [i32, i32, i32, f32, f32, i32, i32] : [i32, i32, i32, f32]);
  const [begin, end, margin, left, right, key, table] = [0, 1, 2, 3, 4, 5, 6];
  const at = c.local(i32);
  forRecords(c, begin, end, stride, () => {
    c.get(begin).i32Load(8).i32Const(3).i32Shl().get(margin).i32Add().tee(at);
    c.get(at).f64Load();
    if (split) {
      c.get(right).get(left).get(table).get(begin).get(key).i32Add();
      loadCode(c, codeBytes).i32Add().i32Load8U().select();
    } else c.get(left);
    c.f64PromoteF32().f64Add().f32DemoteF64().f64PromoteF32().f64Store();
  });
  return c;
}

// Function indices, for `call`.
const F = {
  hist: 0,
  histAdd: 1,
  histSub: 2,
  partition: 3,
  partitionSample: 4,
  partitionOut: 5,
  copyReversed: 6,
  gather: 7,
  leafMargin: 8,
  splitMargin: 9,
  finish: 10,
  runTask: 11,
  help: 12,
  work: 13,
} as const;

/** finish(target, partials, count, parent): target += each partial in order; parent -= target. */
function finishFunc(histBytes: number): Code {
  const c = new Code([i32, i32, i32, i32]);
  const [target, partials, count, parent] = [0, 1, 2, 3];
  const end = c.local(i32);
  c.get(partials).get(count).i32Const(histBytes).i32Mul().i32Add().set(end);
  forRecords(c, partials, end, histBytes, () => {
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
  const arg = (k: number) => c.get(t).i32Load(4 * k);
  c.get(t).i32Load().set(type);
  const when = (kind: number, body: () => void) => {
    c.get(type).i32Const(kind).i32Eq().if();
    body();
    c.return().end();
  };
  const args = (...ks: number[]) => ks.forEach(arg);
  when(TASK.hist, () => {
    args(1, 2, 3);
    c.call(F.hist);
  });
  const withResult = (slot: number, body: () => void) => {
    c.get(t).i32Load(4 * slot);
    body();
    c.i32Store();
  };
  when(TASK.partition, () =>
    withResult(6, () => {
      args(1, 2, 3, 4, 5);
      c.call(F.partition);
    }),
  );
  when(TASK.partitionSample, () =>
    withResult(5, () => {
      args(1, 2, 3, 4);
      c.call(F.partitionSample);
    }),
  );
  when(TASK.partitionOut, () =>
    withResult(6, () => {
      args(1, 2, 3, 4, 5);
      c.call(F.partitionOut);
    }),
  );
  when(TASK.copy, () => {
    args(1, 2, 3);
    c.memoryCopy();
  });
  when(TASK.copyReversed, () => {
    args(1, 2, 3);
    c.call(F.copyReversed);
  });
  when(TASK.gather, () => {
    args(1, 2, 3, 4);
    c.call(F.gather);
  });
  when(TASK.leafMargin, () => {
    args(1, 2, 3);
    c.get(t).f32Load(16);
    c.call(F.leafMargin);
  });
  when(TASK.splitMargin, () => {
    args(1, 2, 3);
    c.get(t).f32Load(16).get(t).f32Load(20);
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
  runTask(task: number): void;
  help(): void;
  work(): void;
}

/** The module's bytes for a layout; instantiate with the memory it was built for. */
export function kernelModule(
  layout: Layout,
  memory: { shared: boolean; initial: number; maximum: number },
): Uint8Array {
  const stride = recordBytes(layout);
  const { codeBytes } = layout;
  const splitKey = (c: Code, p: number) => {
    const [key, table] = [3, 4];
    c.get(table).get(p).get(key).i32Add();
    loadCode(c, codeBytes).i32Add().i32Load8U();
  };
  const bodies: [keyof typeof F, Code, Func['results']][] = [
    ['hist', histFunc(layout, stride), []],
    ['histAdd', histCombine(layout, false), []],
    ['histSub', histCombine(layout, true), []],
    ['partition', partitionFunc(stride, 2, false, splitKey), [i32]],
    [
      'partitionSample',
      partitionFunc(stride, 1, false, (c, p) => {
        const flags = 3;
        c.get(flags).get(p).i32Load(8).i32Add().i32Load8U().i32Eqz();
      }),
      [i32],
    ],
    ['partitionOut', partitionFunc(stride, 2, true, splitKey), [i32]],
    ['copyReversed', copyReversedFunc(stride), []],
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
