// The models with fused bias+ReLU training layers against tfjs's own layers on cpu: same seeded
// weights under the same names, same training-mode outputs and gradients (within 1e-5 relative L2),
// and fewer kernel calls per forward+backward.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { getModel } from '../../../src/models/registry.js';
import { Rng } from '../../../src/util/random.js';

const SHAPE = [8, 8, 3] as const;
const BATCH = 3;

function relL2(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i]! - b[i]!) ** 2;
    den += a[i]! ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

async function run(name: string, fuseBiasRelu: boolean) {
  const model = await getModel(name).build({ inputShape: SHAPE, numClasses: 10, seed: 3, fuseBiasRelu });
  const rng = Rng.derive(5, 'bias-relu-test');
  const x = tf.tensor4d(Float32Array.from({ length: BATCH * 8 * 8 * 3 }, () => rng.normal()), [BATCH, ...SHAPE]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d([1, 4, 7], 'int32'), 10));
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let logits: Float32Array = new Float32Array();
  const info = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => {
      const out = model.apply(x, { training: true }) as tf.Tensor;
      logits = out.dataSync() as Float32Array;
      return tf.losses.softmaxCrossEntropy(y, out) as tf.Scalar;
    }, vars);
    value.dispose();
    tf.dispose(grads); // values read below from a second, identical call
  });
  const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars);
  const g = Object.fromEntries(model.trainableWeights.map((w, i) => [w.originalName, grads[vars[i]!.name]!.dataSync() as Float32Array]));
  const weights = Object.fromEntries(model.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array]));
  tf.dispose([value, x, y, ...Object.values(grads)]);
  model.dispose();
  const heavy = info.kernels.filter((k) => k.name === 'Conv2DBackpropInput' || k.name === 'BatchMatMul').length;
  return { logits, grads: g, weights, calls: info.kernels.length, heavy };
}

for (const name of ['mlp_1x512', 'small_alexnet', 'small_inception']) {
  test(`${name}: fused bias+ReLU layers give tfjs's outputs and gradients with fewer kernels`, async () => {
    await tf.setBackend('cpu');
    const before = tf.memory().numTensors;
    const stock = await run(name, false);
    const fused = await run(name, true);
    assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
    assert.deepEqual(Object.keys(fused.weights), Object.keys(stock.weights), 'same weight names');
    for (const [k, w] of Object.entries(stock.weights)) assert.deepEqual(fused.weights[k], w, `initial ${k}`);
    assert.ok(relL2(stock.logits, fused.logits) <= 1e-5, `logits differ by ${relL2(stock.logits, fused.logits)}`);
    for (const [k, gs] of Object.entries(stock.grads)) {
      const e = relL2(gs, fused.grads[k]!);
      assert.ok(e <= 1e-5, `gradient of ${k} differs by ${e}`);
    }
    assert.ok(Object.values(stock.grads).some((g) => g.some((v) => v !== 0)), 'gradients are not all zero');
    assert.ok(fused.calls < stock.calls, `kernel calls ${fused.calls} < ${stock.calls}`);
    // No input gradient for the first layer (tfjs skips it; a custom gradient must be told to).
    assert.ok(fused.heavy <= stock.heavy, `input-gradient and matmul kernels ${fused.heavy} <= ${stock.heavy}`);
    console.log(`${name}: forward+backward kernel calls ${stock.calls} -> ${fused.calls}`);
  });
}
