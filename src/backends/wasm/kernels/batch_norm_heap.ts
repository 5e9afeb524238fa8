// The fused training batch-norm kernels (batch_norm_math.ts) for the backends whose tensors live on a
// tfjs wasm heap ('wasm', 'native'): hand-assembled wasm SIMD loops over NHWC rows, four channels per
// instruction, in place of the ~20 composed kernels per layer (small Inception with batch norm: 174
// Multiply, 60 Sub, 87 Add, 42 Sum, 39 Mean calls a step, ≈ 325 ms).
// Per-channel sums add rows in blocks of BLOCK_ROWS in float32 lanes, each block's partial sum then
// into a float64 total, so rounding grows with BLOCK_ROWS + M/BLOCK_ROWS rather than M. The
// statistics take one pass over x: sums of d and d² for d = x − s, with s each channel's mean over
// the first block, so that d is centred well enough that Σd²/M − (Σd/M)² loses no digits to
// cancellation. Element-wise
// results round once per operation, as the composed ops (and the webgpu kernels) do. A JS loop with
// the same operations in the same order (Math.fround per operation) takes channel counts that are not
// a multiple of four, and heaps where SIMD will not load; it gives the same bits.

import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { HeapMemory, WasmFunction, WasmHeapBackend } from '../assemble.js';
import { heapMemoryOf, heapModule, I32, op, uleb, V128, whileBelow } from '../assemble.js';
import { BN_APPLY, BN_GRAD_INPUT, BN_GRAD_STATS, BN_MOVING, BN_STATS, type BnAttrs, type BnMovingAttrs } from '../../../ops/batch_norm_math.js';

/** Rows per float32 partial sum. */
export const BLOCK_ROWS = 256;

// ---- the SIMD module ------------------------------------------------------------------------

/** Byte offsets and counts; `rows` rows of `cBytes` bytes (a multiple of 16). */
interface Simd {
  /** acc[c] += x[r, c] */
  sum(x: number, acc: number, rows: number, cBytes: number): void;
  /** d = x[r, c] − shift[c]; acc0[c] += d; acc1[c] += d² */
  shifted(x: number, shift: number, acc0: number, acc1: number, rows: number, cBytes: number): void;
  /** y = (x − mean)·r + β, then max(·, 0) for applyRelu */
  apply(x: number, mean: number, r: number, beta: number, y: number, rows: number, cBytes: number): void;
  applyRelu(x: number, mean: number, r: number, beta: number, y: number, rows: number, cBytes: number): void;
  /** g = dy (masked by y > 0 for gsumsRelu); acc0 += g; acc1 += g·(y − β), x̂ recovered from the output */
  gsums(dy: number, y: number, beta: number, acc0: number, acc1: number, rows: number, cBytes: number): void;
  gsumsRelu(dy: number, y: number, beta: number, acc0: number, acc1: number, rows: number, cBytes: number): void;
  /** dx = ((g − s0) − (x − mean)·r·s1)·r */
  gin(x: number, dy: number, y: number, mean: number, r: number, s0: number, s1: number, dx: number, rows: number, cBytes: number): void;
  ginRelu(x: number, dy: number, y: number, mean: number, r: number, s0: number, s1: number, dx: number, rows: number, cBytes: number): void;
}

/** Channel groups (four channels each) per unrolled tile of a row. */
export const TILE_GROUPS = 16;

interface Kit {
  /** Loads the current row's group g of the [rows, C] operand in parameter p. */
  elem(p: number, g: number): number[];
  /** Stores `value` (instructions leaving a v128) to the current row's group g of operand p. */
  store(p: number, g: number, value: number[]): number[];
  /** Loads group g of the [C] per-channel operand in parameter p. */
  chan(p: number, g: number): number[];
  /** acc[group g] += value for the [C] accumulator in parameter p. */
  accumulate(p: number, g: number, value: number[]): number[];
  /** Index of v128 local i. */
  v(i: number): number;
}

/** v128.load / v128.store with a constant byte offset (memarg alignment 0). */
const loadAt = (offset: number): number[] => [0xfd, 0x00, 0, ...uleb(offset)];
const storeAt = (offset: number): number[] => [0xfd, 0x0b, 0, ...uleb(offset)];

/**
 * A function of `params` i32 parameters (the operands' byte offsets, then rows and the row's byte
 * count, a multiple of 16) running `body(kit, g)` for every 16-byte channel group g of every row.
 * Rows go in order, and each row's groups in tiles of TILE_GROUPS unrolled with constant offsets,
 * then the last `tail` groups (cBytes/16 mod TILE_GROUPS, fixed per module) unrolled after the tiles:
 * one loop test per tile rather than per group, and no address arithmetic per group. Locals after
 * the parameters: row byte offset, rows' byte end, channel byte offset, tiles' byte end, then
 * `vectors` v128 locals (the first of them zero).
 */
function rowsFunction(name: string, params: number, vectors: number, tail: number, body: (k: Kit, g: number) => number[]): WasmFunction {
  const [ROWS, CBYTES] = [params - 2, params - 1];
  const [O, END, C, FULL] = [params, params + 1, params + 2, params + 3];
  const row = (p: number): number[] => [...op.get(p), ...op.get(O), ...op.i32Add, ...op.get(C), ...op.i32Add];
  const chan = (p: number): number[] => [...op.get(p), ...op.get(C), ...op.i32Add];
  const kit: Kit = {
    elem: (p, g) => [...row(p), ...loadAt(16 * g)],
    store: (p, g, value) => [...row(p), ...value, ...storeAt(16 * g)],
    chan: (p, g) => [...chan(p), ...loadAt(16 * g)],
    accumulate: (p, g, value) => [...chan(p), ...chan(p), ...loadAt(16 * g), ...value, ...op.f32x4Add, ...storeAt(16 * g)],
    v: (i) => params + 4 + i,
  };
  const groups = (n: number): number[] => Array.from({ length: n }, (_, g) => body(kit, g)).flat();
  const perRow = [
    ...op.i32(0), ...op.set(C),
    ...whileBelow(C, FULL, groups(TILE_GROUPS), op.i32(16 * TILE_GROUPS)),
    ...groups(tail),
  ];
  const zero = vectors > 0 ? [...op.i32(0), ...op.i32x4Splat, ...op.set(kit.v(0))] : [];
  return {
    name,
    params: Array(params).fill(I32),
    locals: vectors > 0 ? [[4, I32], [vectors, V128]] : [[4, I32]],
    code: [
      ...zero,
      ...op.get(ROWS), ...op.get(CBYTES), ...op.i32Mul, ...op.set(END),
      ...op.get(CBYTES), ...op.i32(16 * tail), ...op.i32Sub, ...op.set(FULL),
      ...whileBelow(O, END, perRow, op.get(CBYTES)),
    ],
  };
}

/** (x − mean)·r, rounded per operation. */
const xhat = (k: Kit, g: number, x: number, mean: number, r: number): number[] => [...k.elem(x, g), ...k.chan(mean, g), ...op.f32x4Sub, ...k.chan(r, g), ...op.f32x4Mul];
/** g into v128 local 1: dy, masked where y ≤ 0 (or NaN) for the relu variants. */
const gradient = (k: Kit, g: number, dy: number, y: number, relu: boolean): number[] => [
  ...k.elem(dy, g),
  ...(relu ? [...k.elem(y, g), ...op.get(k.v(0)), ...op.f32x4Gt, ...op.v128And] : []),
  ...op.set(k.v(1)),
];

function moduleFunctions(tail: number): WasmFunction[] {
  const sum = rowsFunction('sum', 4, 0, tail, (k, g) => k.accumulate(1, g, k.elem(0, g)));
  const shifted = rowsFunction('shifted', 6, 1, tail, (k, g) => [
    ...k.elem(0, g), ...k.chan(1, g), ...op.f32x4Sub, ...op.set(k.v(0)),
    ...k.accumulate(2, g, op.get(k.v(0))),
    ...k.accumulate(3, g, [...op.get(k.v(0)), ...op.get(k.v(0)), ...op.f32x4Mul]),
  ]);
  const apply = (relu: boolean): WasmFunction =>
    rowsFunction(relu ? 'applyRelu' : 'apply', 7, 1, tail, (k, g) =>
      k.store(4, g, [...xhat(k, g, 0, 1, 2), ...k.chan(3, g), ...op.f32x4Add, ...(relu ? [...op.get(k.v(0)), ...op.f32x4Pmax] : [])]),
    );
  const gsums = (relu: boolean): WasmFunction =>
    rowsFunction(relu ? 'gsumsRelu' : 'gsums', 7, 2, tail, (k, g) => [
      ...gradient(k, g, 0, 1, relu),
      ...k.accumulate(3, g, op.get(k.v(1))),
      ...k.accumulate(4, g, [...op.get(k.v(1)), ...k.elem(1, g), ...k.chan(2, g), ...op.f32x4Sub, ...op.f32x4Mul]),
    ]);
  const gin = (relu: boolean): WasmFunction =>
    rowsFunction(relu ? 'ginRelu' : 'gin', 10, 2, tail, (k, g) => [
      ...gradient(k, g, 1, 2, relu),
      ...k.store(7, g, [
        ...op.get(k.v(1)), ...k.chan(5, g), ...op.f32x4Sub,
        ...xhat(k, g, 0, 3, 4), ...k.chan(6, g), ...op.f32x4Mul,
        ...op.f32x4Sub, ...k.chan(4, g), ...op.f32x4Mul,
      ]),
    ]);
  return [sum, shifted, apply(false), apply(true), gsums(false), gsums(true), gin(false), gin(true)];
}

const modules = Array.from({ length: TILE_GROUPS }, (_, tail) => heapModule<Simd>(() => moduleFunctions(tail)));

/**
 * The SIMD functions for rows of `channels` channels (a multiple of 4) bound to this heap, or null
 * where wasm SIMD (or shared memory) will not load. One module per channel-count remainder.
 */
export function batchNormSimd(heap: HeapMemory, channels: number): Simd | null {
  return modules[(channels / 4) % TILE_GROUPS]!(heap);
}

// ---- the kernels ------------------------------------------------------------------------------

const f = Math.fround;

/** Everything one kernel call needs: heap views by tensor, SIMD where it applies, scratch. */
class Call {
  readonly C: number;
  readonly M: number;
  readonly simd: Simd | null;
  private readonly heap: HeapMemory | null;
  private readonly temps: TensorInfo[] = [];

  constructor(
    readonly b: WasmHeapBackend,
    x: TensorInfo,
    /** Force the JS loops (tests compare both paths). */
    js = false,
  ) {
    this.C = x.shape[x.shape.length - 1]!;
    this.M = x.shape.reduce((a, d) => a * d, 1) / this.C;
    this.heap = heapMemoryOf(b);
    this.simd = js || this.C % 4 !== 0 || this.heap === null ? null : batchNormSimd(this.heap, this.C);
  }

  at(t: TensorInfo): number {
    return this.b.dataIdMap.get(t.dataId)!.memoryOffset;
  }

  /** A float32 view; make views only after the last allocation (growing the heap detaches them). */
  view(t: TensorInfo): Float32Array {
    return new Float32Array(this.heap?.memory.buffer ?? this.b.wasm.HEAPU8.buffer, this.at(t), t.shape.reduce((a, d) => a * d, 1));
  }

  /** A scratch [n] tensor freed by done(). */
  temp(n: number): TensorInfo {
    const t = this.b.makeOutput([n], 'float32');
    this.temps.push(t);
    return t;
  }

  done(): void {
    for (const t of this.temps) this.b.disposeData(t.dataId);
  }
}

/** Per-channel float64 totals of `blockSum(row0, rows, acc…)` over M rows in blocks. */
function blockedSums(call: Call, accs: readonly TensorInfo[], blockSum: (row0: number, rows: number) => void): Float64Array[] {
  const totals = accs.map(() => new Float64Array(call.C));
  for (let row0 = 0; row0 < call.M; row0 += BLOCK_ROWS) {
    const rows = Math.min(BLOCK_ROWS, call.M - row0);
    for (const a of accs) call.view(a).fill(0);
    blockSum(row0, rows);
    accs.forEach((a, i) => {
      const v = call.view(a);
      const t = totals[i]!;
      for (let c = 0; c < call.C; c++) t[c] = t[c]! + v[c]!;
    });
  }
  return totals;
}

/** mean and the biased variance, in one pass over x (sums shifted by the first block's mean). */
export function bnStats(b: WasmHeapBackend, x: TensorInfo, js = false): TensorInfo {
  const call = new Call(b, x, js);
  const { C, M, simd } = call;
  const out = b.makeOutput([2, C], 'float32');
  const [acc0, acc1, shift] = [call.temp(C), call.temp(C), call.temp(C)];
  try {
    const rowBytes = 4 * C;
    const first = Math.min(BLOCK_ROWS, M);
    call.view(acc0).fill(0);
    if (simd !== null) simd.sum(call.at(x), call.at(acc0), first, rowBytes);
    else {
      const [xs, a] = [call.view(x), call.view(acc0)];
      for (let r = 0; r < first; r++) for (let c = 0; c < C; c++) a[c] = f(a[c]! + xs[r * C + c]!);
    }
    const [a, s] = [call.view(acc0), call.view(shift)];
    for (let c = 0; c < C; c++) s[c] = f(a[c]! / first);
    const [t0, t1] = blockedSums(call, [acc0, acc1], (row0, rows) => {
      if (simd !== null) return simd.shifted(call.at(x) + row0 * rowBytes, call.at(shift), call.at(acc0), call.at(acc1), rows, rowBytes);
      const [xs, sh, a0, a1] = [call.view(x), call.view(shift), call.view(acc0), call.view(acc1)];
      for (let r = row0; r < row0 + rows; r++) {
        for (let c = 0; c < C; c++) {
          const d = f(xs[r * C + c]! - sh[c]!);
          a0[c] = f(a0[c]! + d);
          a1[c] = f(a1[c]! + f(d * d));
        }
      }
    }) as [Float64Array, Float64Array];
    const [o, sh] = [call.view(out), call.view(shift)];
    for (let c = 0; c < C; c++) {
      const d = t0[c]! / M;
      o[c] = f(sh[c]! + d);
      o[C + c] = f(Math.max(0, t1[c]! / M - d * d));
    }
    return out;
  } finally {
    call.done();
  }
}

/** mean and r = 1/√(σ² + ε) as [C] scratch tensors. */
function meanAndScale(call: Call, stats: TensorInfo, epsilon: number): [TensorInfo, TensorInfo] {
  const [mean, r] = [call.temp(call.C), call.temp(call.C)];
  const [s, m, rs] = [call.view(stats), call.view(mean), call.view(r)];
  for (let c = 0; c < call.C; c++) {
    m[c] = s[c]!;
    rs[c] = f(1 / Math.sqrt(f(s[call.C + c]! + f(epsilon))));
  }
  return [mean, r];
}

export function bnApply(b: WasmHeapBackend, x: TensorInfo, stats: TensorInfo, beta: TensorInfo, a: BnAttrs, js = false): TensorInfo {
  const call = new Call(b, x, js);
  const { C, M, simd } = call;
  const out = b.makeOutput(x.shape.slice(), 'float32');
  const relu = a.relu === true;
  try {
    const [mean, r] = meanAndScale(call, stats, a.epsilon);
    if (simd !== null) {
      (relu ? simd.applyRelu : simd.apply)(call.at(x), call.at(mean), call.at(r), call.at(beta), call.at(out), M, 4 * C);
      return out;
    }
    const [xs, m, rs, be, y] = [call.view(x), call.view(mean), call.view(r), call.view(beta), call.view(out)];
    for (let i = 0; i < M * C; i++) {
      const c = i % C;
      const z = f(f(f(xs[i]! - m[c]!) * rs[c]!) + be[c]!);
      y[i] = relu && z < 0 ? 0 : z;
    }
    return out;
  } finally {
    call.done();
  }
}

export function bnMoving(b: WasmHeapBackend, mean: TensorInfo, variance: TensorInfo, stats: TensorInfo, a: BnMovingAttrs): TensorInfo[] {
  const C = mean.shape[0]!;
  const outs = [b.makeOutput([C], 'float32'), b.makeOutput([C], 'float32')];
  const call = new Call(b, mean, true);
  const s = call.view(stats);
  [mean, variance].forEach((moving, row) => {
    const [m, o] = [call.view(moving), call.view(outs[row]!)];
    for (let c = 0; c < C; c++) o[c] = f(f(m[c]! * f(a.momentum)) + f(s[row * C + c]! * f(1 - a.momentum)));
  });
  return outs;
}

/** The masked gradient g at flat index i (the JS path). */
const gradAt = (dy: Float32Array, y: Float32Array | null, i: number): number => (y === null || y[i]! > 0 ? dy[i]! : 0);

/**
 * Σg and Σg·x̂ with x̂ = y − β read back from the output (y = x̂ + β before the ReLU): two streams (dy,
 * y) instead of three. Where the ReLU zeroed y, g is zero too, so those rows add nothing.
 */
export function bnGradStats(b: WasmHeapBackend, dy: TensorInfo, y: TensorInfo, beta: TensorInfo, a: BnAttrs, js = false): TensorInfo[] {
  const call = new Call(b, dy, js);
  const { C, simd } = call;
  const relu = a.relu === true;
  const sums = b.makeOutput([2, C], 'float32');
  const dBeta = b.makeOutput([C], 'float32');
  const [acc0, acc1] = [call.temp(C), call.temp(C)];
  try {
    const rowBytes = 4 * C;
    const [t0, t1] = blockedSums(call, [acc0, acc1], (row0, rows) => {
      const off = row0 * rowBytes;
      if (simd !== null) {
        return (relu ? simd.gsumsRelu : simd.gsums)(call.at(dy) + off, call.at(y) + off, call.at(beta), call.at(acc0), call.at(acc1), rows, rowBytes);
      }
      const [g, ys, be, a0, a1] = [call.view(dy), call.view(y), call.view(beta), call.view(acc0), call.view(acc1)];
      for (let i = row0 * C; i < (row0 + rows) * C; i++) {
        const c = i % C;
        const gi = gradAt(g, relu ? ys : null, i);
        a0[c] = f(a0[c]! + gi);
        a1[c] = f(a1[c]! + f(gi * f(ys[i]! - be[c]!)));
      }
    }) as [Float64Array, Float64Array];
    const [s, db] = [call.view(sums), call.view(dBeta)];
    for (let c = 0; c < C; c++) {
      s[c] = f(t0[c]!);
      s[C + c] = f(t1[c]!);
      db[c] = s[c]!;
    }
    return [sums, dBeta];
  } finally {
    call.done();
  }
}

export function bnGradInput(b: WasmHeapBackend, x: TensorInfo, stats: TensorInfo, dy: TensorInfo, y: TensorInfo | undefined, sums: TensorInfo, a: BnAttrs, js = false): TensorInfo {
  const call = new Call(b, x, js);
  const { C, M, simd } = call;
  const relu = a.relu === true;
  if (relu && y === undefined) throw new Error(`${BN_GRAD_INPUT}: relu needs the output y`);
  const out = b.makeOutput(x.shape.slice(), 'float32');
  const [s0, s1] = [call.temp(C), call.temp(C)];
  try {
    const [mean, r] = meanAndScale(call, stats, a.epsilon);
    const [s, v0, v1] = [call.view(sums), call.view(s0), call.view(s1)];
    for (let c = 0; c < C; c++) {
      v0[c] = f(s[c]! / f(M));
      v1[c] = f(s[C + c]! / f(M));
    }
    const yy = y ?? dy;
    if (simd !== null) {
      (relu ? simd.ginRelu : simd.gin)(call.at(x), call.at(dy), call.at(yy), call.at(mean), call.at(r), call.at(s0), call.at(s1), call.at(out), M, 4 * C);
      return out;
    }
    const [xs, g, ys, m, rs, dx] = [call.view(x), call.view(dy), relu ? call.view(yy) : null, call.view(mean), call.view(r), call.view(out)];
    for (let i = 0; i < M * C; i++) {
      const c = i % C;
      const xh = f(f(xs[i]! - m[c]!) * rs[c]!);
      dx[i] = f(f(f(gradAt(g, ys, i) - v0[c]!) - f(xh * v1[c]!)) * rs[c]!);
    }
    return out;
  } finally {
    call.done();
  }
}

/** The kernels by name, for registration under 'wasm' and 'native'. */
export const HEAP_BATCH_NORM_KERNELS: Readonly<Record<string, KernelFunc>> = {
  [BN_STATS]: ({ inputs, backend }) => bnStats(backend as unknown as WasmHeapBackend, inputs['x']!),
  [BN_APPLY]: ({ inputs, backend, attrs }) => bnApply(backend as unknown as WasmHeapBackend, inputs['x']!, inputs['stats']!, inputs['beta']!, attrs as unknown as BnAttrs),
  [BN_MOVING]: ({ inputs, backend, attrs }) => bnMoving(backend as unknown as WasmHeapBackend, inputs['mean']!, inputs['variance']!, inputs['stats']!, attrs as unknown as BnMovingAttrs),
  [BN_GRAD_STATS]: ({ inputs, backend, attrs }) =>
    bnGradStats(backend as unknown as WasmHeapBackend, inputs['dy']!, inputs['y']!, inputs['beta']!, attrs as unknown as BnAttrs),
  [BN_GRAD_INPUT]: ({ inputs, backend, attrs }) =>
    bnGradInput(backend as unknown as WasmHeapBackend, inputs['x']!, inputs['stats']!, inputs['dy']!, inputs['y'], inputs['sums']!, attrs as unknown as BnAttrs),
};

