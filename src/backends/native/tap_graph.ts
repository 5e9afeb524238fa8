// Stride-1 filter gradient without im2col: in a padded NHWC input xp [N, Hp, Wp, Ci], flattened to
// rows of Ci, the input pixel that filter tap (kh, kw) meets at output row r is row r + kh·Wp + kw.
// With dy zero-padded to the same [N, Hp, Wp] grid, every tap is then one Gemm over a *shifted view*
// of the same memory: dW[kh, kw] = xp[r + o_k]ᵀ · dyp[r], summed over r. Rows that wrap into the
// padding or the next image meet zeros in dyp. The kernel hands ORT those views (no copies) and
// points each tap's output at its slice of dW, so the only copies are the two pads.

import type { ConvGeometry } from './conv_graph.js';
import type { OnnxGraph, OnnxNode } from '../../util/onnx-proto.js';
import { OnnxType } from '../../util/onnx-proto.js';

export interface PadSpec {
  readonly kind: 'pad-nhwc';
  readonly shape: readonly [number, number, number, number];
  /** top, left, bottom, right */
  readonly pads: readonly [number, number, number, number];
}

export interface TapGemmSpec {
  readonly kind: 'conv-filter-grad-taps';
  readonly g: ConvGeometry;
  readonly layout: TapLayout;
}

export interface TapLayout {
  readonly hp: number;
  readonly wp: number;
  /** Rows every tap's Gemm reduces over. */
  readonly rows: number;
  /** Row offset of each tap, in (kh, kw) order. */
  readonly offsets: readonly number[];
}

const f = OnnxType.float;

/** The padded grid and tap offsets, or null when the geometry is not stride 1. */
export function tapLayout(g: ConvGeometry): TapLayout | null {
  if (g.sh !== 1 || g.sw !== 1 || g.dh !== 1 || g.dw !== 1) return null;
  const [t, l, b, r] = g.pads;
  const hp = g.h + t + b;
  const wp = g.w + l + r;
  if (g.oh + g.fh - 1 > hp || g.ow + g.fw - 1 > wp) return null;
  const offsets: number[] = [];
  for (let kh = 0; kh < g.fh; kh++) for (let kw = 0; kw < g.fw; kw++) offsets.push(kh * wp + kw);
  const rows = g.n * hp * wp - (offsets.at(-1) ?? 0);
  return rows > 0 ? { hp, wp, rows, offsets } : null;
}

export function padGraph(s: PadSpec): OnnxGraph {
  const [n, h, w, c] = s.shape;
  const [t, l, b, r] = s.pads;
  return {
    nodes: [{ op: 'Pad', inputs: ['x', 'pads'], outputs: ['y'] }],
    initializers: [{ name: 'pads', dims: [8], values: [0, t, l, 0, 0, b, r, 0] }],
    inputs: [{ name: 'x', type: f, shape: [n, h, w, c] }],
    outputs: [{ name: 'y', type: f, shape: [n, h + t + b, w + l + r, c] }],
  };
}

export function tapGemmGraph(s: TapGemmSpec): OnnxGraph {
  const { g, layout } = s;
  const nodes: OnnxNode[] = layout.offsets.map((_, k) => ({
    op: 'Gemm',
    inputs: [`x${k}`, 'dy'],
    outputs: [`w${k}`],
    attrs: { transA: { kind: 'int', value: 1 } },
  }));
  return {
    nodes,
    inputs: [
      ...layout.offsets.map((_, k) => ({ name: `x${k}`, type: f, shape: [layout.rows, g.ci] })),
      { name: 'dy', type: f, shape: [layout.rows, g.co] },
    ],
    outputs: layout.offsets.map((_, k) => ({ name: `w${k}`, type: f, shape: [g.ci, g.co] })),
  };
}
