// Add, Sub and Multiply on 'webgpu' as recorded dispatches (src/backends/webgpu/kernels/elementwise.ts)
// against the cpu backend: equal shapes, a single-element operand on either side (on the GPU, or still
// on the CPU and passed as a uniform), and the cases left to tfjs (broadcasting, int32, small
// CPU-resident tensors) still right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfType from '@tensorflow/tfjs';
import { randomArray, webgpuOrSkipReason, type Tf } from './helpers.js';

const ready = await webgpuOrSkipReason();
const skip = 'skip' in ready ? ready.skip : false;

interface Case {
  readonly op: 'Add' | 'Sub' | 'Multiply';
  readonly a: readonly number[];
  readonly b: readonly number[];
  readonly dtype?: 'int32';
  /** b is int32 data cast to float32 (which tfjs does by relabelling the int32 data). */
  readonly castB?: boolean;
  /** Whether ours runs it (rather than tfjs's program or its CPU path). */
  readonly ours: boolean;
  /** b is made on the GPU (a sum there), not uploaded from JavaScript. */
  readonly gpuB?: boolean;
  /** Ours passes the single-element operand as a uniform (it is still on the CPU). */
  readonly uniform?: boolean;
}

const CASES: readonly Case[] = [
  { op: 'Add', a: [3, 7, 50], b: [3, 7, 50], ours: true },
  { op: 'Sub', a: [40, 30], b: [], ours: true, uniform: true },
  { op: 'Multiply', a: [1], b: [4, 300], ours: true, uniform: true },
  { op: 'Multiply', a: [128, 10], b: [], ours: true, uniform: true },
  { op: 'Add', a: [128, 10], b: [], gpuB: true, ours: true },
  { op: 'Add', a: [40, 30], b: [30], ours: false }, // broadcast
  { op: 'Add', a: [40, 30], b: [40, 30], dtype: 'int32', ours: false },
  { op: 'Multiply', a: [5, 6], b: [5, 6], ours: false }, // small and on the CPU: tfjs computes it there
  { op: 'Sub', a: [40, 30], b: [40, 30], castB: true, ours: false },
];

const size = (s: readonly number[]): number => s.reduce((x, y) => x * y, 1);

async function run(tf: Tf, backend: 'cpu' | 'webgpu', c: Case, i: number): Promise<{ values: Float32Array | Int32Array; shape: number[]; programs: string }> {
  await tf.setBackend(backend);
  const make = (name: string, shape: readonly number[]): tfType.Tensor => {
    const v = randomArray(i, name, size(shape));
    return c.dtype === 'int32' ? tf.tensor(Int32Array.from(v, (x) => Math.round(x * 100)), [...shape], 'int32') : tf.tensor(v, [...shape]);
  };
  const a = make('a', c.a);
  const b =
    c.castB === true
      ? tf.tidy(() => tf.cast(tf.tensor(Int32Array.from(randomArray(i, 'b', size(c.b)), (x) => Math.round(x * 100)), [...c.b], 'int32'), 'float32'))
      : c.gpuB === true
        ? tf.tidy(() => tf.reshape(tf.sum(tf.fill([4096], 0.375)), [...c.b])) // 1536: exact in any order
        : make('b', c.b);
  let out: tfType.Tensor | undefined;
  // Under tf.profile, tfjs-webgpu names the programs each kernel dispatched (ours record theirs too).
  const info = await tf.profile(() => {
    out = tf.engine().runKernel(c.op, { a, b }) as tfType.Tensor;
  });
  const values = (await out!.data()) as Float32Array | Int32Array;
  const shape = out!.shape;
  tf.dispose([a, b, out!]);
  return { values, shape, programs: info.kernels.map((k) => String(k.extraInfo ?? '')).join(', ') };
}

for (const [i, c] of CASES.entries()) {
  const label = `${c.op} [${c.a}] [${c.b}]${c.dtype === undefined ? '' : ` ${c.dtype}`}`;
  test(`${label} on webgpu equals cpu (${c.ours ? 'ours' : "tfjs's kernel"})`, { skip }, async () => {
    if ('skip' in ready) return;
    const { tf } = ready;
    assert.equal((tf.getKernel(c.op, 'webgpu')?.kernelFunc as { rethink?: boolean } | undefined)?.rethink, true);
    const want = await run(tf, 'cpu', c, i);
    const got = await run(tf, 'webgpu', c, i);
    assert.deepEqual(got.shape, want.shape);
    // One float32 operation per element: bitwise what the cpu computes.
    assert.deepEqual(got.values, want.values);
    assert.equal(/^rethink_binary_[^,]*$/.test(got.programs), c.ours, `programs run: ${got.programs}`);
    assert.equal(got.programs.includes('_uniform'), c.uniform === true, `a CPU scalar as a uniform: ${got.programs}`);
  });
}

test('a recorded kernel refuses int32 data relabelled as float32 instead of reading its bits as floats', { skip }, async () => {
  if ('skip' in ready) return;
  const { tf } = ready;
  await tf.setBackend('webgpu');
  const { DENSE_GRAD } = await import('../../../src/ops/bias_relu.js');
  const x = tf.cast(tf.tensor2d(Int32Array.from({ length: 40 * 30 }, (_, j) => j % 7), [40, 30], 'int32'), 'float32');
  const W = tf.ones([30, 8]);
  const dy = tf.ones([40, 8]);
  assert.throws(() => tf.engine().runKernel(DENSE_GRAD, { x, W, dy }, { relu: false, inputGrad: false }), /input 'x' is stored as int32, the kernel reads f32/);
  tf.dispose([x, W, dy]);
});
