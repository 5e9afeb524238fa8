// MaxPoolGrad (NHWC) in hand-assembled wasm SIMD, straight on the tfjs wasm heap, four channels per
// instruction. With the forward output y given, a window's gradient goes to the first offset in
// row-major order whose x equals y (the first maximum, the cpu backend's choice among ties):
//   eq = (x == y); first = eq & ~taken; taken |= eq; dx += first & dy
// Adding the masked-out lanes adds +0, which leaves every finite dx bitwise unchanged, so dx is
// bitwise the scalar loop's that adds dy only at each window's maximum, in the same window order.
// Windows are walked output row by output row; a row's windows that lie wholly inside the input run
// as one wasm call, and only border windows are clamped in JS.
// Measured (2 cores, 128×28×28×64, 3×3 stride 2 'same'): see the closing note of this change and
// `npx tsx scripts/profile/native.ts --compare-light`.

import type { HeapMemory, WasmFunction } from '../assemble.js';
import { addTo, heapModule, I32, op, V128, whileBelow } from '../assemble.js';

export interface PoolGeometry {
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly oh: number;
  readonly ow: number;
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  readonly top: number;
  readonly left: number;
}

/** Byte offsets on the heap of x and dx ([n, h, w, c]) and of y and dy ([n, oh, ow, c]). */
export interface PoolOperands {
  readonly x: number;
  readonly y: number;
  readonly dy: number;
  readonly dx: number;
}

/**
 * windows(x, dx, y, dy, count, xStep, cBytes, rowBytes, hn, wn): `count` windows of hn×wn inputs,
 * the first at byte offsets x/dx (window origin) and y/dy (its output); each next window starts
 * xStep bytes further in x/dx and cBytes further in y/dy. cBytes must be a multiple of 16.
 */
type Windows = (x: number, dx: number, y: number, dy: number, count: number, xStep: number, cBytes: number, rowBytes: number, hn: number, wn: number) => void;

// Params 0..9: x, dx, y, dy, count, xStep, cBytes, rowBytes, hn, wn.
// Locals 10: k (window), 11: c (channel byte), 12: i, 13: j, 14: row (byte offset of row i), 15: p
// (byte offset of the window element); 16: y×4, 17: dy×4, 18: taken, 19: eq.
const [X, DX, Y, DY, COUNT, XSTEP, CBYTES, ROWBYTES, HN, WN] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const [K, C, I, J, ROW, P, YV, GV, TAKEN, EQ] = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
const plus = (base: number, offset: number): number[] => [...op.get(base), ...op.get(offset), ...op.i32Add];

function windowsFunction(): WasmFunction {
  const element = [
    ...plus(X, P), ...op.v128Load, ...op.get(YV), ...op.f32x4Eq, ...op.set(EQ),
    ...plus(DX, P),
    ...plus(DX, P), ...op.v128Load,
    ...op.get(EQ), ...op.get(TAKEN), ...op.v128AndNot, ...op.get(GV), ...op.v128And,
    ...op.f32x4Add, ...op.v128Store,
    ...op.get(TAKEN), ...op.get(EQ), ...op.v128Or, ...op.set(TAKEN),
    ...addTo(P, op.get(CBYTES)),
  ];
  const row = [...op.get(ROW), ...op.set(P), ...op.i32(0), ...op.set(J), ...whileBelow(J, WN, element), ...addTo(ROW, op.get(ROWBYTES))];
  const channels = [
    ...plus(Y, C), ...op.v128Load, ...op.set(YV),
    ...plus(DY, C), ...op.v128Load, ...op.set(GV),
    ...op.i32(0), ...op.i32x4Splat, ...op.set(TAKEN),
    ...op.get(C), ...op.set(ROW),
    ...op.i32(0), ...op.set(I),
    ...whileBelow(I, HN, row),
  ];
  const window = [
    ...op.i32(0), ...op.set(C),
    ...whileBelow(C, CBYTES, channels, op.i32(16)),
    ...addTo(X, op.get(XSTEP)), ...addTo(DX, op.get(XSTEP)),
    ...addTo(Y, op.get(CBYTES)), ...addTo(DY, op.get(CBYTES)),
  ];
  return { name: 'windows', params: Array(10).fill(I32), locals: [[6, I32], [4, V128]], code: whileBelow(K, COUNT, window) };
}

const windowsModule = heapModule<{ readonly windows: Windows }>(() => [windowsFunction()]);

/** The SIMD kernel bound to this heap, or null where wasm SIMD (or shared memory) will not load. */
export function maxPoolGradSimd(heap: HeapMemory): Windows | null {
  return windowsModule(heap)?.windows ?? null;
}

/** Whether the SIMD kernel takes this geometry (whole groups of four channels, at least one window). */
export function simdPoolFits(g: PoolGeometry): boolean {
  return g.c % 4 === 0 && g.n * g.oh * g.ow * g.c > 0;
}

/** dx for the whole batch; dx's bytes are zeroed first. Windows wholly in padding receive nothing. */
export function maxPoolGradOnHeap(windows: Windows, heap: HeapMemory, g: PoolGeometry, at: PoolOperands): void {
  const cb = 4 * g.c;
  const rowBytes = g.w * cb;
  new Uint8Array(heap.memory.buffer, at.dx, g.n * g.h * rowBytes).fill(0);
  // Output columns whose windows lie wholly inside the input: [inLo, inHi).
  const inLo = Math.min(g.ow, Math.ceil(g.left / g.sw));
  const inHi = Math.max(inLo, Math.min(g.ow, Math.floor((g.w - g.kw + g.left) / g.sw) + 1));
  for (let n = 0; n < g.n; n++) {
    for (let oy = 0; oy < g.oh; oy++) {
      const r0 = oy * g.sh - g.top;
      const rMin = Math.max(0, r0);
      const hn = Math.min(g.h, r0 + g.kh) - rMin;
      if (hn <= 0) continue;
      const xRow = (n * g.h + rMin) * rowBytes;
      const yRow = ((n * g.oh + oy) * g.ow) * cb;
      const one = (ox: number): void => {
        const c0 = ox * g.sw - g.left;
        const cMin = Math.max(0, c0);
        const wn = Math.min(g.w, c0 + g.kw) - cMin;
        if (wn > 0) windows(at.x + xRow + cMin * cb, at.dx + xRow + cMin * cb, at.y + yRow + ox * cb, at.dy + yRow + ox * cb, 1, 0, cb, rowBytes, hn, wn);
      };
      for (let ox = 0; ox < inLo; ox++) one(ox);
      if (inHi > inLo) {
        const first = (inLo * g.sw - g.left) * cb;
        windows(at.x + xRow + first, at.dx + xRow + first, at.y + yRow + inLo * cb, at.dy + yRow + inLo * cb, inHi - inLo, g.sw * cb, cb, rowBytes, hn, g.kw);
      }
      for (let ox = inHi; ox < g.ow; ox++) one(ox);
    }
  }
}
