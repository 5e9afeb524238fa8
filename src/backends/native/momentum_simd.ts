// RethinkMomentumUpdate on the 'native' backend as a tiny hand-assembled wasm SIMD module that imports
// the tfjs wasm heap's memory and updates four floats per instruction. The JS loop in momentum_math.ts
// spends ~3 ns per element on Math.fround chains (4 ms for MLP 1x512's 1.2 M weights); wasm's
// f32x4.mul/add/sub are single IEEE float32 operations (no FMA contraction), applied in the same order,
// so the result stays bitwise the composed cpu update. The < 4 trailing elements go through the JS loop.
// Any shape we do not expect (no exported memory, a shared heap, SIMD unsupported) yields null and
// the caller keeps the JS loop.

import { momentumUpdate, type MomentumAttrs } from '../fused/momentum_math.js';

/** (w, v, g, wOut, vOut: byte offsets; bytes: multiple of 16; lr, mu, decay) → writes wOut, vOut. */
type SimdUpdate = (w: number, v: number, g: number, wOut: number, vOut: number, bytes: number, lr: number, mu: number, decay: number) => void;

/** The parts of the WebAssembly API used here (this project's tsconfig has no DOM/WebAssembly lib). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
interface WasmApi {
  readonly Memory: abstract new (...args: never[]) => WasmMemory;
  validate(bytes: Uint8Array): boolean;
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** The heap's WebAssembly.Memory when `x` is one over a plain (unshared) buffer, else null. */
export function plainWasmMemory(x: unknown): WasmMemory | null {
  if (wasmApi === undefined || !(x instanceof wasmApi.Memory)) return null;
  return typeof SharedArrayBuffer !== 'undefined' && x.buffer instanceof SharedArrayBuffer ? null : x;
}

export interface MomentumSimd {
  readonly plain: SimdUpdate;
  readonly decay: SimdUpdate;
}

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
const simd = (op: number): number[] => (op < 0x80 ? [0xfd, op] : [0xfd, (op & 0x7f) | 0x80, op >> 7]);
const V128_LOAD = [...simd(0x00), 0, 0];
const V128_STORE = [...simd(0x0b), 0, 0];
const F32X4_SPLAT = simd(0x13);
const F32X4_ADD = simd(0xe4);
const F32X4_SUB = simd(0xe5);
const F32X4_MUL = simd(0xe6);
const get = (i: number): number[] => [0x20, i];
const set = (i: number): number[] => [0x21, i];
const I32_ADD = [0x6a];

// Params 0..4: w, v, g, wOut, vOut; 5: bytes; 6: lr; 7: mu; 8: decay.
// Locals 9: i (byte offset), 10: mu×4, 11: lr×4, 12: v'×4, 13: decay×4, 14: w×4.
const at = (base: number): number[] => [...get(base), ...get(9), ...I32_ADD];

function body(withDecay: boolean): number[] {
  // v' = v·μ + s, s = g (+ w·λ); stored to vOut, then w' = w − v'·lr to wOut: the op order of momentum_math.ts.
  const s = withDecay
    ? [...at(2), ...V128_LOAD, ...get(14), ...get(13), ...F32X4_MUL, ...F32X4_ADD]
    : [...at(2), ...V128_LOAD];
  const loop = [
    0x02, 0x40, // block
    0x03, 0x40, // loop
    ...get(9), ...get(5), 0x4f, 0x0d, 1, // i >= bytes → break
    ...(withDecay ? [...at(0), ...V128_LOAD, ...set(14)] : []),
    ...at(1), ...V128_LOAD, ...get(10), ...F32X4_MUL, ...s, ...F32X4_ADD, ...set(12),
    ...at(4), ...get(12), ...V128_STORE,
    ...at(3), ...(withDecay ? get(14) : [...at(0), ...V128_LOAD]), ...get(12), ...get(11), ...F32X4_MUL, ...F32X4_SUB, ...V128_STORE,
    ...get(9), 0x41, 16, ...I32_ADD, ...set(9),
    0x0c, 0, // continue
    0x0b, 0x0b, // end loop, end block
  ];
  const code = [
    ...get(7), ...F32X4_SPLAT, ...set(10),
    ...get(6), ...F32X4_SPLAT, ...set(11),
    ...get(8), ...F32X4_SPLAT, ...set(13),
    ...loop,
    0x0b,
  ];
  const locals = [2, 1, I32, 5, V128];
  const fn = [...locals, ...code];
  return [...uleb(fn.length), ...fn];
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

const str = (s: string): number[] => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];

export function momentumSimdModule(): Uint8Array {
  const type = [1, 0x60, 9, I32, I32, I32, I32, I32, I32, F32, F32, F32, 0];
  const imports = [1, ...str('env'), ...str('memory'), 0x02, 0x00, 0x00];
  const funcs = [2, 0, 0];
  const exports = [2, ...str('plain'), 0x00, 0, ...str('decay'), 0x00, 1];
  const code = [2, ...body(false), ...body(true)];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, type),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

/** Instantiates the module on `memory` (synchronously; it is ~300 bytes), or null where wasm SIMD is missing. */
export function instantiateMomentumSimd(memory: WasmMemory): MomentumSimd | null {
  if (wasmApi === undefined) return null;
  try {
    const bytes = momentumSimdModule();
    if (!wasmApi.validate(bytes)) return null;
    const instance = new wasmApi.Instance(new wasmApi.Module(bytes), { env: { memory } });
    const { plain, decay } = instance.exports as unknown as MomentumSimd;
    return { plain, decay };
  } catch {
    return null;
  }
}

/** Byte offsets of the five operands on the heap, all float32 arrays of n elements. */
export interface HeapOperands {
  readonly w: number;
  readonly v: number;
  readonly g: number;
  readonly wOut: number;
  readonly vOut: number;
}

/** The update over n elements: SIMD for the multiple-of-4 prefix, the JS loop for the rest. */
export function momentumUpdateSimd(k: MomentumSimd, memory: WasmMemory, p: HeapOperands, n: number, a: MomentumAttrs): void {
  const n4 = n & ~3;
  const f = Math.fround;
  if (n4 > 0) (a.decay === 0 ? k.plain : k.decay)(p.w, p.v, p.g, p.wOut, p.vOut, 4 * n4, f(a.lr), f(a.momentum), f(a.decay));
  if (n4 === n) return;
  const view = (byteOffset: number): Float32Array => new Float32Array(memory.buffer, byteOffset + 4 * n4, n - n4);
  momentumUpdate(view(p.w), view(p.v), view(p.g), a, view(p.wOut), view(p.vOut));
}
