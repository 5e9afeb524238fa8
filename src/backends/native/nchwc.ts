// MLAS's fastest convolutions are its NCHWc kernels (channels in blocks of 8 or 16, by CPU), which
// ORT only uses when its graph optimiser can pre-reorder a *constant* filter. Our filters change
// every step, so the graphs call the com.microsoft.nchwc ops directly and reorder the filter with
// a Reshape + Transpose. The block size is not exposed, so a start-up probe tries each candidate
// on a small conv against a JS reference; none matching (other CPUs, other ORT builds) means the
// plain NCHW Conv is used.

import type { OnnxInt64Initializer, OnnxNode } from '../../util/onnx-proto.js';
import { OnnxType, type OnnxGraph } from '../../util/onnx-proto.js';
import type { OrtRuntime } from './ort_runtime.js';

export const NCHWC_DOMAIN = 'com.microsoft.nchwc';
const ints = (value: readonly number[]) => ({ kind: 'ints', value }) as const;
const int = (value: number) => ({ kind: 'int', value }) as const;

/**
 * Nodes turning an ONNX filter input [Co, Ci, kh, kw] (named `w`) into `out`, the blocked
 * OIHWBiBo layout the nchwc Conv expects (declared with the same 4-D shape).
 */
export function blockedFilterNodes(w: string, out: string, co: number, ci: number, kh: number, kw: number, block: number): {
  nodes: OnnxNode[];
  initializers: { name: string; dims: number[]; values: number[] }[];
} {
  return {
    nodes: [
      { op: 'Reshape', inputs: [w, `${out}_s6`], outputs: [`${out}_6`] },
      { op: 'Transpose', inputs: [`${out}_6`], outputs: [`${out}_t`], attrs: { perm: ints([0, 2, 4, 5, 3, 1]) } },
      { op: 'Reshape', inputs: [`${out}_t`, `${out}_s4`], outputs: [out] },
    ],
    initializers: [
      { name: `${out}_s6`, dims: [6], values: [co / block, block, ci / block, block, kh, kw] },
      { name: `${out}_s4`, dims: [4], values: [co, ci, kh, kw] },
    ],
  };
}


/** The nchwc Conv of `input` with the blocked filter `wblk` (bias and ReLU fused), reordered to NHWC `out`. */
function blockedConvToNhwc(
  input: string,
  out: string,
  co: number,
  kh: number,
  kw: number,
  convAttrs: Record<string, ReturnType<typeof ints>>,
  bias: string | null,
  relu: boolean,
  names: { readonly wblk: string; readonly yblk: string } = { wblk: 'wblk', yblk: 'yblk' },
): OnnxNode[] {
  return [
    {
      op: 'Conv',
      domain: NCHWC_DOMAIN,
      inputs: bias === null ? [input, names.wblk] : [input, names.wblk, bias],
      outputs: [names.yblk],
      attrs: { ...convAttrs, kernel_shape: ints([kh, kw]), ...(relu ? { activation: { kind: 'string', value: 'Relu' } as const } : {}) },
    },
    { op: 'ReorderOutput', domain: NCHWC_DOMAIN, inputs: [names.yblk], outputs: [out], attrs: { channels: int(co), channels_last: int(1) } },
  ];
}

/** NHWC `x` → `out` (blocked), for several convs of one input to share (blockedConvNodes). */
export function reorderInputNode(x: string, out: string): OnnxNode {
  return { op: 'ReorderInput', domain: NCHWC_DOMAIN, inputs: [x], outputs: [out], attrs: { channels_last: int(1) } };
}

/**
 * One conv of an input already blocked (`inputBlk`, from reorderInputNode) with filter `wOnnx`
 * (ONNX layout [co, ci, kh, kw]), no bias, to NHWC `out`; its intermediate names start with `tag`,
 * so several can share a graph.
 */
export function blockedConvNodes(
  inputBlk: string,
  wOnnx: string,
  out: string,
  co: number,
  ci: number,
  kh: number,
  kw: number,
  block: number,
  convAttrs: Record<string, ReturnType<typeof ints>>,
  tag: string,
): { nodes: OnnxNode[]; initializers: OnnxInt64Initializer[] } {
  const wblk = `${tag}wblk`;
  const filt = blockedFilterNodes(wOnnx, wblk, co, ci, kh, kw, block);
  return {
    nodes: [...filt.nodes, ...blockedConvToNhwc(inputBlk, out, co, kh, kw, convAttrs, null, false, { wblk, yblk: `${tag}yblk` })],
    initializers: filt.initializers,
  };
}

/**
 * A conv whose input has fewer channels than a block (an RGB input layer): MLAS's NCHWc kernels then
 * read the input as plain NCHW and only the filter's output channels are blocked (OIHWBo), so NHWC x
 * is transposed to NCHW (a few channels: cheap) and the output leaves the blocked layout channels-last.
 */
function narrowInputFilterNodes(x: string, wOnnx: string, co: number, ci: number, kh: number, kw: number, block: number): {
  nodes: OnnxNode[];
  initializers: OnnxInt64Initializer[];
} {
  return {
    nodes: [
      { op: 'Transpose', inputs: [x], outputs: ['xnchw'], attrs: { perm: ints([0, 3, 1, 2]) } },
      { op: 'Reshape', inputs: [wOnnx, 'wo_s5'], outputs: ['wo_5'] },
      { op: 'Transpose', inputs: ['wo_5'], outputs: ['wo_t'], attrs: { perm: ints([0, 2, 3, 4, 1]) } },
      { op: 'Reshape', inputs: ['wo_t', 'wo_s4'], outputs: ['wblk'] },
    ],
    initializers: [
      { name: 'wo_s5', dims: [5], values: [co / block, block, ci, kh, kw] },
      { name: 'wo_s4', dims: [4], values: [co, ci, kh, kw] },
    ],
  };
}

/**
 * NHWC x → blocked conv with filter `wOnnx` (ONNX layout [co, ci, kh, kw]) → NHWC `out`; the
 * reorders read and write channels-last directly, so no separate layout transposes are needed.
 * Fewer input channels than a block take the narrow-input form above.
 */
export function nchwcConvNodes(
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
  if (ci < block && inputChannelsLast) {
    const narrow = narrowInputFilterNodes(x, wOnnx, co, ci, kh, kw, block);
    return { nodes: [...narrow.nodes, ...blockedConvToNhwc('xnchw', out, co, kh, kw, convAttrs, bias, relu)], initializers: narrow.initializers };
  }
  const filt = blockedFilterNodes(wOnnx, 'wblk', co, ci, kh, kw, block);
  return {
    nodes: [
      { op: 'ReorderInput', domain: NCHWC_DOMAIN, inputs: [x], outputs: ['xblk'], attrs: { channels_last: int(inputChannelsLast ? 1 : 0) } },
      ...filt.nodes,
      ...blockedConvToNhwc('xblk', out, co, kh, kw, convAttrs, bias, relu),
    ],
    initializers: filt.initializers,
  };
}

/** The block size whose layout reproduces a reference conv, or null when the ops are unusable. */
export function probeNchwcBlock(rt: OrtRuntime): number | null {
  for (const block of [16, 8]) {
    try {
      if (probe(rt, block)) return block;
    } catch {
      // Unregistered ops or a rejected layout: try the next candidate.
    }
  }
  return null;
}

function probe(rt: OrtRuntime, block: number): boolean {
  const [n, h, w, c, k] = [1, 3, 4, 2 * block, 3];
  const f = OnnxType.float;
  const filt = blockedFilterNodes('wo', 'wb', c, c, k, k, block);
  const model: OnnxGraph = {
    nodes: [
      { op: 'ReorderInput', domain: NCHWC_DOMAIN, inputs: ['x'], outputs: ['xr'], attrs: { channels_last: int(1) } },
      { op: 'Transpose', inputs: ['w'], outputs: ['wo'], attrs: { perm: ints([3, 2, 0, 1]) } },
      ...filt.nodes,
      { op: 'Conv', domain: NCHWC_DOMAIN, inputs: ['xr', 'wb'], outputs: ['yr'], attrs: { pads: ints([1, 1, 1, 1]), kernel_shape: ints([k, k]) } },
      { op: 'ReorderOutput', domain: NCHWC_DOMAIN, inputs: ['yr'], outputs: ['y'], attrs: { channels: int(c), channels_last: int(1) } },
    ],
    initializers: filt.initializers,
    inputs: [
      { name: 'x', type: f, shape: [n, h, w, c] },
      { name: 'w', type: f, shape: [k, k, c, c] },
    ],
    outputs: [{ name: 'y', type: f, shape: [n, h, w, c] }],
  };
  const x = new Float32Array(h * w * c).map((_, i) => ((i * 37) % 11) - 5);
  const wt = new Float32Array(k * k * c * c).map((_, i) => ((i * 53) % 13) - 6);
  const y = new Float32Array(h * w * c);
  const session = rt.createSession(model, 'basic');
  try {
    session.run({ x: { data: x, dims: [n, h, w, c] }, w: { data: wt, dims: [k, k, c, c] } }, { y: { data: y, dims: [n, h, w, c] } });
  } finally {
    session.dispose();
  }
  // Small integers: the float32 result is exact, so compare exactly.
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      for (let co = 0; co < c; co++) {
        let s = 0;
        for (let a = 0; a < k; a++) {
          for (let b = 0; b < k; b++) {
            const ii = i + a - 1;
            const jj = j + b - 1;
            if (ii < 0 || ii >= h || jj < 0 || jj >= w) continue;
            for (let ci = 0; ci < c; ci++) s += (x[(ii * w + jj) * c + ci] as number) * (wt[((a * k + b) * c + ci) * c + co] as number);
          }
        }
        if (y[(i * w + j) * c + co] !== s) return false;
      }
    }
  }
  return true;
}
