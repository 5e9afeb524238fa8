// LRN and LRNGrad (NHWC, across channels, TF semantics) on ONNX Runtime; other cases (non-4-D,
// non-float, tiny tensors where an ORT call costs more than the JS loop, very many channels) go to
// the wasm kernels.

import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { util } from '@tensorflow/tfjs';
import type { LrnSpec } from './lrn_graph.js';
import type { NativeContext } from './native_context.js';
import { runSpec } from './native_context.js';
import type { WasmBackendLike } from './wasm_heap.js';

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

function specOf(kind: LrnSpec['kind'], x: TensorInfo, attrs: LrnAttrs): LrnSpec | null {
  const { depthRadius: radius, bias, alpha, beta } = attrs;
  if (x.dtype !== 'float32' || x.shape.length !== 4 || util.sizeFromShape(x.shape) < MIN_ELEMENTS) return null;
  if (!Number.isInteger(radius) || radius < 0 || ![bias, alpha, beta].every(Number.isFinite)) return null;
  const c = x.shape[3] as number;
  if (c > MAX_CHANNELS) return null;
  return { kind, m: util.sizeFromShape(x.shape) / c, c, radius, bias, alpha, beta };
}

export function makeLrnKernel(ctx: NativeContext, kernelName: string, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const x = (args.inputs as Record<string, TensorInfo | undefined>)['x'];
    const spec = x === undefined ? null : specOf('lrn', x, args.attrs as unknown as LrnAttrs);
    if (x === undefined || spec === null) return fallback(args);
    const backend = args.backend as unknown as WasmBackendLike;
    const out = backend.makeOutput(x.shape.slice(), 'float32');
    const dims = [spec.m, spec.c];
    runSpec(ctx, kernelName, backend, spec, { x: { info: x, dims } }, { y: { info: out, dims } });
    return out;
  };
}

export function makeLrnGradKernel(ctx: NativeContext, kernelName: string, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { x, y, dy } = args.inputs as Record<string, TensorInfo | undefined>;
    const spec = x === undefined ? null : specOf('lrn-grad', x, args.attrs as unknown as LrnAttrs);
    const same = (t: TensorInfo | undefined): t is TensorInfo =>
      t !== undefined && t.dtype === 'float32' && x !== undefined && util.arraysEqual(t.shape, x.shape);
    if (x === undefined || spec === null || !same(y) || !same(dy)) return fallback(args);
    const backend = args.backend as unknown as WasmBackendLike;
    const out = backend.makeOutput(x.shape.slice(), 'float32');
    const dims = [spec.m, spec.c];
    runSpec(ctx, kernelName, backend, spec, { x: { info: x, dims }, y: { info: y, dims }, dy: { info: dy, dims } }, { dx: { info: out, dims } });
    return out;
  };
}
