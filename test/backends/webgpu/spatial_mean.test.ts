// The global average pool on 'webgpu' (src/backends/webgpu/kernels/spatial_mean.ts): Mean over an NHWC
// tensor's height and width, and its gradient, one recorded dispatch each, against the cpu backend;
// other Means still go to tfjs and stay right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfType from '@tensorflow/tfjs';
import { randomArray, recordPipelineLabels, relL2, webgpuOrSkipReason, type Tf } from './helpers.js';

const ready = await webgpuOrSkipReason();
const skip = 'skip' in ready ? ready.skip : false;

const size = (s: readonly number[]): number => s.reduce((x, y) => x * y, 1);

interface Run {
  readonly y: Float32Array;
  readonly yShape: number[];
  readonly dx: Float32Array;
  /** Labels of the pipelines the forward pass and the gradient ran ('' for tfjs's programs). */
  readonly forward: string[];
  readonly backward: string[];
}

/** mean(x, axis) and the gradient of Σ mean·w on `backend`. */
async function run(tf: Tf, backend: 'cpu' | 'webgpu', shape: readonly number[], axis: number[], keepDims: boolean, seed: number): Promise<Run> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const x = tf.tensor(randomArray(seed, 'x', size(shape)), [...shape]);
  const labels = backend === 'webgpu' ? recordPipelineLabels(tf) : null;
  const y = tf.mean(x, axis, keepDims);
  const forward = labels?.stop() ?? [];
  const w = tf.tensor(randomArray(seed, 'w', y.size), y.shape);
  // The gradient of Σ mean·w with respect to x: Mean's gradient gets dy = w.
  const during = backend === 'webgpu' ? recordPipelineLabels(tf) : null;
  const dx = tf.grad((t: tfType.Tensor) => tf.sum(tf.mul(tf.mean(t, axis, keepDims), w)))(x);
  const backward = during?.stop() ?? [];
  const out = { y: (await y.data()) as Float32Array, yShape: y.shape, dx: (await dx.data()) as Float32Array, forward, backward };
  tf.dispose([x, y, w, dx]);
  assert.equal(tf.memory().numTensors, before, `${backend}: no tensors leaked`);
  return out;
}

const CASES: readonly { shape: readonly number[]; axis: number[]; keepDims: boolean; ours: boolean }[] = [
  { shape: [4, 7, 7, 40], axis: [1, 2], keepDims: false, ours: true }, // Inception's last pool, narrower
  { shape: [2, 40, 30, 3], axis: [2, 1], keepDims: true, ours: true }, // 1200 positions, axes unsorted
  { shape: [3, 1, 1, 300], axis: [-3, -2], keepDims: false, ours: true },
  { shape: [4, 7, 7, 40], axis: [1], keepDims: false, ours: false },
  { shape: [4, 7, 7, 40], axis: [1, 2, 3], keepDims: false, ours: false },
  { shape: [40, 49, 40], axis: [1], keepDims: false, ours: false },
];

for (const [i, c] of CASES.entries()) {
  test(`mean over [${c.axis}] of ${c.shape.join('x')}${c.keepDims ? ', keepDims' : ''} and its gradient on webgpu equal cpu (${c.ours ? 'ours' : "tfjs's"})`, { skip }, async () => {
    if ('skip' in ready) return;
    const { tf } = ready;
    const want = await run(tf, 'cpu', c.shape, c.axis, c.keepDims, i);
    const got = await run(tf, 'webgpu', c.shape, c.axis, c.keepDims, i);
    assert.deepEqual(got.yShape, want.yShape);
    assert.ok(relL2(got.y, want.y) <= 1e-6, `mean: relative L2 error ${relL2(got.y, want.y)}`);
    assert.ok(relL2(got.dx, want.dx) <= 1e-6, `gradient: relative L2 error ${relL2(got.dx, want.dx)}`);
    // Ours: the forward pass is one recorded dispatch, and the gradient's spreading of dy is one more.
    const mean = (labels: string[]): string[] => labels.filter((l) => /^rethink_spatial_mean_\d/.test(l));
    assert.deepEqual(got.forward.length === 1 && mean(got.forward).length === 1, c.ours, `forward pipelines: ${got.forward.join(', ')}`);
    assert.equal(got.backward.filter((l) => l.startsWith('rethink_spatial_mean_grad_')).length, c.ours ? 1 : 0, `gradient pipelines: ${got.backward.join(', ')}`);
    await tf.setBackend('cpu');
  });
}
