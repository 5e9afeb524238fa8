// ONNX graphs for tfjs's NHWC convolutions and their two gradients. ONNX Conv is NCHW, so the
// layout change happens inside the graph (ORT's Transpose is much faster than a copy in JS).
// Which formulation each gradient uses was chosen by measurement (see profile.ts):
//  * dx, stride 1: a plain Conv with the spatially flipped, in/out-swapped filter (≈2× faster than
//    ConvTranspose here); strided: ConvTranspose.
//  * dW, 16+ input channels: one Gemm per filter tap over a strided Slice of the padded input
//    (NHWC-native, no layout change); fewer (the RGB layer): a Conv over the transposed tensors
//    (x as [Ci, N, H, W], dy as the filter). Chunked im2col and zero-copy shifted views
//    (tap_graph.ts) measured slower here and stay selectable for tuning on other machines.

import { NCHWC_DOMAIN, blockedFilterNodes } from './nchwc.js';
import type { OnnxGraph, OnnxInt64Initializer, OnnxNode } from './onnx_proto.js';
import { OnnxType } from './onnx_proto.js';

/** The fields of tfjs's Conv2DInfo that the graphs read (NHWC, filter [fh, fw, Ci, Co]). */
export interface ConvGeometry {
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly ci: number;
  readonly oh: number;
  readonly ow: number;
  readonly co: number;
  readonly fh: number;
  readonly fw: number;
  readonly sh: number;
  readonly sw: number;
  readonly dh: number;
  readonly dw: number;
  /** Padding: top, left, bottom, right. */
  readonly pads: readonly [number, number, number, number];
}

export interface ConvForwardSpec {
  readonly kind: 'conv-forward';
  readonly g: ConvGeometry;
  /** Bias shape: [Co] goes into Conv's B input; any other shape is added in NHWC. */
  readonly bias: readonly number[] | null;
  readonly relu: boolean;
  /** NCHWc block size when MLAS's blocked kernels apply (see nchwc.ts), else null. */
  readonly block: number | null;
}

export interface ConvInputGradSpec {
  readonly kind: 'conv-input-grad';
  readonly g: ConvGeometry;
  readonly block: number | null;
}

export interface ConvFilterGradSpec {
  readonly kind: 'conv-filter-grad';
  readonly g: ConvGeometry;
  readonly method: 'tap-gemm' | 'transposed-conv' | 'im2col-chunks';
  /** NCHWc block size for the transposed conv (its channels are the batch), else null. */
  readonly block: number | null;
}

const f = OnnxType.float;
const ints = (value: readonly number[]) => ({ kind: 'ints', value }) as const;
const int = (value: number) => ({ kind: 'int', value }) as const;
const TO_NCHW = ints([0, 3, 1, 2]);
const TO_NHWC = ints([0, 2, 3, 1]);

/** Output extent of an ONNX conv along one axis. */
export function onnxConvOut(size: number, padBegin: number, padEnd: number, k: number, stride: number, dil: number): number {
  return Math.floor((size + padBegin + padEnd - ((k - 1) * dil + 1)) / stride) + 1;
}

/** Whether ONNX's conv arithmetic reproduces tfjs's output extent (it may not with dimRoundingMode). */
export function geometryMatches(g: ConvGeometry): boolean {
  const [t, l, b, r] = g.pads;
  return (
    onnxConvOut(g.h, t, b, g.fh, g.sh, g.dh) === g.oh &&
    onnxConvOut(g.w, l, r, g.fw, g.sw, g.dw) === g.ow &&
    g.pads.every((p) => p >= 0)
  );
}

function renameLastOutput(nodes: OnnxNode[], name: string): OnnxNode[] {
  const last = nodes[nodes.length - 1];
  if (last !== undefined) nodes[nodes.length - 1] = { ...last, outputs: [name] };
  return nodes;
}

/** Whether the NCHWc kernels take a conv from `ci` to `co` channels with this block size. */
export function blockFits(block: number | null, ci: number, co: number): block is number {
  return block !== null && ci % block === 0 && co % block === 0;
}

/**
 * NHWC x → blocked conv with filter `wOnnx` (ONNX layout [co, ci, kh, kw]) → NHWC `out`; the
 * reorders read and write channels-last directly, so no separate layout transposes are needed.
 */
function nchwcConvNodes(
  x: string,
  wOnnx: string,
  out: string,
  co: number,
  ci: number,
  kh: number,
  kw: number,
  block: number,
  convAttrs: Record<string, ReturnType<typeof ints>>,
  bias: string | null,
  relu: boolean,
  inputChannelsLast = true,
): { nodes: OnnxNode[]; initializers: OnnxInt64Initializer[] } {
  const filt = blockedFilterNodes(wOnnx, 'wblk', co, ci, kh, kw, block);
  return {
    nodes: [
      { op: 'ReorderInput', domain: NCHWC_DOMAIN, inputs: [x], outputs: ['xblk'], attrs: { channels_last: int(inputChannelsLast ? 1 : 0) } },
      ...filt.nodes,
      {
        op: 'Conv',
        domain: NCHWC_DOMAIN,
        inputs: bias === null ? ['xblk', 'wblk'] : ['xblk', 'wblk', bias],
        outputs: ['yblk'],
        attrs: { ...convAttrs, kernel_shape: ints([kh, kw]), ...(relu ? { activation: { kind: 'string', value: 'Relu' } as const } : {}) },
      },
      { op: 'ReorderOutput', domain: NCHWC_DOMAIN, inputs: ['yblk'], outputs: [out], attrs: { channels: int(co), channels_last: int(1) } },
    ],
    initializers: filt.initializers,
  };
}

export function convForwardGraph(s: ConvForwardSpec): OnnxGraph {
  const { g } = s;
  const [t, l, b, r] = g.pads;
  const biasInConv = s.bias !== null && s.bias.length === 1 && s.bias[0] === g.co;
  if (blockFits(s.block, g.ci, g.co)) {
    // Relu fuses into the conv only when nothing (a broadcast bias) comes between them.
    const fuseRelu = s.relu && (s.bias === null || biasInConv);
    const conv = nchwcConvNodes(
      'x', 'wt', 'y0', g.co, g.ci, g.fh, g.fw, s.block,
      { pads: ints([t, l, b, r]), strides: ints([g.sh, g.sw]), dilations: ints([g.dh, g.dw]) },
      biasInConv ? 'bias' : null, fuseRelu,
    );
    const nodes: OnnxNode[] = [{ op: 'Transpose', inputs: ['w'], outputs: ['wt'], attrs: { perm: ints([3, 2, 0, 1]) } }, ...conv.nodes];
    let cur = 'y0';
    if (s.bias !== null && !biasInConv) {
      nodes.push({ op: 'Add', inputs: [cur, 'bias'], outputs: ['y1'] });
      cur = 'y1';
    }
    if (s.relu && !fuseRelu) nodes.push({ op: 'Relu', inputs: [cur], outputs: ['y2'] });
    return {
      nodes: renameLastOutput(nodes, 'y'),
      initializers: conv.initializers,
      inputs: convForwardInputs(s),
      outputs: [{ name: 'y', type: f, shape: [g.n, g.oh, g.ow, g.co] }],
    };
  }
  const nodes: OnnxNode[] = [
    { op: 'Transpose', inputs: ['x'], outputs: ['xt'], attrs: { perm: TO_NCHW } },
    { op: 'Transpose', inputs: ['w'], outputs: ['wt'], attrs: { perm: ints([3, 2, 0, 1]) } },
    {
      op: 'Conv',
      inputs: biasInConv ? ['xt', 'wt', 'bias'] : ['xt', 'wt'],
      outputs: ['yt'],
      attrs: { pads: ints([t, l, b, r]), strides: ints([g.sh, g.sw]), dilations: ints([g.dh, g.dw]) },
    },
    { op: 'Transpose', inputs: ['yt'], outputs: ['y0'], attrs: { perm: TO_NHWC } },
  ];
  let cur = 'y0';
  if (s.bias !== null && !biasInConv) {
    nodes.push({ op: 'Add', inputs: [cur, 'bias'], outputs: ['y1'] });
    cur = 'y1';
  }
  if (s.relu) nodes.push({ op: 'Relu', inputs: [cur], outputs: ['y2'] });
  return {
    nodes: renameLastOutput(nodes, 'y'),
    inputs: convForwardInputs(s),
    outputs: [{ name: 'y', type: f, shape: [g.n, g.oh, g.ow, g.co] }],
  };
}

function convForwardInputs(s: ConvForwardSpec): OnnxGraph['inputs'] {
  const { g } = s;
  return [
    { name: 'x', type: f, shape: [g.n, g.h, g.w, g.ci] },
    { name: 'w', type: f, shape: [g.fh, g.fw, g.ci, g.co] },
    ...(s.bias === null ? [] : [{ name: 'bias', type: f, shape: s.bias }]),
  ];
}

export function convInputGradGraph(s: ConvInputGradSpec): OnnxGraph {
  const { g } = s;
  const [t, l, b, r] = g.pads;
  const inputs = [
    { name: 'dy', type: f, shape: [g.n, g.oh, g.ow, g.co] },
    { name: 'w', type: f, shape: [g.fh, g.fw, g.ci, g.co] },
  ];
  const outputs = [{ name: 'dx', type: f, shape: [g.n, g.h, g.w, g.ci] }];
  const head: OnnxNode = { op: 'Transpose', inputs: ['dy'], outputs: ['dyt'], attrs: { perm: TO_NCHW } };
  const tail: OnnxNode = { op: 'Transpose', inputs: ['dxt'], outputs: ['dx'], attrs: { perm: TO_NHWC } };
  const flip = flippedConvPads(g);
  if (flip !== null) {
    // dx = full correlation of dy with the flipped filter, as a stride-1 Conv.
    const initializers: OnnxInt64Initializer[] = [
      { name: 'st', dims: [2], values: [-1, -1] },
      { name: 'en', dims: [2], values: [-(2 ** 53) + 1, -(2 ** 53) + 1] },
      { name: 'ax', dims: [2], values: [2, 3] },
      { name: 'sp', dims: [2], values: [-1, -1] },
    ];
    const flipNodes: OnnxNode[] = [
      { op: 'Transpose', inputs: ['w'], outputs: ['wt'], attrs: { perm: ints([2, 3, 0, 1]) } },
      { op: 'Slice', inputs: ['wt', 'st', 'en', 'ax', 'sp'], outputs: ['wf'] },
    ];
    if (blockFits(s.block, g.co, g.ci)) {
      const conv = nchwcConvNodes('dy', 'wf', 'dx', g.ci, g.co, g.fh, g.fw, s.block, { pads: ints(flip) }, null, false);
      return { nodes: [...flipNodes, ...conv.nodes], inputs, outputs, initializers: [...initializers, ...conv.initializers] };
    }
    return {
      nodes: [head, ...flipNodes, { op: 'Conv', inputs: ['dyt', 'wf'], outputs: ['dxt'], attrs: { pads: ints(flip) } }, tail],
      inputs,
      outputs,
      initializers,
    };
  }
  const outPad = [g.h - ((g.oh - 1) * g.sh + g.fh - t - b), g.w - ((g.ow - 1) * g.sw + g.fw - l - r)];
  return {
    nodes: [
      head,
      { op: 'Transpose', inputs: ['w'], outputs: ['wt'], attrs: { perm: ints([3, 2, 0, 1]) } },
      {
        op: 'ConvTranspose',
        inputs: ['dyt', 'wt'],
        outputs: ['dxt'],
        attrs: { pads: ints([t, l, b, r]), strides: ints([g.sh, g.sw]), output_padding: ints(outPad) },
      },
      tail,
    ],
    inputs,
    outputs,
  };
}

/** Pads of the stride-1 flipped-filter conv that computes dx, or null when it does not apply. */
function flippedConvPads(g: ConvGeometry): [number, number, number, number] | null {
  if (g.sh !== 1 || g.sw !== 1 || g.dh !== 1 || g.dw !== 1) return null;
  const [t, l] = g.pads;
  const pt = g.fh - 1 - t;
  const pl = g.fw - 1 - l;
  const pb = g.h + g.fh - 1 - g.oh - pt;
  const pr = g.w + g.fw - 1 - g.ow - pl;
  return [pt, pl, pb, pr].every((p) => p >= 0) ? [pt, pl, pb, pr] : null;
}

/** Whether ConvTranspose's output_padding is valid for this geometry (it must lie in [0, stride)). */
export function inputGradSupported(g: ConvGeometry): boolean {
  if (g.dh !== 1 || g.dw !== 1) return false;
  if (flippedConvPads(g) !== null) return true;
  const [t, l, b, r] = g.pads;
  const oph = g.h - ((g.oh - 1) * g.sh + g.fh - t - b);
  const opw = g.w - ((g.ow - 1) * g.sw + g.fw - l - r);
  return oph >= 0 && oph < g.sh && opw >= 0 && opw < g.sw;
}

export function convFilterGradGraph(s: ConvFilterGradSpec): OnnxGraph {
  switch (s.method) {
    case 'tap-gemm':
      return tapGemmGraph(s.g);
    case 'transposed-conv':
      return transposedConvGraph(s.g, s.block);
    case 'im2col-chunks':
      return im2colChunksGraph(s.g);
  }
}

/** At most this many batch chunks per graph, so a big batch does not make a huge graph. */
const MAX_CHUNKS = 64;

/**
 * dW = Σ over batch chunks of colsᵀ · dy, with cols the im2col matrix of a chunk of 2+ images
 * ([rows, fh·fw·Ci], tap-major like tfjs's filter) built by strided Slices + Concat, and the sum
 * carried in Gemm's C input, so a chunk's cols stay in cache and the Gemm has M = fh·fw·Ci.
 */
function im2colChunksGraph(g: ConvGeometry): OnnxGraph {
  const [t, l, b, r] = g.pads;
  const perImage = g.oh * g.ow;
  const chunk = Math.max(2, Math.ceil(g.n / MAX_CHUNKS));
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInt64Initializer[] = [
    { name: 'ax3', dims: [3], values: [0, 1, 2] },
    { name: 'ax0', dims: [1], values: [0] },
    { name: 'steps', dims: [3], values: [1, g.sh, g.sw] },
  ];
  let src = 'x';
  if (t + l + b + r > 0) {
    initializers.push({ name: 'pads', dims: [8], values: [0, t, l, 0, 0, b, r, 0] });
    nodes.push({ op: 'Pad', inputs: ['x', 'pads'], outputs: ['xp'] });
    src = 'xp';
  }
  let acc = '';
  for (let n0 = 0, c = 0; n0 < g.n; n0 += chunk, c++) {
    const n1 = Math.min(g.n, n0 + chunk);
    const taps: string[] = [];
    for (let kh = 0; kh < g.fh; kh++) {
      for (let kw = 0; kw < g.fw; kw++) {
        const id = `${c}_${kh}_${kw}`;
        const h0 = kh * g.dh;
        const w0 = kw * g.dw;
        initializers.push(
          { name: `s${id}`, dims: [3], values: [n0, h0, w0] },
          { name: `e${id}`, dims: [3], values: [n1, h0 + (g.oh - 1) * g.sh + 1, w0 + (g.ow - 1) * g.sw + 1] },
        );
        nodes.push({ op: 'Slice', inputs: [src, `s${id}`, `e${id}`, 'ax3', 'steps'], outputs: [`t${id}`] });
        taps.push(`t${id}`);
      }
    }
    const rows = (n1 - n0) * perImage;
    initializers.push(
      { name: `shape${c}`, dims: [2], values: [rows, g.fh * g.fw * g.ci] },
      { name: `ds${c}`, dims: [1], values: [n0 * perImage] },
      { name: `de${c}`, dims: [1], values: [n1 * perImage] },
    );
    nodes.push(
      { op: 'Concat', inputs: taps, outputs: [`cat${c}`], attrs: { axis: int(3) } },
      { op: 'Reshape', inputs: [`cat${c}`, `shape${c}`], outputs: [`cols${c}`] },
      { op: 'Slice', inputs: ['dy', `ds${c}`, `de${c}`, 'ax0'], outputs: [`dy${c}`] },
    );
    const out = n1 === g.n ? 'dw' : `acc${c}`;
    nodes.push({
      op: 'Gemm',
      inputs: acc === '' ? [`cols${c}`, `dy${c}`] : [`cols${c}`, `dy${c}`, acc],
      outputs: [out],
      attrs: { transA: int(1) },
    });
    acc = out;
  }
  return {
    nodes,
    initializers,
    inputs: [
      { name: 'x', type: f, shape: [g.n, g.h, g.w, g.ci] },
      { name: 'dy', type: f, shape: [g.n * perImage, g.co] },
    ],
    outputs: [{ name: 'dw', type: f, shape: [g.fh * g.fw * g.ci, g.co] }],
  };
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
