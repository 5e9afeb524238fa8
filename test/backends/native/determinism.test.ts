// Same seed, same backend, same result on the default CPU backend: two fresh trainings of the conv nets
// (max-pool gradient, ReLU gradient, batch norm, the expanded filter gradients, chunked convolutions)
// end with bitwise identical weights, and the steps really changed them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { getModel } from '../../../src/models/registry.js';
import { sgdSlots } from '../../../src/train/decay.js';
import { kernelMomentum } from '../../../src/ops/momentum.js';
import { MomentumSgd } from '../../../src/train/sgd.js';
import { trainStep } from '../../../src/train/step.js';
import { Rng } from '../../../src/util/random.js';
import { nativeContext } from './helpers.js';

const SHAPE = [16, 16, 3] as const;
const BATCH = 6;

/** Weights after three steps of a model built from seed 7, and those it started from. */
async function train(name: string): Promise<{ initial: Float32Array[]; final: Float32Array[] }> {
  const model = await getModel(name).build({ inputShape: SHAPE, numClasses: 10, seed: 7 });
  const initial = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
  const sgd = new MomentumSgd(tf, sgdSlots(model, { conv: 5e-4, dense: 5e-4 }), 0.9, kernelMomentum(tf));
  const rng = Rng.derive(7, 'determinism', name);
  for (let step = 0; step < 3; step++) {
    const images = Float32Array.from({ length: BATCH * SHAPE[0] * SHAPE[1] * SHAPE[2] }, () => rng.normal());
    const labels = Int32Array.from({ length: BATCH }, () => rng.int(10));
    const out = trainStep(tf, model, sgd, { images, shape: [BATCH, ...SHAPE], labels, numClasses: 10 }, 0.01);
    out.dispose();
  }
  const final = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
  sgd.dispose?.();
  model.dispose();
  return { initial, final };
}

for (const name of ['small_alexnet', 'small_inception_bn']) {
  test(`${name} on native: two trainings from one seed end bitwise equal`, async () => {
    await nativeContext();
    assert.equal(tf.getBackend(), 'native');
    const a = await train(name);
    const b = await train(name);
    assert.ok(a.final.some((w, i) => w.some((v, j) => v !== a.initial[i]![j])), 'training changed the weights');
    a.final.forEach((w, i) => {
      const other = b.final[i]!;
      for (let j = 0; j < w.length; j++) assert.ok(Object.is(w[j], other[j]), `weight ${i} element ${j}: ${w[j]} vs ${other[j]}`);
    });
  });
}
