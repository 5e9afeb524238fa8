// Conv2DBackpropFilter, which tfjs-backend-wasm 4.22 lacks (so training any conv layer throws).
// Written as one forward convolution so XNNPACK (and its threads) do the work:
//   dW[kh,kw,ci,co] = Σ_{n,oh,ow} x[n, oh·s+kh−pT, ow·s+kw−pL, ci] · dy[n,oh,ow,co]
// is a conv of xᵀ[Ci,H,W,N] (batch Ci, channels N) with dyᵀ[OH,OW,N,Co] as the filter, stride 1 and
// dilation = the forward stride, whose [Ci,KH,KW,Co] output is dW up to a transpose.
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { composedKernel, input, type KernelArgs, type Ops } from '../ops.js';

export interface ConvGradAttrs {
  readonly strides: number | [number, number];
  readonly pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  readonly dataFormat: 'NHWC' | 'NCHW';
  readonly dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** A 1×1, stride-1, unpadded conv is a matmul over N·H·W rows: dW = xᵀ·dy. */
function pointwise(ops: Ops, x: TensorInfo, dy: TensorInfo, ci: number, co: number): TensorInfo {
  const rows = x.shape[0]! * x.shape[1]! * x.shape[2]!;
  const x2 = ops.reshape(x, [rows, ci]);
  const dy2 = ops.reshape(dy, [rows, co]);
  const dw = ops.run('BatchMatMul', { a: x2, b: dy2 }, { transposeA: true, transposeB: false });
  const out = ops.reshape(dw, [1, 1, ci, co]);
  ops.dispose(x2, dy2, dw);
  return out;
}

export function conv2dBackpropFilter(ops: Ops, x: TensorInfo, dy: TensorInfo, filterShape: readonly number[], attrs: ConvGradAttrs): TensorInfo {
  if (attrs.dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter on wasm supports NHWC only');
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, inChannels: ci, outChannels: co } = info;
  const { top, left } = info.padInfo;
  if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && top === 0 && left === 0 && info.outHeight === info.inHeight && info.outWidth === info.inWidth) {
    return pointwise(ops, x, dy, ci, co);
  }
  // Padding that makes the conv output exactly KH×KW; negative bottom/right padding means the
  // forward pass never read those rows/columns of x, so they are cut off instead.
  const bottom = kh + (info.outHeight - 1) * sh - info.inHeight - top;
  const right = kw + (info.outWidth - 1) * sw - info.inWidth - left;
  const xt = ops.transpose(x, [3, 1, 2, 0]);
  const h = info.inHeight + Math.min(0, bottom);
  const w = info.inWidth + Math.min(0, right);
  const xc = h < info.inHeight || w < info.inWidth ? ops.slice(xt, [0, 0, 0, 0], [ci, h, w, info.batchSize]) : xt;
  const dyt = ops.transpose(dy, [1, 2, 0, 3]);
  const pad = [[0, 0], [top, Math.max(0, bottom)], [left, Math.max(0, right)], [0, 0]];
  const conv = ops.run('Conv2D', { x: xc, filter: dyt }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [sh, sw] });
  const dw = ops.transpose(conv, [1, 2, 0, 3]);
  ops.dispose(xt, dyt, conv);
  if (xc !== xt) ops.dispose(xc);
  return dw;
}

export function conv2dBackpropFilterConfig(backendName: string): KernelConfig {
  return composedKernel('Conv2DBackpropFilter', backendName, (ops, args: KernelArgs) => {
    const attrs = args.attrs as unknown as ConvGradAttrs & { filterShape: number[] };
    return conv2dBackpropFilter(ops, input(args, 'x'), input(args, 'dy'), attrs.filterShape, attrs);
  });
}
