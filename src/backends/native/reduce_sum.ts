// Sum and Mean over a prefix of the axes (bias gradients, batch-norm statistics) on ONNX Runtime, in one
// multithreaded pass over the wasm heap. Rows are reduced in two stages ([a, b, cols] → axis 1 →
// axis 0, b ≈ √rows) so float32 accumulation error grows like rows^¼, not rows. Other reductions
// and small tensors go to the previous (wasm) kernel.

import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { util } from '@tensorflow/tfjs';
import type { NativeContext } from './native_context.js';
import { runSpec } from './native_context.js';
import type { OnnxGraph } from '../../util/onnx-proto.js';
import { OnnxType } from '../../util/onnx-proto.js';
import type { WasmBackendLike } from './wasm_heap.js';

export interface SumRowsSpec {
  readonly kind: 'sum-rows';
  /** rows = a·b */
  readonly a: number;
  readonly b: number;
  readonly cols: number;
  /** Mean instead of sum. */
  readonly mean: boolean;
}

/** Below this many elements the wasm kernel is about as fast as an ORT call. */
const MIN_ELEMENTS = 1 << 15;
const f = OnnxType.float;

export function sumRowsGraph(s: SumRowsSpec): OnnxGraph {
  const keep = { keepdims: { kind: 'int', value: 0 } } as const;
  return {
    nodes: [
      { op: 'ReduceSum', inputs: ['x', 'axis1'], outputs: ['partial'], attrs: keep },
      { op: 'ReduceSum', inputs: ['partial', 'axis0'], outputs: [s.mean ? 'sum' : 'y'], attrs: keep },
      ...(s.mean ? [{ op: 'Mul', inputs: ['sum', 'invRows'], outputs: ['y'] }] : []),
    ],
    initializers: [
      { name: 'axis1', dims: [1], values: [1] },
      { name: 'axis0', dims: [1], values: [0] },
      ...(s.mean ? [{ name: 'invRows', dims: [], values: [1 / (s.a * s.b)], type: f }] : []),
    ],
    inputs: [{ name: 'x', type: f, shape: [s.a, s.b, s.cols] }],
    outputs: [{ name: 'y', type: f, shape: [s.cols] }],
  };
}

/** The largest divisor of n that is at most √n. */
function innerFactor(n: number): number {
  for (let d = Math.floor(Math.sqrt(n)); d > 1; d--) if (n % d === 0) return d;
  return 1;
}

/** How many leading axes `axis` names, if exactly a proper prefix of the axes; else 0. */
function leadingAxes(axis: number | number[], shape: readonly number[]): number {
  const axes = [...new Set(util.parseAxisParam(axis, [...shape]))].sort((p, q) => p - q);
  return axes.every((v, i) => v === i) && axes.length < shape.length ? axes.length : 0;
}

/** Sum or Mean (batch-norm statistics) over leading axes. */
export function makeSumKernel(ctx: NativeContext, kernelName: string, fallback: KernelFunc): KernelFunc {
  const mean = kernelName === 'Mean';
  return (args) => {
    const x = (args.inputs as Record<string, TensorInfo | undefined>)['x'];
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    if (x === undefined || x.dtype !== 'float32' || util.sizeFromShape(x.shape) < MIN_ELEMENTS) return fallback(args);
    const lead = leadingAxes(axis, x.shape);
    if (lead === 0) return fallback(args);
    const rows = util.sizeFromShape(x.shape.slice(0, lead));
    const rest = x.shape.slice(lead);
    const cols = util.sizeFromShape(rest);
    const b = innerFactor(rows);
    const backend = args.backend as unknown as WasmBackendLike;
    const out = backend.makeOutput(keepDims ? [...x.shape.slice(0, lead).map(() => 1), ...rest] : rest, 'float32');
    runSpec(ctx, kernelName, backend, { kind: 'sum-rows', a: rows / b, b, cols, mean }, { x: { info: x, dims: [rows / b, b, cols] } }, { y: { info: out, dims: [cols] } });
    return out;
  };
}
