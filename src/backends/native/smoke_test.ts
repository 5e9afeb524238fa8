// A start-up check that the internal binding still behaves as the kernels assume: inputs read in
// place from a plain ArrayBuffer at a non-zero offset, and outputs written into preallocated memory.

import { OnnxType, type OnnxGraph } from '../../util/onnx-proto.js';
import type { OrtRuntime } from './ort_runtime.js';

/** Returns null when the runtime passes, else what went wrong. */
export function smokeTestRuntime(rt: OrtRuntime): string | null {
  const f = OnnxType.float;
  const model: OnnxGraph = {
    nodes: [{ op: 'Gemm', inputs: ['a', 'b', 'c'], outputs: ['y'], attrs: { transB: { kind: 'int', value: 1 } } }],
    inputs: [
      { name: 'a', type: f, shape: [2, 3] },
      { name: 'b', type: f, shape: [2, 3] },
      { name: 'c', type: f, shape: [2] },
    ],
    outputs: [{ name: 'y', type: f, shape: [2, 2] }],
  };
  const session = rt.createSession(model, 'basic');
  try {
    const heap = new ArrayBuffer(256);
    const a = new Float32Array(heap, 16, 6);
    const b = new Float32Array(heap, 48, 6);
    const c = new Float32Array(heap, 80, 2);
    const y = new Float32Array(heap, 96, 4);
    a.set([1, 2, 3, 4, 5, 6]);
    b.set([1, 0, -1, 2, 1, 0]);
    c.set([0.5, -0.5]);
    y.fill(Number.NaN);
    session.run({ a: { data: a, dims: [2, 3] }, b: { data: b, dims: [2, 3] }, c: { data: c, dims: [2] } }, { y: { data: y, dims: [2, 2] } });
    const want = [-1.5, 3.5, -1.5, 12.5];
    const got = Array.from(y);
    return got.every((v, i) => v === want[i]) ? null : `Gemm gave [${got.join(', ')}], want [${want.join(', ')}]`;
  } finally {
    session.dispose();
  }
}
