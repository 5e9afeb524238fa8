// Conv2DBackpropInput on XNNPACK instead of the stock naive loop (≈2 GF/s):
//   dx[n,h,w,ci] = Σ dy[n,oh,ow,co] · W[kh,kw,ci,co]  where h = oh·s + kh − pT
// is a stride-1 conv of dy, zero-dilated by the stride, with the filter flipped in space and its
// channel axes swapped, padded by KH−1−pT on top (and what makes the output H tall below).
// Strided convs go by phases instead (polyphase.ts); dilation remains for the odd negative pad.
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { composedKernel, input, type KernelArgs, type Ops } from '../ops.js';
import type { ConvGradAttrs } from './conv2dBackpropFilter.js';
import { polyphaseBackpropInput } from './polyphase.js';

/** A 1×1, stride-1, unpadded conv is a matmul over N·H·W rows: dx = dy·Wᵀ. */
function pointwise(ops: Ops, dy: TensorInfo, filter: TensorInfo, inputShape: readonly number[]): TensorInfo {
  const [ci, co] = [filter.shape[2]!, filter.shape[3]!];
  const rows = dy.shape[0]! * dy.shape[1]! * dy.shape[2]!;
  const dy2 = ops.reshape(dy, [rows, co]);
  const w2 = ops.reshape(filter, [ci, co]);
  const dx = ops.run('BatchMatMul', { a: dy2, b: w2 }, { transposeA: false, transposeB: true });
  const out = ops.reshape(dx, inputShape);
  ops.dispose(dy2, w2, dx);
  return out;
}

interface Span {
  /** Zero rows before the data, after dilation (may be negative: rows cut off). */
  readonly before: number;
  readonly after: number;
  readonly stride: number;
  /** Rows of dy. */
  readonly n: number;
}

/** Row `r` of the padded, dilated tensor reads dy row `src(r)`, or is zero (-1). */
function src(span: Span, r: number): number {
  const j = r - span.before;
  if (j < 0 || j % span.stride !== 0) return -1;
  const i = j / span.stride;
  return i < span.n ? i : -1;
}

function paddedLength(span: Span): number {
  return span.before + (span.n - 1) * span.stride + 1 + span.after;
}

/**
 * Writes dy zero-dilated and padded (or cropped) into a fresh heap tensor, so a 'valid' conv
 * finishes the job. Only used when XNNPACK's own padding cannot express it (stride > 1, negative
 * padding); the copy is memory-bound and small next to the conv.
 */
function dilateAndPad(ops: Ops, dy: TensorInfo, rows: Span, cols: Span): TensorInfo {
  const [n, , , c] = dy.shape as [number, number, number, number];
  const ph = paddedLength(rows);
  const pw = paddedLength(cols);
  const out = ops.output([n, ph, pw, c]);
  const o = ops.f32(out);
  const d = ops.f32(dy);
  o.fill(0);
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < ph; r++) {
      const sr = src(rows, r);
      if (sr < 0) continue;
      for (let q = 0; q < pw; q++) {
        const sq = src(cols, q);
        if (sq < 0) continue;
        const from = ((b * rows.n + sr) * cols.n + sq) * c;
        o.set(d.subarray(from, from + c), ((b * ph + r) * pw + q) * c);
      }
    }
  }
  return out;
}

export function conv2dBackpropInput(ops: Ops, dy: TensorInfo, filter: TensorInfo, inputShape: readonly number[], attrs: ConvGradAttrs): TensorInfo {
  if (attrs.dataFormat === 'NCHW') throw new Error('Conv2DBackpropInput on wasm supports NHWC only');
  const info = tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  if (kh === 1 && kw === 1 && sh === 1 && sw === 1 && top === 0 && left === 0 && info.outHeight === info.inHeight && info.outWidth === info.inWidth) {
    return pointwise(ops, dy, filter, inputShape);
  }
  if (sh > 1 || sw > 1) {
    const shape = inputShape as [number, number, number, number];
    const dx = polyphaseBackpropInput(ops, dy, filter, { inputShape: shape, stride: [sh, sw], kernel: [kh, kw], padTop: top, padLeft: left });
    if (dx !== undefined) return dx;
  }
  const rows: Span = { before: kh - 1 - top, after: 0, stride: sh, n: info.outHeight };
  const cols: Span = { before: kw - 1 - left, after: 0, stride: sw, n: info.outWidth };
  // Output height of a 'valid' KH conv over the padded rows must be H.
  const fit = (s: Span, k: number, size: number): Span => ({ ...s, after: size + k - 1 - (paddedLength(s) - s.after) });
  const r = fit(rows, kh, info.inHeight);
  const c = fit(cols, kw, info.inWidth);
  const reversed = ops.run('Reverse', { x: filter }, { dims: [0, 1] });
  const flipped = ops.transpose(reversed, [0, 1, 3, 2]);
  ops.dispose(reversed);
  let dx: TensorInfo;
  if (sh === 1 && sw === 1 && r.before >= 0 && r.after >= 0 && c.before >= 0 && c.after >= 0) {
    const pad = [[0, 0], [r.before, r.after], [c.before, c.after], [0, 0]];
    dx = ops.run('Conv2D', { x: dy, filter: flipped }, { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1] });
  } else {
    const padded = dilateAndPad(ops, dy, r, c);
    dx = ops.run('Conv2D', { x: padded, filter: flipped }, { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] });
    ops.dispose(padded);
  }
  ops.dispose(flipped);
  return dx;
}

export function conv2dBackpropInputConfig(backendName: string): KernelConfig {
  return composedKernel('Conv2DBackpropInput', backendName, (ops, args: KernelArgs) => {
    const attrs = args.attrs as unknown as ConvGradAttrs & { inputShape: number[] };
    return conv2dBackpropInput(ops, input(args, 'dy'), input(args, 'filter'), attrs.inputShape, attrs);
  });
}
