// The device-side Mean/Sum gradients: right values (analytic), and no full-size upload from JavaScript.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfType from '@tensorflow/tfjs';
import { webgpuOrSkipReason, randomArray, relL2 } from './helpers.js';

const ready = await webgpuOrSkipReason();
const skip = 'skip' in ready ? ready.skip : false;
// 2^16 elements: the size from which the device-side gradient is used.
const SHAPE = [8, 32, 32, 8] as const;

for (const op of ['mean', 'sum'] as const) {
  test(`${op} over batch/height/width: gradient on webgpu without CPU-side arrays`, { skip }, async () => {
    if ('skip' in ready) return;
    const { tf } = ready;
    await tf.setBackend('webgpu');
    const before = tf.memory().numTensors;
    const n = SHAPE.reduce<number>((a, b) => a * b, 1);
    const wv = randomArray(1, 'grad-w', SHAPE[3]);
    // Outputs of device kernels, so that everything starts on the GPU.
    const x = tf.tidy(() => tf.mul(tf.tensor4d(randomArray(1, 'grad-x', n), [...SHAPE]), 1));
    const w = tf.tidy(() => tf.mul(tf.tensor1d(wv), 1));
    const backend = tf.backend() as unknown as { write: (...a: unknown[]) => unknown };
    const write = backend.write;
    let largest = 0;
    backend.write = function (this: unknown, ...a: unknown[]) {
      largest = Math.max(largest, (a[0] as ArrayBufferView | null)?.byteLength ?? 0);
      return write.apply(this, a);
    };
    let g: tfType.Tensor;
    try {
      g = tf.grad((t: tfType.Tensor) => tf.sum(tf.mul(op === 'mean' ? tf.mean(t, [0, 1, 2]) : tf.sum(t, [0, 1, 2]), w)))(x);
    } finally {
      backend.write = write;
    }
    const got = (await g.data()) as Float32Array;
    const scale = op === 'mean' ? 1 / (SHAPE[0] * SHAPE[1] * SHAPE[2]) : 1;
    const want = new Float32Array(n).map((_, i) => (wv[i % SHAPE[3]] as number) * scale);
    assert.ok(relL2(got, want) <= 1e-6, `relative L2 error ${relL2(got, want)}`);
    assert.ok(largest < n * 4, `a ${largest}-byte array was written from JavaScript`);
    tf.dispose([x, w, g]);
    assert.equal(tf.memory().numTensors, before);
  });
}
