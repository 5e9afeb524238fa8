// One training step of a tiny conv net (conv s1 same → ReLU → max-pool → LRN → batch moments → conv s2
// valid → dense → softmax cross-entropy) gives the same gradients on 'webgpu' (our kernels and
// gradients) as on 'cpu': the kernels are wired into autodiff, not only right in isolation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfType from '@tensorflow/tfjs';
import { webgpuOrSkipReason, randomArray, relL2, type Tf } from './helpers.js';

const ready = await webgpuOrSkipReason();
const skip = 'skip' in ready ? ready.skip : false;

const SHAPES: Readonly<Record<string, readonly number[]>> = {
  w1: [3, 3, 3, 8],
  w2: [3, 3, 8, 6],
  wd: [6 * 2 * 2, 5],
};

async function gradsOn(tf: Tf, backend: 'cpu' | 'webgpu'): Promise<Record<string, Float32Array>> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const vars: Record<string, tfType.Variable> = {};
  for (const [name, shape] of Object.entries(SHAPES)) {
    const n = shape.reduce((a, b) => a * b, 1);
    vars[name] = tf.tidy(() => tf.variable(tf.tensor(randomArray(5, name, n), [...shape]).mul(0.3), true, `${backend}_${name}`));
  }
  const x = tf.tensor4d(randomArray(5, 'x', 3 * 11 * 11 * 3), [3, 11, 11, 3]);
  const labels = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 3, 4], 'int32'), 5).toFloat());
  const loss = (): tfType.Scalar => {
    let h: tfType.Tensor4D = tf.relu(tf.conv2d(x, vars['w1'] as tfType.Tensor4D, 1, 'same'));
    h = tf.maxPool(h, 3, 2, 'same');
    h = tf.localResponseNormalization(h, 2, 1, 0.1, 0.75);
    const { mean, variance } = tf.moments(h, [0, 1, 2]);
    h = tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, 1e-3))) as tfType.Tensor4D;
    h = tf.conv2d(h, vars['w2'] as tfType.Tensor4D, 2, 'valid');
    const logits = tf.matMul(tf.reshape(h, [3, -1]), vars['wd'] as tfType.Tensor2D);
    return tf.losses.softmaxCrossEntropy(labels, logits) as tfType.Scalar;
  };
  const { value, grads } = tf.variableGrads(loss);
  const out: Record<string, Float32Array> = {};
  for (const name of Object.keys(SHAPES)) out[name] = (await (grads[name] ?? grads[`${backend}_${name}`])!.data()) as Float32Array;
  tf.dispose([value, x, labels, ...Object.values(grads), ...Object.values(vars)]);
  assert.equal(tf.memory().numTensors, before, `${backend} leaked tensors`);
  return out;
}

test('tiny conv net: gradients on webgpu match cpu', { skip }, async () => {
  if ('skip' in ready) return;
  const { tf } = ready;
  const want = await gradsOn(tf, 'cpu');
  const got = await gradsOn(tf, 'webgpu');
  for (const name of Object.keys(SHAPES)) {
    const err = relL2(got[name]!, want[name]!);
    assert.ok(err <= 1e-4, `${name}: relative L2 error ${err}`);
  }
});
