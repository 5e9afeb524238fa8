// _FusedMatMul on 'webgpu' as our recorded GEMM (src/backends/webgpu/kernels/matmul.ts) against the cpu
// backend: bias and ReLU in the epilogue, transposed B, rank-3 operands as tf.fused.matMul passes them,
// sizes that do not fill a tile; one dispatch each. Cases it leaves to tfjs still match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfType from '@tensorflow/tfjs';
import { countDispatches, randomArray, relL2, webgpuOrSkipReason, type Tf } from './helpers.js';

const ready = await webgpuOrSkipReason();
const skip = 'skip' in ready ? ready.skip : false;

interface Case {
  readonly name: string;
  readonly a: readonly number[];
  readonly b: readonly number[];
  readonly bias?: number;
  readonly transposeA?: boolean;
  readonly transposeB?: boolean;
  readonly activation: string;
  /** GPU dispatches expected: 1 when ours runs; undefined for tfjs's kernel (not counted). */
  readonly dispatches?: number;
}

const CASES: readonly Case[] = [
  { name: 'dense relu with bias', a: [5, 70], b: [70, 13], bias: 13, activation: 'relu', dispatches: 1 },
  { name: 'logits, linear with bias', a: [37, 130], b: [130, 10], bias: 10, activation: 'linear', dispatches: 1 },
  { name: 'rank 3 as tf.fused.matMul passes it, no bias', a: [2, 3, 9], b: [1, 9, 66], activation: 'linear', dispatches: 1 },
  { name: 'rank-2 A with rank-3 B', a: [4, 9], b: [1, 9, 5], bias: 5, activation: 'relu', dispatches: 1 },
  { name: 'transposed B', a: [6, 17], b: [11, 17], bias: 11, transposeB: true, activation: 'relu', dispatches: 1 },
  { name: 'transposed A (tfjs kernel)', a: [17, 6], b: [17, 11], transposeA: true, activation: 'linear' },
  { name: 'elu (tfjs kernel)', a: [6, 17], b: [17, 11], bias: 11, activation: 'elu' },
];

const size = (s: readonly number[]): number => s.reduce((x, y) => x * y, 1);

async function run(tf: Tf, backend: 'cpu' | 'webgpu', c: Case): Promise<{ values: Float32Array; shape: number[]; dispatches: number }> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const inputs: Record<string, tfType.Tensor> = {
    a: tf.tensor(randomArray(2, `${c.name}/a`, size(c.a)), [...c.a]),
    b: tf.tensor(randomArray(2, `${c.name}/b`, size(c.b)), [...c.b]),
  };
  if (c.bias !== undefined) inputs['bias'] = tf.tensor1d(randomArray(2, `${c.name}/bias`, c.bias));
  const count = backend === 'webgpu' ? countDispatches(tf) : null;
  const attrs = { transposeA: c.transposeA === true, transposeB: c.transposeB === true, activation: c.activation, leakyreluAlpha: 0.2 };
  const out = tf.engine().runKernel('_FusedMatMul', inputs as unknown as tfType.NamedTensorMap, attrs as unknown as tfType.NamedAttrMap) as tfType.Tensor;
  const dispatches = count?.stop() ?? 0;
  const values = (await out.data()) as Float32Array;
  const shape = out.shape;
  tf.dispose([out, ...Object.values(inputs)]);
  assert.equal(tf.memory().numTensors, before, `${c.name} on ${backend} leaked tensors`);
  return { values, shape, dispatches };
}

for (const c of CASES) {
  test(`_FusedMatMul on webgpu matches cpu: ${c.name}`, { skip }, async () => {
    if ('skip' in ready) return;
    const { tf } = ready;
    const kernel = tf.getKernel('_FusedMatMul', 'webgpu')?.kernelFunc as { rethink?: boolean } | undefined;
    assert.equal(kernel?.rethink, true, '_FusedMatMul on webgpu is ours');
    const want = await run(tf, 'cpu', c);
    const got = await run(tf, 'webgpu', c);
    assert.deepEqual(got.shape, want.shape);
    const err = relL2(got.values, want.values);
    assert.ok(err <= 1e-6, `relative L2 error ${err}`);
    if (c.dispatches !== undefined) assert.equal(got.dispatches, c.dispatches, 'one recorded GEMM');
  });
}
