// RethinkMomentumUpdate on the 'native' backend as a tiny hand-assembled wasm SIMD module that imports
// the tfjs wasm heap's memory and updates four floats per instruction. The JS loop in momentum_math.ts
// spends ~3 ns per element on Math.fround chains (4 ms for MLP 1x512's 1.2 M weights); wasm's
// f32x4.mul/add/sub are single IEEE float32 operations (no FMA contraction), applied in the same order,
// so the result stays bitwise the composed cpu update. The < 4 trailing elements go through the JS loop.
// Any shape we do not expect (no exported memory, a shared heap, SIMD unsupported) yields null and
// the caller keeps the JS loop.

import { momentumUpdate, type MomentumAttrs } from '../../ops/momentum_math.js';
import { assembleModule, F32, I32, instantiate, op, V128, whileBelow, type WasmFunction, type WasmMemory } from '../wasm/assemble.js';

/** (w, v, g, wOut, vOut: byte offsets; bytes: multiple of 16; lr, mu, decay) → writes wOut, vOut. */
type SimdUpdate = (w: number, v: number, g: number, wOut: number, vOut: number, bytes: number, lr: number, mu: number, decay: number) => void;

export { plainWasmMemory, type WasmMemory } from '../wasm/assemble.js';

export interface MomentumSimd {
  readonly plain: SimdUpdate;
  readonly decay: SimdUpdate;
}

// Params 0..4: w, v, g, wOut, vOut; 5: bytes; 6: lr; 7: mu; 8: decay.
// Locals 9: i (byte offset), 10: mu×4, 11: lr×4, 12: v'×4, 13: decay×4, 14: w×4.
const at = (base: number): number[] => [...op.get(base), ...op.get(9), ...op.i32Add];

function update(name: string, withDecay: boolean): WasmFunction {
  // v' = v·μ + s, s = g (+ w·λ); stored to vOut, then w' = w − v'·lr to wOut: the op order of momentum_math.ts.
  const s = withDecay
    ? [...at(2), ...op.v128Load, ...op.get(14), ...op.get(13), ...op.f32x4Mul, ...op.f32x4Add]
    : [...at(2), ...op.v128Load];
  const step = [
    ...(withDecay ? [...at(0), ...op.v128Load, ...op.set(14)] : []),
    ...at(1), ...op.v128Load, ...op.get(10), ...op.f32x4Mul, ...s, ...op.f32x4Add, ...op.set(12),
    ...at(4), ...op.get(12), ...op.v128Store,
    ...at(3), ...(withDecay ? op.get(14) : [...at(0), ...op.v128Load]), ...op.get(12), ...op.get(11), ...op.f32x4Mul, ...op.f32x4Sub, ...op.v128Store,
  ];
  const code = [
    ...op.get(7), ...op.f32x4Splat, ...op.set(10),
    ...op.get(6), ...op.f32x4Splat, ...op.set(11),
    ...op.get(8), ...op.f32x4Splat, ...op.set(13),
    ...whileBelow(9, 5, step, op.i32(16)),
  ];
  return { name, params: [I32, I32, I32, I32, I32, I32, F32, F32, F32], locals: [[1, I32], [5, V128]], code };
}

export function momentumSimdModule(): Uint8Array {
  return assembleModule([update('plain', false), update('decay', true)], false);
}

/** Instantiates the module on `memory` (synchronously; it is ~300 bytes), or null where wasm SIMD is missing. */
export function instantiateMomentumSimd(memory: WasmMemory): MomentumSimd | null {
  const exports = instantiate(momentumSimdModule(), memory);
  if (exports === null) return null;
  const { plain, decay } = exports as unknown as MomentumSimd;
  return { plain, decay };
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
