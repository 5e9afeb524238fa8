// SplitV and Concat on the wasm heap: one strided wasm copy per input (or output), each moving one
// contiguous run of every outer row (strided_copy.ts). tfjs-backend-wasm splits with one strided Slice
// per piece, 3–5× slower on Inception's channel splits; ORT's Split and Concat (the graphs below, kept
// for a heap where the wasm copy does not load) copy the channel axis piece by piece. Measured at batch
// 128 (best of 9 interleaved, load ≈ 4), ORT → strided copy: concat 28×28×(32+48) 7.1 → 3.9 ms, split
// 10.1 → 4.8; 14×14×(80+80) concat 5.3 → 1.7, split 5.1 → 2.4; 7×7×(176+160) 1.8 → 0.7, 1.7 → 0.8.
// Small tensors stay on wasm, where a call costs less than ORT's ~10–20 µs.

import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { backend_util, util } from '@tensorflow/tfjs';
import type { NativeContext } from './native_context.js';
import { runSpec, timed } from './native_context.js';
import { heapMemoryOf } from '../wasm/assemble.js';
import { copiesFor } from './strided_copy.js';
import type { OnnxGraph } from '../../util/onnx-proto.js';
import { OnnxType } from '../../util/onnx-proto.js';
import { heapByteOffset, type RunArg, type WasmBackendLike } from './wasm_heap.js';

export interface SplitSpec {
  readonly kind: 'split';
  readonly shape: readonly number[];
  readonly axis: number;
  readonly sizes: readonly number[];
}

export interface ConcatSpec {
  readonly kind: 'concat';
  readonly shapes: ReadonlyArray<readonly number[]>;
  readonly axis: number;
}

/** Below this many elements the wasm kernels are as fast as an ORT call. */
const MIN_ELEMENTS = 1 << 15;
const f = OnnxType.float;

const withAxis = (shape: readonly number[], axis: number, size: number): number[] => shape.map((d, i) => (i === axis ? size : d));

export function splitGraph(s: SplitSpec): OnnxGraph {
  return {
    nodes: [{ op: 'Split', inputs: ['x', 'sizes'], outputs: s.sizes.map((_, i) => `y${i}`), attrs: { axis: { kind: 'int', value: s.axis } } }],
    initializers: [{ name: 'sizes', dims: [s.sizes.length], values: [...s.sizes] }],
    inputs: [{ name: 'x', type: f, shape: s.shape }],
    outputs: s.sizes.map((size, i) => ({ name: `y${i}`, type: f, shape: withAxis(s.shape, s.axis, size) })),
  };
}

export function concatGraph(s: ConcatSpec): OnnxGraph {
  const total = s.shapes.reduce((acc, sh) => acc + (sh[s.axis] as number), 0);
  const first = s.shapes[0] ?? [];
  return {
    nodes: [{ op: 'Concat', inputs: s.shapes.map((_, i) => `x${i}`), outputs: ['y'], attrs: { axis: { kind: 'int', value: s.axis } } }],
    inputs: s.shapes.map((shape, i) => ({ name: `x${i}`, type: f, shape })),
    outputs: [{ name: 'y', type: f, shape: withAxis(first, s.axis, total) }],
  };
}

/** Elements before `axis` (outer rows) and after it (the run each index along `axis` covers). */
function outerInner(shape: readonly number[], axis: number): [number, number] {
  return [util.sizeFromShape(shape.slice(0, axis)), util.sizeFromShape(shape.slice(axis + 1))];
}

export function makeSplitKernel(ctx: NativeContext, kernelName: string, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const x = (args.inputs as Record<string, TensorInfo | undefined>)['x'];
    const attrs = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number | number[] };
    if (x === undefined || x.dtype !== 'float32' || util.sizeFromShape(x.shape) < MIN_ELEMENTS) return fallback(args);
    const axis = util.parseAxisParam(attrs.axis, x.shape)[0] as number;
    const sizes = backend_util.prepareSplitSize(x as never, attrs.numOrSizeSplits, axis);
    if (sizes.length < 2 || sizes.some((s) => s <= 0)) return fallback(args);
    const backend = args.backend as unknown as WasmBackendLike;
    const outs = sizes.map((size) => backend.makeOutput(withAxis(x.shape, axis, size), 'float32'));
    const copies = copiesFor(heapMemoryOf(backend));
    if (copies !== null) {
      // Each output takes one contiguous run of every outer row of x.
      const [outer, inner] = outerInner(x.shape, axis);
      const rowBytes = 4 * inner * (x.shape[axis] as number);
      timed(ctx, kernelName, 0, () => {
        let at = heapByteOffset(backend, x);
        outs.forEach((o, i) => {
          const len = 4 * inner * (sizes[i] as number);
          copies(at, heapByteOffset(backend, o), outer, len, rowBytes, len);
          at += len;
        });
      });
      return outs;
    }
    const outputs: Record<string, RunArg> = {};
    outs.forEach((o, i) => (outputs[`y${i}`] = { info: o, dims: o.shape }));
    runSpec(ctx, kernelName, backend, { kind: 'split', shape: x.shape, axis, sizes }, { x: { info: x, dims: x.shape } }, outputs);
    return outs;
  };
}

export function makeConcatKernel(ctx: NativeContext, kernelName: string, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const xs = Object.values(args.inputs as Record<string, TensorInfo>);
    const first = xs[0];
    const attrs = args.attrs as unknown as { axis: number | number[] };
    if (first === undefined || xs.length < 2 || xs.some((t) => t.dtype !== 'float32' || util.sizeFromShape(t.shape) === 0)) return fallback(args);
    const axis = util.parseAxisParam(attrs.axis, first.shape)[0] as number;
    const shapes = xs.map((t) => t.shape);
    const sameRank = shapes.every((s) => s.length === first.shape.length && s.every((d, i) => i === axis || d === first.shape[i]));
    const outShape = sameRank ? backend_util.computeOutShape(shapes, axis) : null;
    if (outShape === null || util.sizeFromShape(outShape) < MIN_ELEMENTS) return fallback(args);
    const backend = args.backend as unknown as WasmBackendLike;
    const out = backend.makeOutput(outShape, 'float32');
    const copies = copiesFor(heapMemoryOf(backend));
    if (copies !== null) {
      // Every input fills one contiguous run of each outer row of the output.
      const [outer, inner] = outerInner(outShape, axis);
      const rowBytes = 4 * inner * (outShape[axis] as number);
      timed(ctx, kernelName, 0, () => {
        let at = heapByteOffset(backend, out);
        for (const t of xs) {
          const len = 4 * inner * (t.shape[axis] as number);
          copies(heapByteOffset(backend, t), at, outer, len, len, rowBytes);
          at += len;
        }
      });
      return out;
    }
    const inputs: Record<string, RunArg> = {};
    xs.forEach((t, i) => (inputs[`x${i}`] = { info: t, dims: t.shape }));
    runSpec(ctx, kernelName, backend, { kind: 'concat', shapes, axis }, inputs, { y: { info: out, dims: outShape } });
    return out;
  };
}
