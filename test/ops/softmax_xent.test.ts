// The compact softmax cross-entropy against tf.losses.softmaxCrossEntropy on cpu: value and gradient
// within 1e-6, fewer kernel calls, no leaked tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { softmaxCrossEntropyMean } from '../../src/ops/softmax_xent.js';
import { Rng } from '../../src/util/random.js';

test('softmaxCrossEntropyMean matches tfjs value and gradient with fewer kernels', async () => {
  await tf.setBackend('cpu');
  const rng = Rng.derive(11, 'xent-test');
  // Large logits too: the log-sum-exp must stay finite.
  const z = tf.tensor2d(Float32Array.from({ length: 6 * 10 }, (_, i) => rng.normal() * (i < 10 ? 60 : 3)), [6, 10]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 3, 9, 2, 2, 5], 'int32'), 10));
  const before = tf.memory().numTensors;
  const run = async (f: (l: tf.Tensor) => tf.Scalar) => {
    let out: { value: Float32Array; grad: Float32Array } | undefined;
    const info = await tf.profile(() => {
      const { value, grad } = tf.valueAndGrad(f)(z);
      out = { value: value.dataSync() as Float32Array, grad: grad.dataSync() as Float32Array };
      tf.dispose([value, grad]);
    });
    return { ...out!, calls: info.kernels.length };
  };
  const want = await run((l) => tf.losses.softmaxCrossEntropy(y, l) as tf.Scalar);
  const got = await run((l) => softmaxCrossEntropyMean(tf, y, l));
  assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
  assert.ok(Number.isFinite(got.value[0]!) && got.value[0]! > 1, `loss ${got.value[0]}`);
  assert.ok(Math.abs(got.value[0]! - want.value[0]!) <= 1e-6 * Math.abs(want.value[0]!), `${got.value[0]} vs ${want.value[0]}`);
  let worst = 0;
  want.grad.forEach((w, i) => (worst = Math.max(worst, Math.abs(w - got.grad[i]!))));
  assert.ok(worst <= 1e-6, `gradient differs by ${worst}`);
  assert.ok(want.grad.some((v) => Math.abs(v) > 1e-3));
  assert.ok(got.calls < want.calls, `kernel calls ${got.calls} < ${want.calls}`);
  console.log(`softmax cross-entropy value+gradient kernel calls: tfjs ${want.calls}, ours ${got.calls}`);
  tf.dispose([z, y]);
});
