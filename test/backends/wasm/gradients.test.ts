// End-to-end gradient checks: a small conv + pool + LRN + batch-norm + dense net, every weight's
// gradient on wasm (our kernels) against cpu, and no leaks over repeated steps.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { onCpuAndWasm, randn, relL2, tolerance, useWasm } from './compare.js';
import { checkFusedLayers } from '../../ops/bias_relu_check.js';

before(() => useWasm());

const shapes = {
  w1: [5, 5, 3, 6],
  b1: [6],
  w2: [3, 3, 6, 5],
  gamma: [5],
  beta: [5],
  w3: [4 * 4 * 5, 7],
  b3: [7],
  w4: [7, 10],
} as const;
type Name = keyof typeof shapes;

/** Loss of the net on a fixed batch; uses every kernel training the paper's conv nets needs. */
function loss(v: Readonly<Record<Name, tf.Tensor>>, x: tf.Tensor4D, labels: tf.Tensor2D): tf.Scalar {
  let h = tf.relu(tf.add(tf.conv2d(x, v.w1 as tf.Tensor4D, 1, 'same'), v.b1));
  h = tf.maxPool(h as tf.Tensor4D, 3, 2, 'same');
  h = tf.localResponseNormalization(h as tf.Tensor4D, 4, 1, 0.001 / 9, 0.75);
  h = tf.conv2d(h as tf.Tensor4D, v.w2 as tf.Tensor4D, 2, 'same');
  const { mean, variance } = tf.moments(h, [0, 1, 2]);
  h = tf.relu(tf.batchNorm(h, mean, variance, v.beta, v.gamma, 1e-3));
  h = tf.reshape(h, [x.shape[0], -1]);
  h = tf.relu(tf.add(tf.matMul(h, v.w3), v.b3));
  const logits = tf.matMul(h, v.w4);
  return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
}

function gradients(): tf.Tensor[] {
  return tf.tidy(() => {
    const vars = Object.fromEntries(
      Object.entries(shapes).map(([k, s]) => [k, tf.variable(tf.tensor(randn(s, 'net', k).map((v) => v * 0.3), [...s]), true, `${k}_${tf.getBackend()}`)]),
    ) as Record<Name, tf.Variable>;
    const x = tf.tensor4d(randn([6, 15, 15, 3], 'net', 'x'), [6, 15, 15, 3]);
    const labels = tf.oneHot(tf.tensor1d([0, 3, 9, 2, 3, 7], 'int32'), 10) as tf.Tensor2D;
    const { value, grads } = tf.variableGrads(() => loss(vars, x, labels), Object.values(vars));
    const out = [value, ...Object.keys(shapes).map((k) => grads[`${k}_${tf.getBackend()}`]!)];
    tf.dispose(Object.values(vars));
    return out;
  });
}

test('every gradient of a conv+pool+LRN+BN+dense net matches cpu', async () => {
  const { cpu, wasm } = await onCpuAndWasm(gradients);
  const names = ['loss', ...Object.keys(shapes)];
  cpu.forEach((c, i) => {
    const err = relL2(c, wasm[i]!);
    assert.ok(err <= tolerance, `${names[i]}: relative L2 error ${err}`);
    assert.ok(c.some((v) => v !== 0), `${names[i]} gradient is all zero: the check would be vacuous`);
  });
});

test('repeated SGD steps on wasm leak neither tensors nor wasm memory', async () => {
  await tf.setBackend('wasm');
  const vars = Object.fromEntries(
    Object.entries(shapes).map(([k, s]) => [k, tf.variable(tf.tensor(randn(s, 'leak', k).map((v) => v * 0.3), [...s]))]),
  ) as Record<Name, tf.Variable>;
  const x = tf.tensor4d(randn([4, 15, 15, 3], 'leak', 'x'), [4, 15, 15, 3]);
  const labels = tf.oneHot(tf.tensor1d([1, 2, 3, 4], 'int32'), 10) as tf.Tensor2D;
  const optimizer = tf.train.momentum(0.01, 0.9);
  const step = (): void => tf.dispose(optimizer.minimize(() => loss(vars, x, labels), true) ?? []);
  step(); // creates the optimizer's slots
  const tensors = tf.memory().numTensors;
  const ids = tf.backend().numDataIds();
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(tf.backend().numDataIds(), ids);
  optimizer.dispose();
  tf.dispose([...Object.values(vars), x, labels]);
});

test('small AlexNet on wasm: fused layers (one-pass ReLU gradient) give the stock layers’ gradients', async () => {
  await checkFusedLayers(tf, 'wasm', 'small_alexnet', 1e-5);
});
