// ONNX graph for tfjs's MaxPoolGrad (NHWC): ORT's MaxPool recomputes the argmax of every window
// (first maximum in row-major order, as tfjs's cpu backend picks it) and ScatterElements with
// reduction 'add' routes dy there, summing where overlapping windows share a maximum.

import type { PoolGeometry } from '../wasm/kernels/maxPoolGradSimd.js';
import type { OnnxGraph } from '../../util/onnx-proto.js';
import { OnnxType } from '../../util/onnx-proto.js';

export interface MaxPoolGradSpec extends Omit<PoolGeometry, 'top' | 'left'> {
  readonly kind: 'maxpool-grad';
  /** top, left, bottom, right */
  readonly pads: readonly [number, number, number, number];
}

const f = OnnxType.float;
const ints = (value: readonly number[]) => ({ kind: 'ints', value }) as const;
const int = (value: number) => ({ kind: 'int', value }) as const;

export function maxPoolGradGraph(s: MaxPoolGradSpec): OnnxGraph {
  const total = s.n * s.c * s.h * s.w;
  return {
    nodes: [
      { op: 'Transpose', inputs: ['x'], outputs: ['xt'], attrs: { perm: ints([0, 3, 1, 2]) } },
      {
        op: 'MaxPool',
        inputs: ['xt'],
        outputs: ['pooled', 'idx'],
        attrs: { kernel_shape: ints([s.kh, s.kw]), strides: ints([s.sh, s.sw]), pads: ints(s.pads) },
      },
      { op: 'Reshape', inputs: ['idx', 'flat'], outputs: ['idxf'] },
      { op: 'Transpose', inputs: ['dy'], outputs: ['dyt'], attrs: { perm: ints([0, 3, 1, 2]) } },
      { op: 'Reshape', inputs: ['dyt', 'flat'], outputs: ['dyf'] },
      { op: 'ConstantOfShape', inputs: ['total'], outputs: ['zeros'] },
      {
        op: 'ScatterElements',
        inputs: ['zeros', 'idxf', 'dyf'],
        outputs: ['dxf'],
        attrs: { axis: int(0), reduction: { kind: 'string', value: 'add' } },
      },
      { op: 'Reshape', inputs: ['dxf', 'nchw'], outputs: ['dxt'] },
      { op: 'Transpose', inputs: ['dxt'], outputs: ['dx'], attrs: { perm: ints([0, 2, 3, 1]) } },
    ],
    initializers: [
      { name: 'flat', dims: [1], values: [-1] },
      { name: 'total', dims: [1], values: [total] },
      { name: 'nchw', dims: [4], values: [s.n, s.c, s.h, s.w] },
    ],
    inputs: [
      { name: 'x', type: f, shape: [s.n, s.h, s.w, s.c] },
      { name: 'dy', type: f, shape: [s.n, s.oh, s.ow, s.c] },
    ],
    outputs: [{ name: 'dx', type: f, shape: [s.n, s.h, s.w, s.c] }],
  };
}
