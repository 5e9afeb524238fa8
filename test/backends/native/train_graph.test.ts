// The compiled MLP training step (src/backends/native/train_graph/) against the generic tfjs step on
// the native backend: same weights, velocities, losses and accuracy counts within the kernel tests'
// tolerance (decay on and off, a short last batch, the learning rate changing between steps, several
// steps in one chunk); a chunk of K steps bitwise equal to K one-step chunks; two fresh compiles
// bitwise equal; sync() writes exactly the step's state; non-MLPs are not compiled; the default chunk
// length follows the batch (up to 4,096 rows, at most 128 steps).

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { CompiledTrainStep, TrainChunk, TrainStepSpec } from '../../../src/backends/session.js';
import { compileNativeTrainStep, defaultChunkSteps } from '../../../src/backends/native/train_graph/compile.js';
import { getModel } from '../../../src/models/registry.js';
import { sgdSlots } from '../../../src/train/decay.js';
import { MomentumSgd } from '../../../src/train/sgd.js';
import { kernelMomentum } from '../../../src/ops/momentum.js';
import { trainStep } from '../../../src/train/step.js';
import { Rng } from '../../../src/util/random.js';
import { nativeContext, relL2 } from './helpers.js';

const SHAPE = [6, 5, 3] as const;
const CLASSES = 10;
const BATCH = 8;
const MU = 0.9;
/** The native kernel tests' tolerance (relative L2 against the reference). */
const TOL = 1e-5;

before(async () => {
  await nativeContext();
  assert.equal(tf.getBackend(), 'native');
});

interface Batch {
  readonly images: Float32Array;
  readonly shape: [number, number, number, number];
  readonly labels: Int32Array;
  readonly lr: number;
}

/** Four steps: lr changes between steps and the last batch is short. */
function batches(seed: string): Batch[] {
  const rng = Rng.derive(seed);
  const sizes = [BATCH, BATCH, BATCH, 3];
  const lrs = [0.05, 0.05, 0.02, 0.1];
  return sizes.map((b, i) => ({
    images: Float32Array.from({ length: b * SHAPE[0] * SHAPE[1] * SHAPE[2] }, () => rng.normal()),
    shape: [b, ...SHAPE],
    labels: Int32Array.from({ length: b }, () => rng.int(CLASSES)),
    lr: lrs[i]!,
  }));
}

/** Consecutive batches of one size as one chunk. */
function chunkOf(group: readonly Batch[]): TrainChunk {
  const images = new Float32Array(group.reduce((t, b) => t + b.images.length, 0));
  const labels = new Int32Array(group.reduce((t, b) => t + b.labels.length, 0));
  let at = 0;
  group.forEach((b, j) => {
    images.set(b.images, at);
    at += b.images.length;
    labels.set(b.labels, j * b.labels.length);
  });
  return { images, shape: group[0]!.shape, labels, lrs: group.map((b) => b.lr) };
}

/** The batches as chunks of up to `k` steps of one size, in order: [[0, 1, 2], [3]] for k ≥ 3. */
function chunked(data: readonly Batch[], k: number): TrainChunk[] {
  const out: Batch[][] = [];
  for (const b of data) {
    const last = out.at(-1);
    if (last !== undefined && last.length < k && last[0]!.shape[0] === b.shape[0]) last.push(b);
    else out.push([b]);
  }
  return out.map(chunkOf);
}

interface Trained {
  readonly stats: Array<[number, number]>;
  /** Weights then velocities, in slot order. */
  readonly state: Float32Array[];
}

async function build(name: string, decay: number, seed = 3): Promise<{ model: tf.LayersModel; sgd: MomentumSgd; spec: TrainStepSpec }> {
  const model = await getModel(name).build({ inputShape: SHAPE, numClasses: CLASSES, seed });
  const slots = sgdSlots(model, { conv: decay, dense: decay });
  // The generic path as native runs it: the session's fused momentum kernel.
  const sgd = new MomentumSgd(tf, slots, MU, kernelMomentum(tf));
  const spec: TrainStepSpec = { model, slots, velocities: sgd.velocityVariables, momentum: MU, imageShape: SHAPE, numClasses: CLASSES, batchSize: BATCH };
  return { model, sgd, spec };
}

function snapshot(spec: TrainStepSpec): Float32Array[] {
  return [...spec.slots.map((s) => s.variable), ...spec.velocities].map((v) => v.dataSync().slice() as Float32Array);
}

async function generic(name: string, decay: number, data: readonly Batch[]): Promise<Trained> {
  const { model, sgd, spec } = await build(name, decay);
  const stats: Array<[number, number]> = [];
  for (const b of data) {
    const out = trainStep(tf, model, sgd, { images: b.images, shape: b.shape, labels: b.labels, numClasses: CLASSES }, b.lr);
    stats.push(Array.from(out.dataSync()) as [number, number]);
    out.dispose();
  }
  const state = snapshot(spec);
  sgd.dispose();
  model.dispose();
  return { stats, state };
}

/** The batches through a compiled step, in chunks of up to `k` steps (the default: all full batches in one). */
async function compiled(name: string, decay: number, data: readonly Batch[], k = 8): Promise<Trained> {
  const { model, sgd, spec } = await build(name, decay);
  const step = compileNativeTrainStep(spec, { chunkSteps: k });
  assert.ok(step !== undefined, `${name} compiles`);
  assert.equal(step.maxChunkSteps, k);
  const stats: Array<[number, number]> = [];
  for (const chunk of chunked(data, k)) {
    const outcomes = step.run(chunk);
    assert.equal(outcomes.length, chunk.lrs.length);
    for (const { loss, correct } of outcomes) stats.push([loss, correct]);
  }
  step.sync();
  step.dispose();
  const state = snapshot(spec);
  sgd.dispose();
  model.dispose();
  return { stats, state };
}

for (const name of ['mlp_1x512', 'mlp_3x512']) {
  for (const decay of [0, 5e-3]) {
    test(`${name}, decay ${decay}: compiled steps equal the generic tfjs steps`, async () => {
      const data = batches(`train_graph/${name}`);
      const tensors = tf.memory().numTensors;
      const want = await generic(name, decay, data);
      const got = await compiled(name, decay, data);
      assert.equal(tf.memory().numTensors, tensors, 'no leaked tensors');
      got.stats.forEach(([loss, correct], i) => {
        const [wantLoss, wantCorrect] = want.stats[i]!;
        assert.ok(Math.abs(loss - wantLoss) <= TOL * Math.abs(wantLoss), `step ${i}: loss ${loss} vs ${wantLoss}`);
        assert.equal(correct, wantCorrect, `step ${i}: correct`);
      });
      got.state.forEach((values, i) => {
        const err = relL2(values, want.state[i]!);
        assert.ok(err <= TOL, `state ${i} (${values.length} values): rel L2 ${err.toExponential(2)} > ${TOL}`);
      });
      // The steps moved every variable (so the comparison above compared training, not initial values).
      const initial = snapshot((await build(name, decay)).spec);
      assert.ok(got.state.slice(0, initial.length / 2).every((v, i) => relL2(v, initial[i]!) > 0), 'every weight changed');
    });
  }
}

test('a chunk of K steps is bitwise K one-step chunks: same per-step losses and counts, same state', async () => {
  const data = batches('train_graph/chunks');
  for (const name of ['mlp_1x512', 'mlp_3x512']) {
    const one = await compiled(name, 5e-3, data, 1);
    const two = await compiled(name, 5e-3, data, 2); // [0, 1], [2], [3]: a chunk boundary amid the full batches
    const all = await compiled(name, 5e-3, data, 8); // [0, 1, 2], [3]
    for (const other of [two, all]) {
      assert.deepEqual(other.stats, one.stats, `${name}: per-step [loss, correct]`);
      other.state.forEach((values, i) => assert.deepEqual(new Uint8Array(values.buffer), new Uint8Array(one.state[i]!.buffer), `${name}: state ${i}`));
    }
    // The steps differ (lr and batches change), so a chunk that repeated or reordered them would not match.
    assert.equal(new Set(one.stats.map(([loss]) => loss)).size, one.stats.length, `${name}: distinct per-step losses`);
  }
});

test('a chunk longer than maxChunkSteps or of mismatched labels is refused and leaves the state as it was', async () => {
  const data = batches('train_graph/refused');
  const { model, sgd, spec } = await build('mlp_1x512', 0);
  const step = compileNativeTrainStep(spec, { chunkSteps: 2 })!;
  const initial = snapshot(spec);
  assert.throws(() => step.run(chunkOf(data.slice(0, 3))), /a chunk of 3 steps \(1 to 2\)/);
  const short = chunkOf(data.slice(0, 2));
  assert.throws(() => step.run({ ...short, labels: short.labels.subarray(0, 10) }), RangeError);
  step.sync();
  snapshot(spec).forEach((v, i) => assert.deepEqual(v, initial[i], `variable ${i}`));
  step.dispose();
  sgd.dispose();
  model.dispose();
});

test('the default chunk holds up to 4,096 rows, 1 to 128 steps: a small batch takes as many images per run as a batch of 128', async () => {
  const want: ReadonlyArray<readonly [number, number]> = [[1, 128], [16, 128], [32, 128], [64, 64], [100, 40], [128, 32], [512, 8], [4096, 1], [5000, 1]];
  for (const [batch, steps] of want) assert.equal(defaultChunkSteps(batch), steps, `batch ${batch}`);
  const { model, sgd, spec } = await build('mlp_1x512', 0);
  const step = compileNativeTrainStep({ ...spec, batchSize: 32 })!;
  assert.equal(step.maxChunkSteps, 128, 'a step compiled for batch 32 without chunkSteps');
  step.dispose();
  sgd.dispose();
  model.dispose();
});

test('two fresh compiles from the same weights end bitwise equal', async () => {
  const data = batches('train_graph/determinism');
  const a = await compiled('mlp_3x512', 5e-3, data);
  const b = await compiled('mlp_3x512', 5e-3, data);
  assert.deepEqual(a.stats, b.stats);
  a.state.forEach((values, i) => assert.deepEqual(new Uint8Array(values.buffer), new Uint8Array(b.state[i]!.buffer), `state ${i}`));
});

test('sync() writes exactly the step state: a step compiled from the synced variables continues bitwise alike', async () => {
  const data = batches('train_graph/sync');
  const { model, sgd, spec } = await build('mlp_1x512', 5e-3);
  const initial = snapshot(spec);
  const first = compileNativeTrainStep(spec)!;
  first.sync();
  snapshot(spec).forEach((v, i) => assert.deepEqual(v, initial[i], `sync before any step leaves variable ${i} as it was`));
  first.run(chunkOf(data.slice(0, 2)));
  first.sync();
  const synced = snapshot(spec);
  const second = compileNativeTrainStep(spec)!;
  const last = data[2]!;
  const run = (s: CompiledTrainStep): Float32Array[] => {
    const stats = Float32Array.from(s.run(chunkOf([last])).flatMap(({ loss, correct }) => [loss, correct]));
    s.sync();
    return [stats, ...snapshot(spec)];
  };
  const fromFirst = run(first);
  const fromSecond = run(second);
  assert.ok(fromFirst.slice(1).some((v, i) => relL2(v, synced[i]!) > 0), 'the third step changed the state');
  fromFirst.forEach((v, i) => assert.deepEqual(new Uint8Array(v.buffer), new Uint8Array(fromSecond[i]!.buffer), `value ${i}`));
  first.dispose();
  second.dispose();
  sgd.dispose();
  model.dispose();
});

test('models other than a plain MLP are not compiled', async () => {
  const spec = (model: tf.LayersModel): TrainStepSpec => {
    const slots = sgdSlots(model, { conv: 0, dense: 0 });
    const velocities = slots.map((s) => tf.variable(tf.zerosLike(s.variable), false));
    return { model, slots, velocities, momentum: MU, imageShape: SHAPE, numClasses: CLASSES, batchSize: BATCH };
  };
  const dropout = await getModel('mlp_1x512').build({ inputShape: SHAPE, numClasses: CLASSES, seed: 1, dropout: 0.5 });
  const conv = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [...SHAPE], filters: 4, kernelSize: 3, activation: 'relu' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: CLASSES }),
    ],
  });
  const softmax = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [...SHAPE] }), tf.layers.dense({ units: 16, activation: 'relu' }), tf.layers.dense({ units: CLASSES, activation: 'softmax' })] });
  const tanh = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [...SHAPE] }), tf.layers.dense({ units: 16, activation: 'tanh' }), tf.layers.dense({ units: CLASSES })] });
  const noBias = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [...SHAPE] }), tf.layers.dense({ units: CLASSES, useBias: false })] });
  for (const [label, model] of [['dropout', dropout], ['conv', conv], ['softmax logits', softmax], ['tanh hidden', tanh], ['no bias', noBias]] as const) {
    const s = spec(model);
    assert.equal(compileNativeTrainStep(s), undefined, label);
    tf.dispose([...s.velocities]);
    model.dispose();
  }
  // A Sequential MLP built by hand is recognised like the registry's functional one.
  const plain = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [...SHAPE] }), tf.layers.dense({ units: 16, activation: 'relu' }), tf.layers.dense({ units: CLASSES })] });
  const s = spec(plain);
  const step = compileNativeTrainStep(s);
  assert.ok(step !== undefined, 'sequential MLP compiles');
  step.dispose();
  tf.dispose([...s.velocities]);
  plain.dispose();
});
