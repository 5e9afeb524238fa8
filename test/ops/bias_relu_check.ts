// A model with fused bias+ReLU training layers against tfjs's own layers on one backend: same seeded
// weights under the same names, same training-mode outputs and gradients (relative L2 within a
// tolerance), and fewer kernel calls per forward+backward.
import assert from 'node:assert/strict';
import type * as tfType from '@tensorflow/tfjs';
import { getModel } from '../../src/models/registry.js';
import { Rng } from '../../src/util/random.js';
import { relL2 } from '../support/numerics.js';

const BATCH = 3;

type Tf = typeof tfType;

async function run(tf: Tf, name: string, fuseBiasRelu: boolean, side: number) {
  const SHAPE = [side, side, 3] as const;
  const model = await getModel(name).build({ inputShape: SHAPE, numClasses: 10, seed: 3, fuseBiasRelu });
  const rng = Rng.derive(5, 'bias-relu-test');
  const x = tf.tensor4d(Float32Array.from({ length: BATCH * side * side * 3 }, () => rng.normal()), [BATCH, ...SHAPE]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d([1, 4, 7], 'int32'), 10));
  const vars = model.trainableWeights.map((w) => w.read() as tfType.Variable);
  const info = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tfType.Tensor) as tfType.Scalar, vars);
    value.dispose();
    tf.dispose(grads); // values read below from a second, identical call
  });
  // Read asynchronously: webgpu has no synchronous read in Node.
  let out: tfType.Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    out = tf.keep(model.apply(x, { training: true }) as tfType.Tensor);
    return tf.losses.softmaxCrossEntropy(y, out) as tfType.Scalar;
  }, vars);
  const logits = (await out!.data()) as Float32Array;
  out!.dispose();
  const read = async (t: tfType.Tensor): Promise<Float32Array> => (await t.data()) as Float32Array;
  const g = Object.fromEntries(await Promise.all(model.trainableWeights.map(async (w, i) => [w.originalName, await read(grads[vars[i]!.name]!)] as const)));
  const weights = Object.fromEntries(await Promise.all(model.weights.map(async (w) => [w.originalName, await read(w.read())] as const)));
  tf.dispose([value, x, y, ...Object.values(grads)]);
  model.dispose();
  const heavy = info.kernels.filter((k) => k.name === 'Conv2DBackpropInput' || k.name === 'BatchMatMul').length;
  return { logits, grads: g, weights, calls: info.kernels.length, heavy };
}

/** `side`: input height and width (small: cpu conv gradients are slow). */
export async function checkFusedLayers(tf: Tf, backend: string, name: string, tolerance: number, side = 8): Promise<{ readonly stockHeavy: number; readonly fusedHeavy: number }> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const stock = await run(tf, name, false, side);
  const fused = await run(tf, name, true, side);
  assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
  assert.deepEqual(Object.keys(fused.weights), Object.keys(stock.weights), 'same weight names');
  for (const [k, w] of Object.entries(stock.weights)) assert.deepEqual(fused.weights[k], w, `initial ${k}`);
  assert.ok(relL2(fused.logits, stock.logits) <= tolerance, `logits differ by ${relL2(fused.logits, stock.logits)}`);
  for (const [k, gs] of Object.entries(stock.grads)) {
    const e = relL2(fused.grads[k]!, gs);
    assert.ok(e <= tolerance, `gradient of ${k} differs by ${e}`);
  }
  assert.ok(Object.values(stock.grads).some((g) => g.some((v) => v !== 0)), 'gradients are not all zero');
  assert.ok(fused.calls < stock.calls, `kernel calls ${fused.calls} < ${stock.calls}`);
  // No input gradient for the first layer (tfjs skips it; a custom gradient must be told to).
  assert.ok(fused.heavy <= stock.heavy, `input-gradient and matmul kernels ${fused.heavy} <= ${stock.heavy}`);
  console.log(`${name} on ${backend}: forward+backward kernel calls ${stock.calls} -> ${fused.calls}`);
  return { stockHeavy: stock.heavy, fusedHeavy: fused.heavy };
}
