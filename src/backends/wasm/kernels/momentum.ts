// RethinkMomentumUpdate for the backends whose tensors live on a tfjs wasm heap ('wasm', and 'native'
// where its SIMD form cannot load): the update of ops/momentum_math.ts over views of the heap.
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { momentumOperands, momentumUpdate } from '../../../ops/momentum_math.js';

/** What the kernel needs of a tfjs-backend-wasm backend (or one built on its heap). */
export interface WasmHeapLike {
  readonly wasm: {
    readonly HEAPU8: Uint8Array;
    readonly wasmMemory?: { readonly buffer: ArrayBufferLike };
    /** The emscripten module's exports; `memory` is the heap's WebAssembly.Memory. */
    readonly asm?: { readonly memory?: unknown };
  };
  readonly dataIdMap: { get(id: unknown): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
}

export const wasmMomentumKernel: KernelFunc = (args) => {
  const { w, v, g, attrs } = momentumOperands(args);
  const b = args.backend as unknown as WasmHeapLike;
  const wOut = b.makeOutput([...w.shape], 'float32');
  const vOut = b.makeOutput([...w.shape], 'float32');
  const heap = b.wasm.wasmMemory?.buffer ?? b.wasm.HEAPU8.buffer;
  const n = w.shape.reduce((a, d) => a * d, 1);
  const view = (t: TensorInfo): Float32Array => new Float32Array(heap, b.dataIdMap.get(t.dataId)!.memoryOffset, n);
  momentumUpdate(view(w), view(v), view(g), attrs, view(wOut), view(vOut));
  return [wOut, vOut];
};
