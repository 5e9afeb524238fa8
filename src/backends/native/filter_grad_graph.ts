// ONNX graphs for tfjs's Conv2DBackpropFilter (NHWC x, dy → filter [fh, fw, Ci, Co]). Which one
// runs is picked per geometry in conv_kernels.ts from interleaved measurements (profile.ts --compare):
//  * 'transposed-conv': a Conv over the transposed tensors (x as [Ci, N, H, W], dy as the filter
//    [Co, N, OH, OW]), on MLAS's blocked NCHWc kernels when the batch and Co fit the block;
//  * 'tap-gemm': one Gemm per filter tap over a strided Slice of the padded input (NHWC-native);
//  * and, in tap_graph.ts, per-tap Gemms over zero-copy shifted views (stride 1).
// The im2col formulations (expanding x or dy on the heap, then chunked Gemms) are in
// filter_grad_expanded.ts; they replaced an im2col built from ORT Slices and Concats, whose copies
// ran at 1.5–3 GB/s.

import type { ConvGeometry } from './conv_graph.js';
import { blockFits, onnxConvOut } from './conv_graph.js';
import { nchwcConvNodes } from './nchwc.js';
import type { OnnxGraph, OnnxInt64Initializer, OnnxNode } from '../../util/onnx-proto.js';
import { OnnxType } from '../../util/onnx-proto.js';

const f = OnnxType.float;
const ints = (value: readonly number[]) => ({ kind: 'ints', value }) as const;
const int = (value: number) => ({ kind: 'int', value }) as const;

export interface ConvFilterGradSpec {
  readonly kind: 'conv-filter-grad';
  readonly g: ConvGeometry;
  readonly method: 'tap-gemm' | 'transposed-conv';
  /** NCHWc block size for the transposed conv (its channels are the batch), else null. */
  readonly block: number | null;
}

export function convFilterGradGraph(s: ConvFilterGradSpec): OnnxGraph {
  switch (s.method) {
    case 'tap-gemm':
      return tapGemmGraph(s.g);
    case 'transposed-conv':
      return transposedConvGraph(s.g, s.block);
  }
}

/** dW[kh, kw] = slice_{kh,kw}(pad(x))ᵀ · dy, one Gemm per tap, concatenated as [fh·fw·Ci, Co]. */
function tapGemmGraph(g: ConvGeometry): OnnxGraph {
  const [t, l, b, r] = g.pads;
  const rows = g.n * g.oh * g.ow;
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInt64Initializer[] = [
    { name: 'ax', dims: [2], values: [1, 2] },
    { name: 'steps', dims: [2], values: [g.sh, g.sw] },
    { name: 'rows', dims: [2], values: [rows, g.ci] },
  ];
  let src = 'x';
  if (t + l + b + r > 0) {
    initializers.push({ name: 'pads', dims: [8], values: [0, t, l, 0, 0, b, r, 0] });
    nodes.push({ op: 'Pad', inputs: ['x', 'pads'], outputs: ['xp'] });
    src = 'xp';
  }
  const taps: string[] = [];
  for (let kh = 0; kh < g.fh; kh++) {
    for (let kw = 0; kw < g.fw; kw++) {
      const id = `${kh}_${kw}`;
      const h0 = kh * g.dh;
      const w0 = kw * g.dw;
      initializers.push(
        { name: `s${id}`, dims: [2], values: [h0, w0] },
        { name: `e${id}`, dims: [2], values: [h0 + (g.oh - 1) * g.sh + 1, w0 + (g.ow - 1) * g.sw + 1] },
      );
      nodes.push(
        { op: 'Slice', inputs: [src, `s${id}`, `e${id}`, 'ax', 'steps'], outputs: [`x${id}`] },
        { op: 'Reshape', inputs: [`x${id}`, 'rows'], outputs: [`m${id}`] },
        { op: 'Gemm', inputs: [`m${id}`, 'dy'], outputs: [`g${id}`], attrs: { transA: int(1) } },
      );
      taps.push(`g${id}`);
    }
  }
  nodes.push({ op: 'Concat', inputs: taps, outputs: ['dw'], attrs: { axis: int(0) } });
  return {
    nodes,
    initializers,
    inputs: [
      { name: 'x', type: f, shape: [g.n, g.h, g.w, g.ci] },
      { name: 'dy', type: f, shape: [rows, g.co] },
    ],
    outputs: [{ name: 'dw', type: f, shape: [g.fh * g.fw * g.ci, g.co] }],
  };
}

/**
 * dWᵀ[Ci, Co, fh, fw] = Conv(x as [Ci, N, H, W], dy as filter [Co, N, OH, OW]), with the forward
 * stride as dilation; input rows the forward pass never read make the result larger than the
 * filter, and are sliced off.
 */
function transposedConvGraph(g: ConvGeometry, block: number | null): OnnxGraph {
  const [t, l] = g.pads;
  const ph = Math.max(0, g.fh + (g.oh - 1) * g.sh - g.h - t);
  const pw = Math.max(0, g.fw + (g.ow - 1) * g.sw - g.w - l);
  const outH = onnxConvOut(g.h, t, ph, g.oh, 1, g.sh);
  const outW = onnxConvOut(g.w, l, pw, g.ow, 1, g.sw);
  const io = {
    inputs: [
      { name: 'x', type: f, shape: [g.n, g.h, g.w, g.ci] },
      { name: 'dy', type: f, shape: [g.n, g.oh, g.ow, g.co] },
    ],
    outputs: [{ name: 'dw', type: f, shape: [g.fh, g.fw, g.ci, g.co] }],
  };
  if (blockFits(block, g.n, g.co) && outH === g.fh && outW === g.fw) {
    // Blocked kernels: x as an NCHW image batch [Ci, N, H, W] (moving one axis is ORT's fast
    // transpose; [Ci, H, W, N] measured slower), dy as filter [Co, N, OH, OW]; the result comes
    // out channels-last as [Ci, fh, fw, Co].
    const convAttrs = { pads: ints([t, l, ph, pw]), dilations: ints([g.sh, g.sw]) };
    const conv = nchwcConvNodes('xt', 'dyt', 'wcl', g.co, g.n, g.oh, g.ow, block, convAttrs, null, false, false);
    return {
      nodes: [
        { op: 'Transpose', inputs: ['x'], outputs: ['xt'], attrs: { perm: ints([3, 0, 1, 2]) } },
        { op: 'Transpose', inputs: ['dy'], outputs: ['dyt'], attrs: { perm: ints([3, 0, 1, 2]) } },
        ...conv.nodes,
        { op: 'Transpose', inputs: ['wcl'], outputs: ['dw'], attrs: { perm: ints([1, 2, 0, 3]) } },
      ],
      initializers: conv.initializers,
      ...io,
    };
  }
  const nodes: OnnxNode[] = [
    { op: 'Transpose', inputs: ['x'], outputs: ['xt'], attrs: { perm: ints([3, 0, 1, 2]) } },
    { op: 'Transpose', inputs: ['dy'], outputs: ['dyt'], attrs: { perm: ints([3, 0, 1, 2]) } },
    {
      op: 'Conv',
      inputs: ['xt', 'dyt'],
      outputs: ['wt'],
      attrs: { pads: ints([t, l, ph, pw]), dilations: ints([g.sh, g.sw]) },
    },
  ];
  const initializers: OnnxInt64Initializer[] = [];
  let cur = 'wt';
  if (outH !== g.fh || outW !== g.fw) {
    initializers.push(
      { name: 'st', dims: [2], values: [0, 0] },
      { name: 'en', dims: [2], values: [g.fh, g.fw] },
      { name: 'ax', dims: [2], values: [2, 3] },
    );
    nodes.push({ op: 'Slice', inputs: ['wt', 'st', 'en', 'ax'], outputs: ['ws'] });
    cur = 'ws';
  }
  nodes.push({ op: 'Transpose', inputs: [cur], outputs: ['dw'], attrs: { perm: ints([2, 3, 0, 1]) } });
  return { nodes, initializers, ...io };
}
