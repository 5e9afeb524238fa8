// LRN and LRNGrad (NHWC, across channels, TF semantics). Where the channels come in fours and β is
// 0.75 or 0.5 (the small AlexNet's LRN), the wasm SIMD kernels on the heap itself
// (../wasm/kernels/lrnSimd.ts): one pass, no intermediates. Otherwise ONNX Runtime's graph
// (lrn_graph.ts), run over row chunks whose intermediates glibc keeps on its heap instead of mapping
// and faulting them in afresh on every call. Other cases (non-4-D, non-float, tiny tensors where an
// ORT call costs more than the JS loop, very many channels) go to the wasm kernels.

import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { util } from '@tensorflow/tfjs';
import { heapMemoryOf } from '../wasm/assemble.js';
import { lrnOnHeap, lrnScratchFloats, simdLrnFits, type LrnGeometry } from '../wasm/kernels/lrnSimd.js';
import type { LrnSpec } from './lrn_graph.js';
import type { NativeContext } from './native_context.js';
import { runSpec, timed } from './native_context.js';
import { heapByteOffset, type WasmBackendLike } from './wasm_heap.js';

interface LrnAttrs {
  readonly depthRadius: number;
  readonly bias: number;
  readonly alpha: number;
  readonly beta: number;
}

/** Below this many elements the wasm kernel is about as fast as an ORT call. */
const MIN_ELEMENTS = 1 << 14;
/** The band MatMul costs 2·C FLOPs per element: past this the wasm kernel's O(1) window sums win. */
const MAX_CHANNELS = 256;
/**
 * Rows per graph run: 1 MiB per intermediate. The graph holds about seven of them; at 6.4 MB each
 * (128×14×14×64) glibc returned them to the kernel after every call and the next call faulted them
 * in again, ≈ 1,600 page faults a call on this VM (≈ 10 µs each), nearly all of the call's time.
 */
const CHUNK_BYTES = 1 << 20;

function attrsOk(x: TensorInfo, attrs: LrnAttrs): boolean {
  const { depthRadius: radius, bias, alpha, beta } = attrs;
  return x.dtype === 'float32' && x.shape.length === 4 && Number.isInteger(radius) && radius >= 0 && [bias, alpha, beta].every(Number.isFinite);
}

function specOf(kind: LrnSpec['kind'], x: TensorInfo, attrs: LrnAttrs): LrnSpec | null {
  if (!attrsOk(x, attrs) || util.sizeFromShape(x.shape) < MIN_ELEMENTS) return null;
  const c = x.shape[3] as number;
  if (c > MAX_CHANNELS) return null;
  const { depthRadius: radius, bias, alpha, beta } = attrs;
  return { kind, m: util.sizeFromShape(x.shape) / c, c, radius, bias, alpha, beta };
}

/** The graph runs of `spec`: consecutive row ranges of near-equal size, each with its element offset. */
export function lrnChunks(spec: LrnSpec): Array<{ readonly spec: LrnSpec; readonly offset: number }> {
  const rows = Math.max(1, Math.floor(CHUNK_BYTES / (4 * spec.c)));
  const size = Math.ceil(spec.m / Math.ceil(spec.m / rows));
  const out = [];
  for (let m0 = 0; m0 < spec.m; m0 += size) out.push({ spec: { ...spec, m: Math.min(size, spec.m - m0) }, offset: m0 * spec.c });
  return out;
}

/** The SIMD kernels' geometry when they take `x` with these attributes (and ctx lets them), else null. */
function simdGeometry(ctx: NativeContext, x: TensorInfo, attrs: LrnAttrs): LrnGeometry | null {
  if (ctx.lrn !== 'simd' || !attrsOk(x, attrs)) return null;
  const c = x.shape[3] as number;
  const { depthRadius: radius, bias, alpha, beta } = attrs;
  if (!simdLrnFits(c, radius, beta)) return null;
  return { pixels: util.sizeFromShape(x.shape) / c, c, radius, bias, alpha, beta };
}

/** Runs the SIMD kernel into `out`; false (nothing written) where the heap module will not load. */
function runSimd(ctx: NativeContext, kernelName: string, backend: WasmBackendLike, g: LrnGeometry, x: TensorInfo, out: TensorInfo, grad?: { y: TensorInfo; dy: TensorInfo }): boolean {
  const heap = heapMemoryOf(backend);
  if (heap === null) return false;
  // Allocated before any offset is read: makeOutput may grow (and so replace) the heap.
  const scratch = backend.makeOutput([lrnScratchFloats(g)], 'float32');
  try {
    const at = { x: heapByteOffset(backend, x), out: heapByteOffset(backend, out), scratch: heapByteOffset(backend, scratch) };
    const g2 = grad === undefined ? undefined : { y: heapByteOffset(backend, grad.y), dy: heapByteOffset(backend, grad.dy) };
    return timed(ctx, kernelName, 0, () => lrnOnHeap(heap, g, at, g2));
  } finally {
    backend.disposeData(scratch.dataId);
  }
}

export function makeLrnKernel(ctx: NativeContext, kernelName: string, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const x = (args.inputs as Record<string, TensorInfo | undefined>)['x'];
    if (x === undefined) return fallback(args);
    const attrs = args.attrs as unknown as LrnAttrs;
    const backend = args.backend as unknown as WasmBackendLike;
    const g = simdGeometry(ctx, x, attrs);
    if (g !== null) {
      const out = backend.makeOutput(x.shape.slice(), 'float32');
      if (runSimd(ctx, kernelName, backend, g, x, out)) return out;
      backend.disposeData(out.dataId);
    }
    const spec = specOf('lrn', x, attrs);
    if (spec === null) return fallback(args);
    const out = backend.makeOutput(x.shape.slice(), 'float32');
    for (const { spec: s, offset } of lrnChunks(spec)) {
      const dims = [s.m, s.c];
      runSpec(ctx, kernelName, backend, s, { x: { info: x, dims, offset } }, { y: { info: out, dims, offset } });
    }
    return out;
  };
}

export function makeLrnGradKernel(ctx: NativeContext, kernelName: string, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { x, y, dy } = args.inputs as Record<string, TensorInfo | undefined>;
    const same = (t: TensorInfo | undefined): t is TensorInfo =>
      t !== undefined && t.dtype === 'float32' && x !== undefined && util.arraysEqual(t.shape, x.shape);
    if (x === undefined || !same(y) || !same(dy)) return fallback(args);
    const attrs = args.attrs as unknown as LrnAttrs;
    const backend = args.backend as unknown as WasmBackendLike;
    const g = simdGeometry(ctx, x, attrs);
    if (g !== null) {
      const out = backend.makeOutput(x.shape.slice(), 'float32');
      if (runSimd(ctx, kernelName, backend, g, x, out, { y, dy })) return out;
      backend.disposeData(out.dataId);
    }
    const spec = specOf('lrn-grad', x, attrs);
    if (spec === null) return fallback(args);
    const out = backend.makeOutput(x.shape.slice(), 'float32');
    for (const { spec: s, offset } of lrnChunks(spec)) {
      const dims = [s.m, s.c];
      runSpec(ctx, kernelName, backend, s, { x: { info: x, dims, offset }, y: { info: y, dims, offset }, dy: { info: dy, dims, offset } }, { dx: { info: out, dims, offset } });
    }
    return out;
  };
}
