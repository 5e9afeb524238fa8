// ONNX graphs for TF-style LRN and its gradient over NHWC seen as [pixels, C]. The window sum over
// channels is one MatMul with a constant band matrix (α where |k−c| ≤ r): exact windowed sums,
// multithreaded by MLAS, and the same matrix serves the gradient's second window sum. ONNX's own
// LRN op is single-threaded, wants NCHW and scales α by 1/size, so it is not used.
//   norm = bias + (x²)·band,  y = x·norm^−β
//   dx   = dy·norm^−β − 2β·x·((dy·y/norm)·band)      (α sits inside band)

import type { OnnxGraph, OnnxInt64Initializer, OnnxNode } from '../../util/onnx-proto.js';
import { OnnxType } from '../../util/onnx-proto.js';

export interface LrnSpec {
  readonly kind: 'lrn' | 'lrn-grad';
  /** Pixels (N·H·W) and channels. */
  readonly m: number;
  readonly c: number;
  readonly radius: number;
  readonly bias: number;
  readonly alpha: number;
  readonly beta: number;
}

const f = OnnxType.float;

function band(s: LrnSpec): number[] {
  const out = new Array<number>(s.c * s.c).fill(0);
  for (let k = 0; k < s.c; k++) {
    for (let c = Math.max(0, k - s.radius); c <= Math.min(s.c - 1, k + s.radius); c++) out[k * s.c + c] = s.alpha;
  }
  return out;
}

/** Nodes computing `out` = `norm`^−β; β = 0.75 and 0.5 by square roots (Pow is a scalar loop in ORT). */
function negPow(norm: string, out: string, beta: number): OnnxNode[] {
  if (beta === 0.75) {
    return [
      { op: 'Sqrt', inputs: [norm], outputs: [`${out}_s`] },
      { op: 'Mul', inputs: [norm, `${out}_s`], outputs: [`${out}_n15`] },
      { op: 'Sqrt', inputs: [`${out}_n15`], outputs: [`${out}_n75`] },
      { op: 'Reciprocal', inputs: [`${out}_n75`], outputs: [out] },
    ];
  }
  if (beta === 0.5) {
    return [
      { op: 'Sqrt', inputs: [norm], outputs: [`${out}_s`] },
      { op: 'Reciprocal', inputs: [`${out}_s`], outputs: [out] },
    ];
  }
  return [{ op: 'Pow', inputs: [norm, 'negBeta'], outputs: [out] }];
}

function normNodes(s: LrnSpec): OnnxNode[] {
  return [
    { op: 'Mul', inputs: ['x', 'x'], outputs: ['sq'] },
    { op: 'MatMul', inputs: ['sq', 'band'], outputs: ['wsum'] },
    { op: 'Add', inputs: ['wsum', 'bias'], outputs: ['norm'] },
    ...negPow('norm', 'p', s.beta),
  ];
}

const viaSqrt = (beta: number): boolean => beta === 0.75 || beta === 0.5;

function constants(s: LrnSpec, extra: ReadonlyArray<{ name: string; value: number }>): OnnxInt64Initializer[] {
  // Only what the graph uses: ORT warns about (and drops) unused initializers.
  const scalars = [{ name: 'bias', value: s.bias }, ...(viaSqrt(s.beta) ? [] : [{ name: 'negBeta', value: -s.beta }]), ...extra];
  return [
    { name: 'band', dims: [s.c, s.c], values: band(s), type: f },
    ...scalars.map((k) => ({ name: k.name, dims: [], values: [k.value], type: f })),
  ];
}

export function lrnGraph(s: LrnSpec): OnnxGraph {
  const shape = [s.m, s.c];
  if (s.kind === 'lrn') {
    return {
      nodes: [...normNodes(s), { op: 'Mul', inputs: ['x', 'p'], outputs: ['y'] }],
      initializers: constants(s, []),
      inputs: [{ name: 'x', type: f, shape }],
      outputs: [{ name: 'y', type: f, shape }],
    };
  }
  return {
    nodes: [
      ...normNodes(s),
      { op: 'Mul', inputs: ['dy', 'p'], outputs: ['direct'] },
      { op: 'Mul', inputs: ['dy', 'y'], outputs: ['dyy'] },
      { op: 'Div', inputs: ['dyy', 'norm'], outputs: ['t'] },
      { op: 'MatMul', inputs: ['t', 'band'], outputs: ['tsum'] },
      { op: 'Mul', inputs: ['x', 'tsum'], outputs: ['xt'] },
      { op: 'Mul', inputs: ['xt', 'minus2Beta'], outputs: ['cross'] },
      { op: 'Add', inputs: ['direct', 'cross'], outputs: ['dx'] },
    ],
    initializers: constants(s, [{ name: 'minus2Beta', value: -2 * s.beta }]),
    inputs: [
      { name: 'x', type: f, shape },
      { name: 'y', type: f, shape },
      { name: 'dy', type: f, shape },
    ],
    outputs: [{ name: 'dx', type: f, shape }],
  };
}
