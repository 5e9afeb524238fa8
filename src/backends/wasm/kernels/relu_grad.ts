// RethinkReluGrad: a ReLU layer's gradient, dz = dy where y > 0 else 0, in one pass. tfjs's own Relu
// gradient is dy·step(y): two kernels, two passes over the activations and an intermediate as large
// (small Inception: 19 Step + 19 Multiply calls a step, up to 38 MB each). Registered for the
// backends whose tensors live on a tfjs wasm heap ('wasm', 'native'), where it runs as a hand-
// assembled wasm SIMD loop, four floats per instruction (JS for the < 4 trailing elements, or all of
// them where SIMD will not load). The value equals dy·step(y) except for two corner cases: where y
// is NaN dz is 0 (not NaN), and where y ≤ 0 dz is +0 (dy·0 is −0 for negative dy).

import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { HeapMemory, WasmFunction, WasmHeapBackend } from '../assemble.js';
import { heapMemoryOf, heapModule, I32, op, V128, whileBelow } from '../assemble.js';

/** (dy, y, dz: byte offsets; bytes: a multiple of 16) → writes dz. */
type Simd = (dy: number, y: number, dz: number, bytes: number) => void;

// Params 0..3: dy, y, dz, bytes; locals 4: i (byte offset), 5: zero×4.
function maskFunction(): WasmFunction {
  const at = (base: number): number[] => [...op.get(base), ...op.get(4), ...op.i32Add];
  const step = [...at(2), ...at(0), ...op.v128Load, ...at(1), ...op.v128Load, ...op.get(5), ...op.f32x4Gt, ...op.v128And, ...op.v128Store];
  return { name: 'mask', params: [I32, I32, I32, I32], locals: [[1, I32], [1, V128]], code: [...op.i32(0), ...op.i32x4Splat, ...op.set(5), ...whileBelow(4, 3, step, op.i32(16))] };
}

const maskModule = heapModule<{ readonly mask: Simd }>(() => [maskFunction()]);

/** The SIMD loop bound to this heap, or null where wasm SIMD (or shared memory) will not load. */
export function reluGradSimd(heap: HeapMemory): Simd | null {
  return maskModule(heap)?.mask ?? null;
}

/** Kernel function of RethinkReluGrad on a wasm-heap backend: inputs dy, y; output dz. */
export const reluGradKernel: KernelFunc = (args) => {
  const { dy, y } = args.inputs as Record<string, TensorInfo>;
  const b = args.backend as unknown as WasmHeapBackend;
  const out = b.makeOutput(dy!.shape.slice(), 'float32');
  const n = dy!.shape.reduce((a, d) => a * d, 1);
  const at = (t: TensorInfo): number => b.dataIdMap.get(t.dataId)!.memoryOffset;
  const heap = heapMemoryOf(b);
  const simd = heap === null ? null : reluGradSimd(heap);
  const n4 = simd === null ? 0 : n & ~3;
  if (n4 > 0) simd!(at(dy!), at(y!), at(out), 4 * n4);
  if (n4 < n) {
    // Views after makeOutput: growing the heap detaches earlier ones.
    const buffer = heap?.memory.buffer ?? b.wasm.HEAPU8.buffer;
    const view = (t: TensorInfo): Float32Array => new Float32Array(buffer, at(t) + 4 * n4, n - n4);
    const [g, a, z] = [view(dy!), view(y!), view(out)];
    for (let i = 0; i < z.length; i++) z[i] = a[i]! > 0 ? g[i]! : 0;
  }
  return out;
};
