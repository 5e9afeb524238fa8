// The input gradient of a strided conv as sh·sw stride-1 convs on MLAS's blocked (NCHWc) kernels, one
// per output phase, instead of one ConvTranspose. Along one axis (stride s, filter f, top pad t), the
// input rows i·s + r of phase r receive only the taps kh ≡ r + t (mod s):
//   dx[i·s + r] = Σ_m dy[i + c − m] · w[k0 + s·m],   k0 = (r + t) mod s,  c = (r + t − k0) / s,
// a stride-1 correlation of dy with the phase's taps in reverse order. Every product is a real one
// (ConvTranspose's are too, but MLAS runs it as a Gemm plus a col2im scatter). The s·s phase outputs
// are interleaved by two Concats and a Reshape. Measured against ConvTranspose (batch 128, best of 7
// interleaved rounds, load ≈ 3, `scripts/profile/inception-convs.ts --only dxph` as it was then):
// small Inception's 3×3/2 80→80 @28 35.6 → 26.1 ms, 3×3/2 144→96 @14 22.1 → 12.8 ms.

import type { OnnxGraph, OnnxInt64Initializer, OnnxNode } from '../../util/onnx-proto.js';
import { OnnxType } from '../../util/onnx-proto.js';
import type { ConvGeometry } from './conv_graph.js';
import { blockedConvNodes, reorderInputNode } from './nchwc.js';

/** One phase along one axis: the filter taps it uses (in conv order) and the stride-1 conv's pads. */
interface AxisPhase {
  /** Filter indices, in the order the stride-1 conv applies them. */
  readonly taps: readonly number[];
  readonly padBegin: number;
  readonly padEnd: number;
}

/**
 * The phases of one axis (input size, output size, filter, stride, leading pad), or null when the
 * decomposition does not apply here: the input is not a whole number of strides, a phase gets no
 * tap (filter smaller than the stride), or a phase's conv would need a negative pad.
 */
export function axisPhases(size: number, out: number, f: number, s: number, t: number): AxisPhase[] | null {
  if (size % s !== 0) return null;
  const rows = size / s;
  const phases: AxisPhase[] = [];
  for (let r = 0; r < s; r++) {
    const k0 = (((r + t) % s) + s) % s;
    const m = Math.ceil((f - k0) / s);
    if (m < 1) return null;
    const c = (r + t - k0) / s;
    const padBegin = m - 1 - c;
    const padEnd = rows + m - 1 - padBegin - out;
    if (padBegin < 0 || padEnd < 0) return null;
    phases.push({ taps: Array.from({ length: m }, (_, j) => k0 + s * (m - 1 - j)), padBegin, padEnd });
  }
  return phases;
}

/** Whether the phase decomposition covers this strided geometry (dilation 1, both axes). */
export function phasesApply(g: ConvGeometry): boolean {
  const [t, l] = g.pads;
  return (
    (g.sh > 1 || g.sw > 1) &&
    g.dh === 1 &&
    g.dw === 1 &&
    axisPhases(g.h, g.oh, g.fh, g.sh, t) !== null &&
    axisPhases(g.w, g.ow, g.fw, g.sw, l) !== null
  );
}

const f = OnnxType.float;
const ints = (value: readonly number[]) => ({ kind: 'ints', value }) as const;
const int = (value: number) => ({ kind: 'int', value }) as const;
/** Slice's end for a negative step that runs through index 0 (clamped to "before the first"). */
const BEFORE_FIRST = -(2 ** 53) + 1;

/**
 * dx [N, H, W, Ci] from dy [N, OH, OW, Co] and the filter w [fh, fw, Ci, Co] (tfjs), with Co and Ci
 * whole NCHWc blocks of `block`. The caller checks phasesApply(g) first.
 */
export function phaseInputGradGraph(g: ConvGeometry, block: number): OnnxGraph {
  const [t, l] = g.pads;
  const rowPhases = axisPhases(g.h, g.oh, g.fh, g.sh, t)!;
  const colPhases = axisPhases(g.w, g.ow, g.fw, g.sw, l)!;
  const [rows, cols] = [g.h / g.sh, g.w / g.sw];
  const nodes: OnnxNode[] = [
    reorderInputNode('dy', 'dyblk'),
    // [Ci, Co, fh, fw]: the ONNX filter of the convs from Co channels to Ci, before the tap slices.
    { op: 'Transpose', inputs: ['w'], outputs: ['wt'], attrs: { perm: ints([2, 3, 0, 1]) } },
  ];
  const initializers: OnnxInt64Initializer[] = [
    { name: 'axes', dims: [2], values: [2, 3] },
    { name: 'steps', dims: [2], values: [-g.sh, -g.sw] },
    { name: 'cell', dims: [6], values: [g.n, rows, 1, cols, 1, g.ci] },
    { name: 'dxshape', dims: [4], values: [g.n, g.h, g.w, g.ci] },
  ];
  const rowParts: string[] = [];
  rowPhases.forEach((ph, r) => {
    const colParts: string[] = [];
    colPhases.forEach((pw, c) => {
      const tag = `p${r}_${c}_`;
      // The taps in conv order are a reversed, strided run of the filter: one Slice with negative steps.
      const [firstH, lastH] = [ph.taps[0]!, ph.taps.at(-1)!];
      const [firstW, lastW] = [pw.taps[0]!, pw.taps.at(-1)!];
      initializers.push(
        { name: `${tag}starts`, dims: [2], values: [firstH, firstW] },
        { name: `${tag}ends`, dims: [2], values: [lastH > 0 ? lastH - 1 : BEFORE_FIRST, lastW > 0 ? lastW - 1 : BEFORE_FIRST] },
      );
      nodes.push({ op: 'Slice', inputs: ['wt', `${tag}starts`, `${tag}ends`, 'axes', 'steps'], outputs: [`${tag}w`] });
      const pads = ints([ph.padBegin, pw.padBegin, ph.padEnd, pw.padEnd]);
      const conv = blockedConvNodes('dyblk', `${tag}w`, `${tag}y`, g.ci, g.co, ph.taps.length, pw.taps.length, block, { pads }, tag);
      nodes.push(...conv.nodes, { op: 'Reshape', inputs: [`${tag}y`, 'cell'], outputs: [`${tag}cell`] });
      initializers.push(...conv.initializers);
      colParts.push(`${tag}cell`);
    });
    // [N, rows, 1, cols, sw, Ci]: the phases of one input row interleaved along the columns.
    const row = `r${r}`;
    nodes.push({ op: 'Concat', inputs: colParts, outputs: [row], attrs: { axis: int(4) } });
    rowParts.push(row);
  });
  nodes.push(
    { op: 'Concat', inputs: rowParts, outputs: ['dx6'], attrs: { axis: int(2) } },
    { op: 'Reshape', inputs: ['dx6', 'dxshape'], outputs: ['dx'] },
  );
  return {
    nodes,
    initializers,
    inputs: [
      { name: 'dy', type: f, shape: [g.n, g.oh, g.ow, g.co] },
      { name: 'w', type: f, shape: [g.fh, g.fw, g.ci, g.co] },
    ],
    outputs: [{ name: 'dx', type: f, shape: [g.n, g.h, g.w, g.ci] }],
  };
}
