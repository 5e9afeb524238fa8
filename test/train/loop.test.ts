import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptsInput, getModel, listModels } from '../../src/models/index.js';
import { evaluate } from '../../src/train/evaluate.js';
import { train } from '../../src/train/loop.js';
import { cpuSession, loadCpu, toyImages } from './helpers.js';
import type { TrainOptions } from '../../src/train/types.js';

const base: TrainOptions = {
  seed: 11,
  epochs: 1,
  batchSize: 8,
  momentum: 0.9,
  schedule: { kind: 'exponential', initial: 0.01, decay: 0.95, staircase: true },
  weightDecay: { conv: 0, dense: 0 },
  preprocessing: { crop: [6, 6], standardize: true },
  augmentation: null,
};
const toy = toyImages(64, 8, 8, 3, 1);
const data = { train: toy, test: toyImages(32, 8, 8, 3, 2), numClasses: 2 };

async function weightsAfter(opts: TrainOptions, seed = 4): Promise<number[][]> {
  const tf = await loadCpu();
  const model = await getModel('mlp_1x512').build({ inputShape: [6, 6, 3], numClasses: 2, seed, dropout: 0.3 });
  await train(tf, await cpuSession(), model, data, opts);
  const w = model.getWeights().map((t) => Array.from(t.dataSync()));
  model.dispose();
  return w;
}

test('same seed and backend → bitwise identical weights (dropout, augmentation, shuffling all seeded)', async () => {
  const opts: TrainOptions = { ...base, maxSteps: 5, augmentation: { randomCrop: true, pad: 1, flip: true, rotateDegrees: 10 } };
  const a = await weightsAfter(opts);
  const b = await weightsAfter(opts);
  assert.deepEqual(a, b);
  assert.notDeepEqual(await weightsAfter({ ...opts, seed: 12 }), a, 'the train seed changes shuffling/augmentation');
  assert.notDeepEqual(await weightsAfter(opts, 5), a, 'the model seed changes init and dropout');
});

test('training leaks no tensors and stops after maxSteps', async () => {
  const tf = await loadCpu();
  const model = await getModel('mlp_1x512').build({ inputShape: [6, 6, 3], numClasses: 2, seed: 1, dropout: 0.5 });
  const before = tf.memory().numTensors;
  const r = await train(tf, await cpuSession(), model, data, { ...base, epochs: 3, maxSteps: 10, recordSteps: true, evalEvery: 1 });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(r.totalSteps, 10);
  assert.equal(r.stoppedBy, 'max_steps');
  assert.equal(r.steps!.length, 10);
  assert.deepEqual(r.history.map((e) => e.steps), [8, 2]);
  assert.ok(r.history.every((e) => e.testAcc !== undefined));
  // Hitting maxSteps exactly at an epoch's end stops there, and still evaluates that last epoch.
  const exact = await train(tf, await cpuSession(), model, data, { ...base, epochs: 3, maxSteps: 8, evalEvery: 2 });
  assert.deepEqual([exact.stoppedBy, exact.history.length, exact.history[0]!.testAcc !== undefined], ['max_steps', 1, true]);
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test('one step stays in flight: step k is reported after step k+1 is enqueued, the last at the epoch end', async () => {
  const tf = await loadCpu();
  const model = await getModel('mlp_1x512').build({ inputShape: [6, 6, 3], numClasses: 2, seed: 3 });
  const live: number[] = [];
  const reported: number[] = [];
  // 64 images in batches of 8: 8 steps per epoch. While step k is reported, step k+1's [loss, correct]
  // output is the one tensor more that is alive; after the epoch's last step nothing is in flight.
  await train(tf, await cpuSession(), model, data, { ...base, epochs: 2 }, {
    onStep: (p) => {
      live.push(tf.memory().numTensors);
      reported.push(p.globalStep);
    },
  });
  assert.deepEqual(reported, Array.from({ length: 16 }, (_, i) => i + 1), 'every step reported once, in order');
  const settled = live[7]!;
  assert.deepEqual(live, [...Array<number>(7).fill(settled + 1), settled, ...Array<number>(7).fill(settled + 1), settled]);
  model.dispose();
});

test("each step's read is issued right after the step, before the next one is enqueued (a GPU queue runs in order)", async () => {
  const tf = await loadCpu();
  const model = await getModel('mlp_1x512').build({ inputShape: [6, 6, 3], numClasses: 2, seed: 3 });
  // At each read of a step's [loss, correct], how many tensors were made since that output: a read
  // issued after the next step was enqueued would see all of that step's tensors.
  const reads: { id: number; newest: number }[] = [];
  const original = tf.Tensor.prototype.data;
  tf.Tensor.prototype.data = function (this: InstanceType<typeof tf.Tensor>) {
    if (this.shape.length === 1 && this.shape[0] === 2) {
      const probe = tf.scalar(0);
      reads.push({ id: this.id, newest: probe.id });
      probe.dispose();
    }
    return original.call(this) as never;
  } as typeof original;
  try {
    await train(tf, await cpuSession(), model, data, { ...base, epochs: 1 });
  } finally {
    tf.Tensor.prototype.data = original;
  }
  assert.equal(reads.length, 8);
  const perStep = reads[1]!.id - reads[0]!.id;
  assert.ok(perStep > 10, `a step makes ${perStep} tensors`);
  for (const r of reads) assert.ok(r.newest - r.id < perStep / 2, `read of tensor ${r.id} issued ${r.newest - r.id} tensors later (a step: ${perStep})`);
  model.dispose();
});

test('a tiny MLP learns a separable toy problem, and target accuracy stops training early', async () => {
  const tf = await loadCpu();
  const model = await getModel('mlp_1x512').build({ inputShape: [6, 6, 3], numClasses: 2, seed: 2 });
  const pre = await evaluate(tf, model, data.test, { preprocessing: base.preprocessing, batchSize: 16, numClasses: 2 });
  const epochs: number[] = [];
  const r = await train(tf, await cpuSession(), model, data, { ...base, epochs: 30, targetTrainAcc: 1, evalEvery: 5 }, { onEpoch: (e) => epochs.push(e.epoch) });
  assert.equal(r.stoppedBy, 'target_train_acc');
  assert.ok(r.history.length < 30);
  assert.equal(r.history.at(-1)!.acc, 1);
  assert.deepEqual(epochs, r.history.map((e) => e.epoch));
  assert.ok(r.history.at(-1)!.loss < r.history[0]!.loss, 'loss goes down');
  const post = await evaluate(tf, model, data.test, { preprocessing: base.preprocessing, batchSize: 16, numClasses: 2 });
  assert.ok(post.acc > 0.95 && post.acc > pre.acc, `test acc ${pre.acc} → ${post.acc}`);
  assert.equal(r.history.at(-1)!.testAcc, post.acc, 'the last epoch is evaluated');
  assert.equal(post.perClassCount.reduce((a, c) => a + c, 0), 32);
  model.dispose();
});

test('an aborted signal stops training with its reason', async () => {
  const tf = await loadCpu();
  const model = await getModel('mlp_1x512').build({ inputShape: [6, 6, 3], numClasses: 2, seed: 2 });
  const before = tf.memory().numTensors;
  const ac = new AbortController();
  let steps = 0;
  await assert.rejects(
    train(tf, await cpuSession(), model, data, { ...base, epochs: 5 }, { signal: ac.signal, onStep: () => ++steps === 3 && ac.abort(new Error('stop now')) }),
    /stop now/,
  );
  assert.equal(steps, 3);
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test('a timer aborts training on a CPU backend mid-run: the loop gives the event loop a turn now and then', async () => {
  // cpu's data() settles as a microtask, so a timer (AbortSignal.timeout, or Ctrl-C's handler) could
  // otherwise only run after the last epoch: 3,200 steps here.
  const tf = await loadCpu();
  const model = await getModel('mlp_1x512').build({ inputShape: [6, 6, 3], numClasses: 2, seed: 2 });
  const before = tf.memory().numTensors;
  // The timer starts at the first step (not before training starts, which under load could end the
  // run before its first step): a macrotask that can only run if the loop yields.
  const ac = new AbortController();
  let steps = 0;
  const onStep = () => {
    if (steps++ === 0) setTimeout(() => ac.abort(new DOMException('The operation timed out.', 'TimeoutError')), 0);
  };
  await assert.rejects(train(tf, await cpuSession(), model, data, { ...base, epochs: 400 }, { signal: ac.signal, onStep }), { name: 'TimeoutError' });
  assert.ok(steps > 0 && steps < 3200, `stopped after ${steps} of 3200 steps`);
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test('evaluate reports per-class accuracy', async () => {
  const tf = await loadCpu();
  const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [2, 2, 1] }), tf.layers.dense({ units: 4 })] });
  const init = [tf.zeros([4, 4]), tf.tensor1d([0, 0, 1, 0])];
  model.setWeights(init); // always predicts class 2
  tf.dispose(init);
  const set = { images: new Uint8Array(4 * 4), shape: [4, 2, 2, 1] as const, labels: Int32Array.from([2, 2, 0, 1]) };
  const r = await evaluate(tf, model, set, { preprocessing: { crop: null, standardize: false }, batchSize: 3, numClasses: 4 });
  assert.equal(r.acc, 0.5);
  assert.deepEqual(r.perClassAcc, [0, 0, 1, null]);
  assert.deepEqual(r.perClassCount, [1, 1, 2, 0]);
  model.dispose();
});

test('evaluate reports top-5 accuracy with more than five classes (ties at the boundary count, as in_top_k), none with five or fewer', async () => {
  const tf = await loadCpu();
  // Zero input: the logits are the bias, the same for every image. Class 7 scores highest; 1, 2, 3 next;
  // 4 and 5 tie for fifth; 0 and 6 come last.
  const bias = [-1, 5, 5, 5, 2, 2, -1, 9];
  const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [1, 1, 1] }), tf.layers.dense({ units: 8 })] });
  const init = [tf.zeros([1, 8]), tf.tensor1d(bias)];
  model.setWeights(init);
  tf.dispose(init);
  const labels = Int32Array.from([7, 1, 4, 5, 0, 6, 3, 2]);
  const set = { images: new Uint8Array(8), shape: [8, 1, 1, 1] as const, labels };
  const r = await evaluate(tf, model, set, { preprocessing: { crop: null, standardize: false }, batchSize: 3, numClasses: 8 });
  assert.equal(r.acc, 1 / 8);
  assert.equal(r.top5, 6 / 8, 'all but classes 0 and 6');
  model.dispose();
  const five = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [1, 1, 1] }), tf.layers.dense({ units: 5 })] });
  const r5 = await evaluate(tf, five, { ...set, labels: labels.map((l) => l % 5) }, { preprocessing: { crop: null, standardize: false }, batchSize: 8, numClasses: 5 });
  assert.equal(r5.top5, undefined);
  five.dispose();
});

test('every CIFAR-10 model trains one step on cpu without leaking (4x4 input: cpu conv gradients are slow; Inception V3: test/models)', async () => {
  const tf = await loadCpu();
  const tiny = { train: toyImages(2, 4, 4, 3, 3), numClasses: 10 };
  for (const def of listModels().filter((m) => acceptsInput(m, [4, 4, 3]))) {
    const model = await def.build({ inputShape: [4, 4, 3], numClasses: 10, seed: 1, dropout: 0.5 });
    const before = tf.memory().numTensors;
    const w0 = Array.from(model.getWeights()[0]!.dataSync());
    const r = await train(tf, await cpuSession(), model, tiny, { ...base, batchSize: 2, maxSteps: 1, preprocessing: { crop: null, standardize: true } });
    assert.ok(Number.isFinite(r.history[0]!.loss), def.name);
    assert.notDeepEqual(Array.from(model.getWeights()[0]!.dataSync()), w0, `${def.name} weights moved`);
    assert.equal(tf.memory().numTensors, before, def.name);
    model.dispose();
  }
});
