// MaxPoolGrad (NHWC): where the forward output is given and the channels come in fours, the wasm SIMD
// kernel on the heap itself (../wasm/kernels/maxPoolGradSimd.ts: 128×28×28×64, 3×3 stride 2, ≈4×
// faster than the graph below); otherwise ONNX Runtime's MaxPool-with-indices graph (pool_graph.ts);
// geometries neither reproduces go to the previous kernel.

import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { backend_util, util } from '@tensorflow/tfjs';
import { maxPoolGradSimdOn } from '../wasm/kernels/maxPoolGrad.js';
import type { NativeContext } from './native_context.js';
import { runSpec, timed } from './native_context.js';
import type { MaxPoolGradSpec } from './pool_graph.js';
import { flopsOf } from './kernel_spec.js';
import type { WasmBackendLike } from './wasm_heap.js';

interface MaxPoolGradAttrs {
  readonly filterSize: number | [number, number];
  readonly strides: number | [number, number];
  readonly pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  readonly dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const outExtent = (size: number, p0: number, p1: number, k: number, s: number): number => Math.floor((size + p0 + p1 - k) / s) + 1;

export function makeMaxPoolGradKernel(ctx: NativeContext, kernelName: string, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { dy, input, output } = args.inputs as Record<string, TensorInfo | undefined>;
    const attrs = args.attrs as unknown as MaxPoolGradAttrs;
    if (dy === undefined || input === undefined || dy.dtype !== 'float32' || input.dtype !== 'float32' || input.shape.length !== 4) {
      return fallback(args);
    }
    const info = backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      attrs.filterSize,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    const p = info.padInfo;
    const spec: MaxPoolGradSpec = {
      kind: 'maxpool-grad',
      n: info.batchSize,
      h: info.inHeight,
      w: info.inWidth,
      c: info.inChannels,
      oh: info.outHeight,
      ow: info.outWidth,
      kh: info.filterHeight,
      kw: info.filterWidth,
      sh: info.strideHeight,
      sw: info.strideWidth,
      pads: [p.top, p.left, p.bottom, p.right],
    };
    if (dy.shape[1] !== spec.oh || dy.shape[2] !== spec.ow || spec.n * spec.h * spec.w * spec.c === 0) return fallback(args);
    const backend = args.backend as unknown as WasmBackendLike;
    const out = backend.makeOutput(input.shape.slice(), 'float32');
    if (ctx.maxPoolGrad === 'simd' && output !== undefined && output.dtype === 'float32' && util.arraysEqual(output.shape, dy.shape)) {
      const { kind: _, pads, ...geometry } = spec;
      const tensors = { x: input, y: output, dy, dx: out };
      if (timed(ctx, kernelName, flopsOf(spec), () => maxPoolGradSimdOn(backend, { ...geometry, top: pads[0], left: pads[1] }, tensors))) return out;
    }
    // ONNX pooling arithmetic must give tfjs's output extent, and every window must hold a real
    // element (ORT's index would otherwise be -1, which ScatterElements rejects).
    const graphFits =
      outExtent(spec.h, p.top, p.bottom, spec.kh, spec.sh) === spec.oh &&
      outExtent(spec.w, p.left, p.right, spec.kw, spec.sw) === spec.ow &&
      spec.pads.every((v, i) => v >= 0 && v < (i % 2 === 0 ? spec.kh : spec.kw));
    if (!graphFits) {
      backend.disposeData(out.dataId);
      return fallback(args);
    }
    runSpec(ctx, kernelName, backend, spec, { x: { info: input, dims: input.shape }, dy: { info: dy, dims: dy.shape } }, { dx: { info: out, dims: out.shape } });
    return out;
  };
}
