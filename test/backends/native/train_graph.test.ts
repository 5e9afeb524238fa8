// The compiled MLP training step (src/backends/native/train_graph/) against the generic tfjs step on
// the native backend: same weights, velocities, losses and accuracy counts within the kernel tests'
// tolerance (decay on and off, a short last batch, the learning rate changing between steps); two
// fresh compiles bitwise equal; sync() writes exactly the step's state; non-MLPs are not compiled.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { CompiledTrainStep, TrainStepSpec } from '../../../src/backends/session.js';
import { compileNativeTrainStep } from '../../../src/backends/native/train_graph/compile.js';
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

async function compiled(name: string, decay: number, data: readonly Batch[]): Promise<Trained> {
  const { model, sgd, spec } = await build(name, decay);
  const step = compileNativeTrainStep(spec);
  assert.ok(step !== undefined, `${name} compiles`);
  const stats: Array<[number, number]> = [];
  for (const b of data) {
    const out = step.run(b.images, b.shape, b.labels, b.lr);
    stats.push(Array.from(out.dataSync()) as [number, number]);
    out.dispose();
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
  for (const b of data.slice(0, 2)) first.run(b.images, b.shape, b.labels, b.lr).dispose();
  first.sync();
  const synced = snapshot(spec);
  const second = compileNativeTrainStep(spec)!;
  const last = data[2]!;
  const run = (s: CompiledTrainStep): Float32Array[] => {
    const out = s.run(last.images, last.shape, last.labels, last.lr);
    const stats = out.dataSync().slice() as Float32Array;
    out.dispose();
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
