// LRN and LRNGrad across channels (NHWC, TF semantics) in hand-assembled wasm SIMD, straight on the
// tfjs wasm heap, four channels per instruction, one pass over each pixel's channels:
//   norm[c] = bias + α·Σ_{|k−c|≤r} x[k]²,  y[c] = x[c]·norm[c]^−β
//   dx[k]   = dy[k]·norm[k]^−β − 2αβ·x[k]·Σ_{|c−k|≤r} dy[c]·y[c]/norm[c]
// Per pixel the squares (and in the gradient dy·y/norm) go to a scratch row with r zeros on each
// side, so the window sum of channels c..c+3 is 2r+1 unaligned loads from that row, whatever c.
// β = 0.75 and 0.5 only (norm^−β by square roots); other β go to the caller's other path.
// Why by hand: ONNX Runtime runs LRN as a chain of elementwise ops (../../native/lrn_graph.ts) whose
// 6.4 MB intermediates (small AlexNet's first LRN) glibc maps fresh and faults in on every call, and
// that paging was nearly all of its time; this writes only its output. Measured with
// `npx tsx scripts/profile/native.ts --compare --compare-light --models ""`.

import type { HeapMemory, WasmFunction } from '../assemble.js';
import { addTo, F32, heapModule, I32, op, V128, whileBelow } from '../assemble.js';

/** β values the SIMD kernels compute (norm^−β by square roots). */
export type SimdBeta = 0.75 | 0.5;

export const isSimdBeta = (beta: number): beta is SimdBeta => beta === 0.75 || beta === 0.5;

type Lrn = (x: number, y: number, s: number, pixels: number, cBytes: number, tapBytes: number, padBytes: number, bias: number, alpha: number) => void;
type LrnGrad = (
  x: number, y: number, dy: number, dx: number, s1: number, s2: number, s3: number,
  pixels: number, cBytes: number, tapBytes: number, padBytes: number, bias: number, alpha: number, k2ab: number,
) => void;

const plus = (a: number, b: number): number[] => [...op.get(a), ...op.get(b), ...op.i32Add];
const load = (a: number, b: number): number[] => [...plus(a, b), ...op.v128Load];

/** acc = Σ_{d < tapBytes, step 4} load(base + c + d), with i32 locals d and p. */
function windowSum(base: number, c: number, tapBytes: number, d: number, p: number, acc: number): number[] {
  return [
    ...op.i32(0), ...op.i32x4Splat, ...op.set(acc),
    ...plus(base, c), ...op.set(p),
    ...op.i32(0), ...op.set(d),
    ...whileBelow(d, tapBytes, [...op.get(acc), ...load(p, d), ...op.f32x4Add, ...op.set(acc)], op.i32(4)),
  ];
}

/** Pushes norm^−β for the norm in v128 local `v` (`one` holds 1.0 in every lane). */
function negPow(beta: SimdBeta, v: number, one: number): number[] {
  const root = beta === 0.75 ? [...op.get(v), ...op.get(v), ...op.f32x4Sqrt, ...op.f32x4Mul, ...op.f32x4Sqrt] : [...op.get(v), ...op.f32x4Sqrt];
  return [...op.get(one), ...root, ...op.f32x4Div];
}

const splat = (param: number, local: number): number[] => [...op.get(param), ...op.f32x4Splat, ...op.set(local)];
const oneTo = (local: number): number[] => [...op.f32(1), ...op.f32x4Splat, ...op.set(local)];

/** `body` for every group of four channels: c = 0, 16, … below cBytes. */
const overChannels = (c: number, cBytes: number, body: number[]): number[] => [...op.i32(0), ...op.set(c), ...whileBelow(c, cBytes, body, op.i32(16))];

/** row[pad + c] = x[c]², through v128 local `v`: the padded row of squares whose window sums give the norm. */
const squaresInto = (row: number, pad: number, x: number, c: number, v: number): number[] => [
  ...plus(row, pad), ...op.get(c), ...op.i32Add,
  ...load(x, c), ...op.set(v), ...op.get(v), ...op.get(v), ...op.f32x4Mul, ...op.v128Store,
];

/** v = bias + α·acc (all v128 locals): the norm of four channels from their window sums. */
const normInto = (bias: number, alpha: number, acc: number, v: number): number[] => [
  ...op.get(bias), ...op.get(alpha), ...op.get(acc), ...op.f32x4Mul, ...op.f32x4Add, ...op.set(v),
];

function lrnFunction(beta: SimdBeta): WasmFunction {
  // Params: 0 x, 1 y, 2 s, 3 pixels, 4 cBytes, 5 tapBytes, 6 padBytes, 7 bias, 8 alpha.
  // Locals: 9 k, 10 c, 11 d, 12 p; 13 acc, 14 v, 15 biasV, 16 alphaV, 17 one.
  const [X, Y, S, PIXELS, CB, TAPS, PAD, BIAS, ALPHA] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [K, C, D, P, ACC, V, BV, AV, ONE] = [9, 10, 11, 12, 13, 14, 15, 16, 17];
  const outputs = [
    ...windowSum(S, C, TAPS, D, P, ACC),
    ...normInto(BV, AV, ACC, V),
    ...plus(Y, C), ...load(X, C), ...negPow(beta, V, ONE), ...op.f32x4Mul, ...op.v128Store,
  ];
  const pixel = [
    ...overChannels(C, CB, squaresInto(S, PAD, X, C, V)),
    ...overChannels(C, CB, outputs),
    ...addTo(X, op.get(CB)), ...addTo(Y, op.get(CB)),
  ];
  return {
    name: 'lrn',
    params: [I32, I32, I32, I32, I32, I32, I32, F32, F32],
    locals: [[4, I32], [5, V128]],
    code: [...splat(BIAS, BV), ...splat(ALPHA, AV), ...oneTo(ONE), ...whileBelow(K, PIXELS, pixel)],
  };
}

function lrnGradFunction(beta: SimdBeta): WasmFunction {
  // Params: 0 x, 1 y, 2 dy, 3 dx, 4 s1 (squares row), 5 s2 (dy·y/norm row), 6 s3 (norm), 7 pixels,
  // 8 cBytes, 9 tapBytes, 10 padBytes, 11 bias, 12 alpha, 13 k2ab (−2αβ).
  // Locals: 14 k, 15 c, 16 d, 17 p; 18 acc, 19 v, 20 biasV, 21 alphaV, 22 k2abV, 23 one.
  const [X, Y, DY, DX, S1, S2, S3, PIXELS, CB, TAPS, PAD, BIAS, ALPHA, K2AB] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const [K, C, D, P, ACC, V, BV, AV, KV, ONE] = [14, 15, 16, 17, 18, 19, 20, 21, 22, 23];
  const norms = [
    ...windowSum(S1, C, TAPS, D, P, ACC),
    ...normInto(BV, AV, ACC, V),
    ...plus(S3, C), ...op.get(V), ...op.v128Store,
    ...plus(S2, PAD), ...op.get(C), ...op.i32Add,
    ...load(DY, C), ...load(Y, C), ...op.f32x4Mul, ...op.get(V), ...op.f32x4Div, ...op.v128Store,
  ];
  const grads = [
    ...windowSum(S2, C, TAPS, D, P, ACC),
    ...load(S3, C), ...op.set(V),
    ...plus(DX, C),
    ...load(DY, C), ...negPow(beta, V, ONE), ...op.f32x4Mul,
    ...op.get(KV), ...load(X, C), ...op.f32x4Mul, ...op.get(ACC), ...op.f32x4Mul,
    ...op.f32x4Add, ...op.v128Store,
  ];
  const pixel = [
    ...overChannels(C, CB, squaresInto(S1, PAD, X, C, V)),
    ...overChannels(C, CB, norms),
    ...overChannels(C, CB, grads),
    ...addTo(X, op.get(CB)), ...addTo(Y, op.get(CB)), ...addTo(DY, op.get(CB)), ...addTo(DX, op.get(CB)),
  ];
  return {
    name: 'lrnGrad',
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F32, F32, F32],
    locals: [[4, I32], [6, V128]],
    code: [...splat(BIAS, BV), ...splat(ALPHA, AV), ...splat(K2AB, KV), ...oneTo(ONE), ...whileBelow(K, PIXELS, pixel)],
  };
}

const modules = {
  0.75: heapModule<{ readonly lrn: Lrn; readonly lrnGrad: LrnGrad }>(() => [lrnFunction(0.75), lrnGradFunction(0.75)]),
  0.5: heapModule<{ readonly lrn: Lrn; readonly lrnGrad: LrnGrad }>(() => [lrnFunction(0.5), lrnGradFunction(0.5)]),
} as const;

export interface LrnGeometry {
  /** Pixels (N·H·W) and channels, a multiple of 4. */
  readonly pixels: number;
  readonly c: number;
  readonly radius: number;
  readonly bias: number;
  readonly alpha: number;
  readonly beta: SimdBeta;
}

/** Whether the SIMD kernels take this geometry: whole groups of four channels, a β they compute. */
export function simdLrnFits(c: number, radius: number, beta: number): beta is SimdBeta {
  return c > 0 && c % 4 === 0 && Number.isInteger(radius) && radius >= 0 && isSimdBeta(beta);
}

/** Floats of heap scratch the gradient needs (the forward pass uses the first row only). */
export const lrnScratchFloats = (g: LrnGeometry): number => 3 * (g.c + 2 * g.radius);

/**
 * y = LRN(x), or dx = LRNGrad(x, y, dy) when `grad` is given; operands are byte offsets on the heap,
 * `scratch` at least lrnScratchFloats(g) floats. False where the module will not load (nothing written).
 */
export function lrnOnHeap(heap: HeapMemory, g: LrnGeometry, at: { readonly x: number; readonly out: number; readonly scratch: number }, grad?: { readonly y: number; readonly dy: number }): boolean {
  const m = modules[g.beta](heap);
  if (m === null) return false;
  const row = g.c + 2 * g.radius;
  // The pads stay zero: the kernels write only the middle of each padded row.
  new Float32Array(heap.memory.buffer, at.scratch, lrnScratchFloats(g)).fill(0);
  const [cBytes, tapBytes, padBytes] = [4 * g.c, 4 * (2 * g.radius + 1), 4 * g.radius];
  if (grad === undefined) {
    m.lrn(at.x, at.out, at.scratch, g.pixels, cBytes, tapBytes, padBytes, g.bias, g.alpha);
  } else {
    const [s2, s3] = [at.scratch + 4 * row, at.scratch + 8 * row];
    m.lrnGrad(at.x, grad.y, grad.dy, at.out, at.scratch, s2, s3, g.pixels, cBytes, tapBytes, padBytes, g.bias, g.alpha, -2 * g.alpha * g.beta);
  }
  return true;
}
