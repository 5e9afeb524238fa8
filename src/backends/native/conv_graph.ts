// ONNX graphs for tfjs's NHWC convolutions and their two gradients. ONNX Conv is NCHW, so the
// layout change happens inside the graph (ORT's Transpose is much faster than a copy in JS).
// Which formulation each gradient uses was chosen by measurement (see profile.ts):
//  * forward, and dx at stride 1 (a Conv with the spatially flipped, in/out-swapped filter, ≈2×
//    faster than ConvTranspose here): MLAS's blocked NCHWc kernels when the channel counts fit
//    the block (nchwc.ts; they read and write NHWC directly), else Transpose + NCHW Conv;
//  * dx at larger strides: one stride-1 blocked conv per output phase when the channel counts fit
//    the block (conv_input_grad_phases.ts), else ConvTranspose.
//  * dW: see filter_grad_graph.ts.

import { nchwcConvNodes } from './nchwc.js';
import { phaseInputGradGraph, phasesApply } from './conv_input_grad_phases.js';
import type { OnnxGraph, OnnxInt64Initializer, OnnxNode } from '../../util/onnx-proto.js';
import { OnnxType } from '../../util/onnx-proto.js';

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


const f = OnnxType.float;
const ints = (value: readonly number[]) => ({ kind: 'ints', value }) as const;
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

/** Whether the NCHWc kernels take a conv from fewer than a block of input channels to whole blocks. */
export function narrowInputFits(block: number | null, ci: number, co: number): block is number {
  return block !== null && ci < block && co % block === 0;
}

/** Whether the NCHWc kernels take a conv from `ci` to `co` channels with this block size. */
export function blockFits(block: number | null, ci: number, co: number): block is number {
  return block !== null && ci % block === 0 && co % block === 0;
}

export function convForwardGraph(s: ConvForwardSpec): OnnxGraph {
  const { g } = s;
  const [t, l, b, r] = g.pads;
  const biasInConv = s.bias !== null && s.bias.length === 1 && s.bias[0] === g.co;
  const narrow = narrowInputFits(s.block, g.ci, g.co);
  if (blockFits(s.block, g.ci, g.co) || narrow) {
    // Relu fuses into the conv only when nothing (a broadcast bias) comes between them.
    const fuseRelu = s.relu && (s.bias === null || biasInConv);
    const convAttrs = { pads: ints([t, l, b, r]), strides: ints([g.sh, g.sw]), dilations: ints([g.dh, g.dw]) };
    const conv = nchwcConvNodes('x', 'wt', 'y0', g.co, g.ci, g.fh, g.fw, s.block!, convAttrs, biasInConv ? 'bias' : null, fuseRelu);
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
  if (blockFits(s.block, g.co, g.ci) && phasesApply(g)) return phaseInputGradGraph(g, s.block);
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
