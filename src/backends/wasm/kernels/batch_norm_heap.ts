// The fused training batch-norm kernels (batch_norm_math.ts) for the backends whose tensors live on a
// tfjs wasm heap ('wasm', 'native'): hand-assembled wasm SIMD loops over NHWC rows, four channels per
// instruction, in place of the ~20 composed kernels per layer (small Inception with batch norm: 174
// Multiply, 60 Sub, 87 Add, 42 Sum, 39 Mean calls a step, ≈ 325 ms).
// Per-channel sums add rows in blocks of BLOCK_ROWS in float32 lanes, each block's partial sum then
// into a float64 total, so rounding grows with BLOCK_ROWS + M/BLOCK_ROWS rather than M. Element-wise
// results round once per operation, as the composed ops (and the webgpu kernels) do. A JS loop with
// the same operations in the same order (Math.fround per operation) takes channel counts that are not
// a multiple of four, and heaps where SIMD will not load; it gives the same bits.

import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { HeapMemory, WasmFunction, WasmHeapBackend } from '../assemble.js';
import { addTo, heapMemoryOf, heapModule, I32, op, V128, whileBelow } from '../assemble.js';
import { BN_APPLY, BN_GRAD_INPUT, BN_GRAD_STATS, BN_MOVING, BN_STATS, type BnAttrs, type BnMovingAttrs } from '../../../ops/batch_norm_math.js';

/** Rows per float32 partial sum. */
export const BLOCK_ROWS = 256;

// ---- the SIMD module ------------------------------------------------------------------------

/** Byte offsets and counts; `rows` rows of `cBytes` bytes (a multiple of 16). */
interface Simd {
  /** acc[c] += x[r, c] */
  sum(x: number, acc: number, rows: number, cBytes: number): void;
  /** acc[c] += (x[r, c] − mean[c])² */
  sqdev(x: number, mean: number, acc: number, rows: number, cBytes: number): void;
  /** y = (x − mean)·r + β, then max(·, 0) for applyRelu */
  apply(x: number, mean: number, r: number, beta: number, y: number, rows: number, cBytes: number): void;
  applyRelu(x: number, mean: number, r: number, beta: number, y: number, rows: number, cBytes: number): void;
  /** g = dy (masked by y > 0 for gsumsRelu); acc0 += g; acc1 += g·((x − mean)·r) */
  gsums(x: number, dy: number, y: number, mean: number, r: number, acc0: number, acc1: number, rows: number, cBytes: number): void;
  gsumsRelu(x: number, dy: number, y: number, mean: number, r: number, acc0: number, acc1: number, rows: number, cBytes: number): void;
  /** dx = ((g − s0) − (x − mean)·r·s1)·r */
  gin(x: number, dy: number, y: number, mean: number, r: number, s0: number, s1: number, dx: number, rows: number, cBytes: number): void;
  ginRelu(x: number, dy: number, y: number, mean: number, r: number, s0: number, s1: number, dx: number, rows: number, cBytes: number): void;
}

/**
 * A function of `params` i32 parameters whose body `body(locals)` runs for every 16-byte channel
 * group of every row; `elem(p)` loads row data of the operand in parameter p, `chan(p)` the
 * per-channel vector. Locals after the parameters: row counter, channel byte, row byte offset, then
 * `vectors` v128 locals (the first of them zero).
 */
function rowsFunction(name: string, params: number, vectors: number, body: (k: Kit) => number[]): WasmFunction {
  const [R, C, BASE] = [params, params + 1, params + 2];
  const ROWS = params - 2;
  const CBYTES = params - 1;
  const kit: Kit = {
    elem: (p) => [...op.get(p), ...op.get(BASE), ...op.i32Add, ...op.get(C), ...op.i32Add],
    chan: (p) => [...op.get(p), ...op.get(C), ...op.i32Add],
    v: (i) => params + 3 + i,
  };
  const channels = [...op.i32(0), ...op.set(C), ...whileBelow(C, CBYTES, body(kit), op.i32(16)), ...addTo(BASE, op.get(CBYTES))];
  const zero = vectors > 0 ? [...op.i32(0), ...op.i32x4Splat, ...op.set(kit.v(0))] : [];
  return {
    name,
    params: Array(params).fill(I32),
    locals: vectors > 0 ? [[3, I32], [vectors, V128]] : [[3, I32]],
    code: [...zero, ...whileBelow(R, ROWS, channels)],
  };
}

interface Kit {
  /** Address of the current element of the [rows, C] operand in parameter p. */
  elem(p: number): number[];
  /** Address of the current channel group of the [C] operand in parameter p. */
  chan(p: number): number[];
  /** Index of v128 local i. */
  v(i: number): number;
}

const load = (addr: number[]): number[] => [...addr, ...op.v128Load];
/** acc[c] += value (value: instructions leaving a v128). */
const accumulate = (k: Kit, acc: number, value: number[]): number[] => [...k.chan(acc), ...load(k.chan(acc)), ...value, ...op.f32x4Add, ...op.v128Store];
/** (x − mean)·r, rounded per operation. */
const xhat = (k: Kit, x: number, mean: number, r: number): number[] => [...load(k.elem(x)), ...load(k.chan(mean)), ...op.f32x4Sub, ...load(k.chan(r)), ...op.f32x4Mul];
/** g into v128 local 1: dy, masked where y ≤ 0 (or NaN) for the relu variants. */
const gradient = (k: Kit, dy: number, y: number, relu: boolean): number[] => [
  ...load(k.elem(dy)),
  ...(relu ? [...load(k.elem(y)), ...op.get(k.v(0)), ...op.f32x4Gt, ...op.v128And] : []),
  ...op.set(k.v(1)),
];

function moduleFunctions(): WasmFunction[] {
  const sum = rowsFunction('sum', 4, 0, (k) => accumulate(k, 1, load(k.elem(0))));
  const sqdev = rowsFunction('sqdev', 5, 1, (k) => [
    ...load(k.elem(0)), ...load(k.chan(1)), ...op.f32x4Sub, ...op.set(k.v(0)),
    ...accumulate(k, 2, [...op.get(k.v(0)), ...op.get(k.v(0)), ...op.f32x4Mul]),
  ]);
  const apply = (relu: boolean): WasmFunction =>
    rowsFunction(relu ? 'applyRelu' : 'apply', 7, 1, (k) => [
      ...k.elem(4),
      ...xhat(k, 0, 1, 2), ...load(k.chan(3)), ...op.f32x4Add,
      ...(relu ? [...op.get(k.v(0)), ...op.f32x4Pmax] : []),
      ...op.v128Store,
    ]);
  const gsums = (relu: boolean): WasmFunction =>
    rowsFunction(relu ? 'gsumsRelu' : 'gsums', 9, 2, (k) => [
      ...gradient(k, 1, 2, relu),
      ...accumulate(k, 5, op.get(k.v(1))),
      ...accumulate(k, 6, [...op.get(k.v(1)), ...xhat(k, 0, 3, 4), ...op.f32x4Mul]),
    ]);
  const gin = (relu: boolean): WasmFunction =>
    rowsFunction(relu ? 'ginRelu' : 'gin', 10, 2, (k) => [
      ...gradient(k, 1, 2, relu),
      ...k.elem(7),
      ...op.get(k.v(1)), ...load(k.chan(5)), ...op.f32x4Sub,
      ...xhat(k, 0, 3, 4), ...load(k.chan(6)), ...op.f32x4Mul,
      ...op.f32x4Sub, ...load(k.chan(4)), ...op.f32x4Mul,
      ...op.v128Store,
    ]);
  return [sum, sqdev, apply(false), apply(true), gsums(false), gsums(true), gin(false), gin(true)];
}

/** The SIMD functions bound to this heap, or null where wasm SIMD (or shared memory) will not load. */
export const batchNormSimd = heapModule<Simd>(moduleFunctions);

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
    this.simd = js || this.C % 4 !== 0 || this.heap === null ? null : batchNormSimd(this.heap);
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

/** mean and the biased variance, two passes. */
export function bnStats(b: WasmHeapBackend, x: TensorInfo, js = false): TensorInfo {
  const call = new Call(b, x, js);
  const { C, M, simd } = call;
  const out = b.makeOutput([2, C], 'float32');
  const [acc, mean] = [call.temp(C), call.temp(C)];
  try {
    const rowBytes = 4 * C;
    const sums = blockedSums(call, [acc], (row0, rows) => {
      if (simd !== null) return simd.sum(call.at(x) + row0 * rowBytes, call.at(acc), rows, rowBytes);
      const [xs, a] = [call.view(x), call.view(acc)];
      for (let r = row0; r < row0 + rows; r++) for (let c = 0; c < C; c++) a[c] = f(a[c]! + xs[r * C + c]!);
    })[0]!;
    const m = call.view(mean);
    for (let c = 0; c < C; c++) m[c] = f(sums[c]! / M);
    const devs = blockedSums(call, [acc], (row0, rows) => {
      if (simd !== null) return simd.sqdev(call.at(x) + row0 * rowBytes, call.at(mean), call.at(acc), rows, rowBytes);
      const [xs, a, mu] = [call.view(x), call.view(acc), call.view(mean)];
      for (let r = row0; r < row0 + rows; r++) {
        for (let c = 0; c < C; c++) {
          const d = f(xs[r * C + c]! - mu[c]!);
          a[c] = f(a[c]! + f(d * d));
        }
      }
    })[0]!;
    const o = call.view(out);
    o.set(call.view(mean));
    for (let c = 0; c < C; c++) o[C + c] = f(devs[c]! / M);
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

export function bnGradStats(b: WasmHeapBackend, x: TensorInfo, stats: TensorInfo, dy: TensorInfo, y: TensorInfo | undefined, a: BnAttrs, js = false): TensorInfo[] {
  const call = new Call(b, x, js);
  const { C, simd } = call;
  const relu = a.relu === true;
  if (relu && y === undefined) throw new Error(`${BN_GRAD_STATS}: relu needs the output y`);
  const sums = b.makeOutput([2, C], 'float32');
  const dBeta = b.makeOutput([C], 'float32');
  const [acc0, acc1] = [call.temp(C), call.temp(C)];
  try {
    const [mean, r] = meanAndScale(call, stats, a.epsilon);
    const rowBytes = 4 * C;
    const yy = y ?? dy;
    const [t0, t1] = blockedSums(call, [acc0, acc1], (row0, rows) => {
      const off = row0 * rowBytes;
      if (simd !== null) {
        return (relu ? simd.gsumsRelu : simd.gsums)(call.at(x) + off, call.at(dy) + off, call.at(yy) + off, call.at(mean), call.at(r), call.at(acc0), call.at(acc1), rows, rowBytes);
      }
      const [xs, g, ys, m, rs, a0, a1] = [call.view(x), call.view(dy), relu ? call.view(yy) : null, call.view(mean), call.view(r), call.view(acc0), call.view(acc1)];
      for (let i = row0 * C; i < (row0 + rows) * C; i++) {
        const c = i % C;
        const gi = gradAt(g, ys, i);
        a0[c] = f(a0[c]! + gi);
        a1[c] = f(a1[c]! + f(gi * f(f(xs[i]! - m[c]!) * rs[c]!)));
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
    bnGradStats(backend as unknown as WasmHeapBackend, inputs['x']!, inputs['stats']!, inputs['dy']!, inputs['y'], attrs as unknown as BnAttrs),
  [BN_GRAD_INPUT]: ({ inputs, backend, attrs }) =>
    bnGradInput(backend as unknown as WasmHeapBackend, inputs['x']!, inputs['stats']!, inputs['dy']!, inputs['y'], inputs['sums']!, attrs as unknown as BnAttrs),
};

