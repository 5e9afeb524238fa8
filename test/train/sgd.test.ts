import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sgdSlots } from '../../src/train/decay.js';
import { MomentumSgd } from '../../src/train/sgd.js';
import { trainStep } from '../../src/train/step.js';
import { cpuSession, loadCpu } from './helpers.js';

// A linear softmax classifier 3 → 2 trained two steps, against the same steps done by hand in float64:
// g = xᵀ(softmax(xW+b) − onehot)/B;  v ← μv + g + λW (kernel only);  W ← W − lr·v.
test('momentum SGD with kernel-only weight decay matches a hand computation', async () => {
  const tf = await loadCpu();
  const before = tf.memory().numTensors;
  const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [1, 1, 3] }), tf.layers.dense({ units: 2, name: 'fc' })] });
  const W0 = [
    [0.1, -0.2],
    [0.3, 0.05],
    [-0.4, 0.2],
  ];
  const b0 = [0.01, -0.02];
  const init = [tf.tensor2d(W0), tf.tensor1d(b0)];
  model.setWeights(init);
  tf.dispose(init);
  const afterBuild = tf.memory().numTensors;
  const x = [
    [1, 2, -1],
    [0.5, -1, 2],
  ];
  const y = [1, 0];
  const [mu, lambda] = [0.9, 0.01];
  const lrs = [0.5, 0.25];

  const sgd = new MomentumSgd(tf, sgdSlots(model, { conv: 0, dense: lambda }), mu, (await cpuSession()).momentum);
  for (const lr of lrs) {
    const out = trainStep(tf, model, sgd, { images: Float32Array.from(x.flat()), shape: [2, 1, 1, 3], labels: Int32Array.from(y), numClasses: 2 }, lr);
    out.dispose();
  }
  const [W, b] = model.getWeights().map((t) => Array.from(t.dataSync()));
  sgd.dispose();
  assert.equal(tf.memory().numTensors, afterBuild, 'training steps leave no tensors behind');

  // By hand.
  const w = W0.map((r) => [...r]);
  const bias = [...b0];
  const vW = W0.map(() => [0, 0]);
  const vb = [0, 0];
  for (const lr of lrs) {
    const gW = W0.map(() => [0, 0]);
    const gb = [0, 0];
    for (const [n, xi] of x.entries()) {
      const z = [0, 1].map((k) => bias[k]! + xi.reduce((s, v, j) => s + v * w[j]![k]!, 0));
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const p = e.map((v) => v / (e[0]! + e[1]!));
      for (let k = 0; k < 2; k++) {
        const d = (p[k]! - (y[n] === k ? 1 : 0)) / x.length;
        gb[k]! += d;
        for (let j = 0; j < 3; j++) gW[j]![k]! += xi[j]! * d;
      }
    }
    for (let j = 0; j < 3; j++) {
      for (let k = 0; k < 2; k++) {
        vW[j]![k] = mu * vW[j]![k]! + gW[j]![k]! + lambda * w[j]![k]!;
        w[j]![k]! -= lr * vW[j]![k]!;
      }
    }
    for (let k = 0; k < 2; k++) {
      vb[k] = mu * vb[k]! + gb[k]!; // biases are not decayed
      bias[k]! -= lr * vb[k]!;
    }
  }
  w.flat().forEach((v, i) => assert.ok(Math.abs(W![i]! - v) < 1e-6, `W[${i}] ${W![i]} vs ${v}`));
  bias.forEach((v, i) => assert.ok(Math.abs(b![i]! - v) < 1e-6, `b[${i}] ${b![i]} vs ${v}`));
  // A different λ must give different weights (the decay term is really applied).
  assert.ok(Math.abs(W![0]! - W0[0]![0]!) > 1e-3);
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('weight decay applies to conv and dense kernels by kind, never to biases or BN', async () => {
  const tf = await loadCpu();
  const { getModel } = await import('../../src/models/index.js');
  const model = await getModel('small_inception_bn').build({ inputShape: [8, 8, 3], numClasses: 10, seed: 1 });
  const slots = sgdSlots(model, { conv: 0.5, dense: 0.25 });
  const byName = new Map(model.trainableWeights.map((w, i) => [w.originalName, slots[i]!.decay]));
  assert.equal(slots.length, model.trainableWeights.length);
  assert.equal(byName.get('b1_conv/kernel'), 0.5);
  assert.equal(byName.get('b1_bn/beta'), 0);
  assert.equal(byName.get('logits/kernel'), 0.25);
  assert.equal(byName.get('logits/bias'), 0);
  model.dispose();
  void tf;
});
