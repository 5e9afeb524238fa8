// RethinkMomentumUpdate on 'native': the wasm backend's update in wasm SIMD on the heap itself
// (momentum_simd.ts; bitwise equal, ~4× faster), or the given fallback (the wasm kernel's JS loop)
// where the heap's Memory is not reachable or is shared.
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { momentumOperands } from '../../ops/momentum_math.js';
import type { WasmHeapLike } from '../wasm/kernels/momentum.js';
import { instantiateMomentumSimd, momentumUpdateSimd, plainWasmMemory, type MomentumSimd, type WasmMemory } from './momentum_simd.js';

/** The SIMD update bound to each heap (one per backend instance), or null where it cannot load. */
const simdByMemory = new WeakMap<WasmMemory, MomentumSimd | null>();

function simdFor(memory: WasmMemory): MomentumSimd | null {
  if (!simdByMemory.has(memory)) simdByMemory.set(memory, instantiateMomentumSimd(memory));
  return simdByMemory.get(memory) ?? null;
}

export function makeMomentumKernel(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const b = args.backend as unknown as WasmHeapLike;
    const memory = plainWasmMemory(b.wasm.asm?.memory);
    const simd = memory === null ? null : simdFor(memory);
    if (memory === null || simd === null) return fallback(args);
    const { w, v, g, attrs } = momentumOperands(args);
    const wOut = b.makeOutput([...w.shape], 'float32');
    const vOut = b.makeOutput([...w.shape], 'float32');
    const at = (t: TensorInfo): number => b.dataIdMap.get(t.dataId)!.memoryOffset;
    const n = w.shape.reduce((a, d) => a * d, 1);
    momentumUpdateSimd(simd, memory, { w: at(w), v: at(v), g: at(g), wOut: at(wOut), vOut: at(vOut) }, n, attrs);
    return [wOut, vOut];
  };
}
