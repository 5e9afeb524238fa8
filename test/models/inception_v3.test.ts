// Inception V3 (src/models/inception_v3.ts): Keras's exact parameter count at 299×299×3 with 1000
// classes, the same count from the built tfjs model, and one training step at the smallest input (on
// the native backend: the pure-JS cpu backend takes minutes for it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptsInput, getModel, paramCount } from '../../src/models/index.js';
import { modelsCommand } from '../../src/models/cli.js';
import { initBackend } from '../../src/backends/select.js';
import { train } from '../../src/train/loop.js';
import { toyImages } from '../train/helpers.js';

const def = getModel('inception_v3');

test('inception_v3 counts exactly Keras InceptionV3’s 23,851,784 parameters at 299x299x3, 1000 classes', () => {
  const p = paramCount('inception_v3', [299, 299, 3], 1000);
  assert.equal(p.trainable + p.nonTrainable, 23_851_784);
  // Keras's split: the batch norms' moving means and variances are the non-trainable 34,432.
  assert.equal(p.nonTrainable, 34_432);
  assert.equal(p.trainable, 23_817_352);
  // The top layer's 2048·k + k is all that depends on the classes.
  assert.equal(paramCount('inception_v3', [299, 299, 3], 10).trainable, 23_817_352 - 2_049_000 + 20_490);
});

test('inception_v3 needs at least 75x75 (as Keras), and says so', () => {
  assert.ok(acceptsInput(def, [75, 75, 3]));
  assert.ok(!acceptsInput(def, [74, 299, 3]));
  assert.throws(() => paramCount('inception_v3', [32, 32, 3]), /at least 75x75/);
});

test('rethink models names inception_v3 with what it needs below 75x75, and counts it at 299x299x3', async () => {
  const small: string[] = [];
  assert.equal(await modelsCommand({ input: [28, 28, 3], json: false }, (s) => small.push(s)), 0);
  assert.match(small.join('\n'), /inception_v3\s+–\s+needs an input of at least 75x75/);
  const json: string[] = [];
  assert.equal(await modelsCommand({ input: [299, 299, 3], json: true, numClasses: 1000 }, (s) => json.push(s)), 0);
  const doc = JSON.parse(json.join('')) as { models: { name: string; params: number; nonTrainableParams: number }[] };
  const v3 = doc.models.find((m) => m.name === 'inception_v3')!;
  assert.equal(v3.params + v3.nonTrainableParams, 23_851_784);
});

test('the built inception_v3 has the counted weights, Keras’s layer structure and a [null, 1000] output', async () => {
  await initBackend('native');
  const tf = await import('@tensorflow/tfjs');
  const before = tf.memory().numTensors;
  const model = await def.build({ inputShape: [299, 299, 3], numClasses: 1000, seed: 1, dropout: 0.2 });
  const size = (ws: readonly { shape: readonly (number | null)[] }[]): number => ws.reduce((s, w) => s + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
  assert.equal(model.countParams(), 23_851_784);
  assert.equal(size(model.trainableWeights), 23_817_352);
  assert.deepEqual(model.outputs[0]!.shape, [null, 1000]);
  // 94 conv2d_bn blocks, the mixed blocks at Keras's sizes.
  assert.equal(model.layers.filter((l) => l.getClassName() === 'Conv2D').length, 94);
  const shapeOf = (name: string): readonly (number | null)[] => model.getLayer(name).outputShape as (number | null)[];
  assert.deepEqual(shapeOf('mixed2'), [null, 35, 35, 288]);
  assert.deepEqual(shapeOf('mixed7'), [null, 17, 17, 768]);
  assert.deepEqual(shapeOf('mixed10'), [null, 8, 8, 2048]);
  assert.equal(model.getLayer('dropout').getConfig()['rate'], 0.2);
  model.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('inception_v3 trains one step at 75x75 (batch 2, 5 classes, dropout): finite loss, every kernel moves, nothing leaks', async () => {
  const session = await initBackend('native');
  const tf = await import('@tensorflow/tfjs');
  const model = await def.build({ inputShape: [75, 75, 3], numClasses: 5, seed: 2, dropout: 0.2 });
  const set = toyImages(2, 75, 75, 3, 7);
  const kernels = () => model.trainableWeights.filter((w) => w.originalName.endsWith('/kernel')).map((w) => w.read().dataSync().slice(0, 8));
  const w0 = kernels();
  const before = tf.memory().numTensors;
  const r = await train(tf, session, model, { train: set, numClasses: 5 }, {
    seed: 3,
    epochs: 1,
    batchSize: 2,
    momentum: 0.9,
    schedule: { kind: 'exponential', initial: 0.1, decay: 0.95, staircase: true },
    weightDecay: { conv: 4e-5, dense: 4e-5 },
    preprocessing: { crop: null, standardize: true },
    augmentation: null,
  });
  assert.equal(r.totalSteps, 1);
  assert.ok(Number.isFinite(r.history[0]!.loss), `loss ${r.history[0]!.loss}`);
  const w1 = kernels();
  assert.equal(w1.length, 95);
  w1.forEach((w, i) => assert.notDeepEqual(Array.from(w), Array.from(w0[i]!), `kernel ${i} moved`));
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
