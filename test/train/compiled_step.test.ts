// The loop with a backend's compiled training step (BackendSession.compileTrainStep): a fake compiled
// step that, like an ONNX Runtime graph, keeps its own copy of the weights and velocities and shows
// them to tfjs's variables only at sync(). The run must equal the generic path exactly, which holds
// only if the loop compiles after a restore and syncs before each evaluation, each checkpoint and
// the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfTypes from '@tensorflow/tfjs';
import { getModel } from '../../src/models/index.js';
import type { BackendSession, CompiledTrainStep, TrainStepSpec } from '../../src/backends/session.js';
import { FileCheckpointer } from '../../src/train/checkpoint.js';
import { train } from '../../src/train/loop.js';
import { trainStep } from '../../src/train/step.js';
import type { Tf } from '../../src/models/types.js';
import type { EpochRecord, TrainOptions } from '../../src/train/types.js';
import { tempDir } from '../support/temp.js';
import { cpuSession, loadCpu, toyImages } from './helpers.js';

const opts: TrainOptions = {
  seed: 3,
  epochs: 5,
  batchSize: 8,
  momentum: 0.9,
  schedule: { kind: 'exponential', initial: 0.05, decay: 0.9, staircase: true },
  weightDecay: { conv: 0.001, dense: 0.001 },
  preprocessing: { crop: [6, 6], standardize: true },
  augmentation: null,
  recordSteps: true,
  // Epochs 3 and 5 evaluate; the checkpoints after epochs 1, 2 and 4 must sync on their own.
  evalEvery: 3,
};
const data = { train: toyImages(40, 8, 8, 3, 1), test: toyImages(16, 8, 8, 3, 2), numClasses: 2 };
const withoutTimes = (h: readonly EpochRecord[]) => h.map(({ seconds: _, ...rest }) => rest);
/** A checkpoint keeps the history as JSON, where a loss of −0 comes back as 0. */
const asJson = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** What the loop did with the compiled steps it was given. */
interface Calls {
  compiled: number;
  runs: number;
  syncs: number;
  disposed: number;
}

/**
 * The generic step run on weights of its own: each run puts its copy into the variables, steps, takes
 * the result back and restores what the variables held, so tfjs sees the training only at sync().
 */
class ShadowStep implements CompiledTrainStep {
  private own: tfTypes.Tensor[];

  constructor(
    private readonly tf: Tf,
    private readonly spec: TrainStepSpec,
    private readonly session: BackendSession,
    private readonly calls: Calls,
  ) {
    this.own = this.variables().map((v) => tf.clone(v));
  }

  private variables(): tfTypes.Variable[] {
    return [...this.spec.slots.map((s) => s.variable), ...this.spec.velocities];
  }

  run(images: Float32Array, shape: readonly [number, number, number, number], labels: Int32Array, lr: number): tfTypes.Tensor1D {
    const { tf, spec } = this;
    const vars = this.variables();
    const seen = vars.map((v) => tf.clone(v));
    vars.forEach((v, i) => v.assign(this.own[i]!));
    const optimizer = {
      variables: spec.slots.map((s) => s.variable),
      apply: (grads: tfTypes.NamedTensorMap, rate: number) => this.session.momentum.apply(spec.slots, spec.velocities, grads, rate, spec.momentum),
    };
    const out = trainStep(tf, spec.model, optimizer, { images, shape, labels, numClasses: spec.numClasses }, lr);
    tf.dispose(this.own);
    this.own = vars.map((v) => tf.clone(v));
    vars.forEach((v, i) => v.assign(seen[i]!));
    tf.dispose(seen);
    this.calls.runs++;
    return out;
  }

  sync(): void {
    this.variables().forEach((v, i) => v.assign(this.own[i]!));
    this.calls.syncs++;
  }

  dispose(): void {
    this.tf.dispose(this.own);
    this.calls.disposed++;
  }
}

/** The cpu session with a compiled step that checks the spec it is given. */
async function compilingSession(tf: Tf, calls: Calls): Promise<BackendSession> {
  const base = await cpuSession();
  return {
    ...base,
    compileTrainStep: (spec) => {
      assert.deepEqual(spec.imageShape, [6, 6, 3]);
      assert.equal(spec.numClasses, 2);
      assert.equal(spec.batchSize, 8);
      assert.equal(spec.momentum, 0.9);
      assert.equal(spec.slots.length, spec.velocities.length);
      calls.compiled++;
      return new ShadowStep(tf, spec, base, calls);
    },
  };
}

const build = (seed = 9) => getModel('mlp_1x512').build({ inputShape: [6, 6, 3], numClasses: 2, seed, dropout: 0 });
const weightsOf = (m: tfTypes.LayersModel) => m.getWeights().map((t) => Array.from(t.dataSync()));

test('a compiled step trains exactly as the generic step: synced before each evaluation and at the end, disposed once', async () => {
  const tf = await loadCpu();
  const generic = await build();
  const expected = await train(tf, await cpuSession(), generic, data, opts);
  const expectedWeights = weightsOf(generic);
  generic.dispose();

  const before = tf.memory().numTensors;
  const calls: Calls = { compiled: 0, runs: 0, syncs: 0, disposed: 0 };
  const model = await build();
  const r = await train(tf, await compilingSession(tf, calls), model, data, opts);
  assert.deepEqual(withoutTimes(r.history), withoutTimes(expected.history));
  assert.deepEqual(r.steps, expected.steps);
  assert.deepEqual(weightsOf(model), expectedWeights);
  assert.deepEqual(calls, { compiled: 1, runs: r.totalSteps, syncs: 2, disposed: 1 }); // epoch 3's evaluation, epoch 5's (the end)
  model.dispose();
  assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
});

test('without an evaluation, the compiled step is synced once, before train() returns', async () => {
  const tf = await loadCpu();
  const quiet = { ...opts, epochs: 2, evalEvery: 0 };
  const generic = await build();
  await train(tf, await cpuSession(), generic, data, quiet);
  const expectedWeights = weightsOf(generic);
  generic.dispose();
  const calls: Calls = { compiled: 0, runs: 0, syncs: 0, disposed: 0 };
  const model = await build();
  await train(tf, await compilingSession(tf, calls), model, data, quiet);
  assert.equal(calls.syncs, 1);
  assert.deepEqual(weightsOf(model), expectedWeights);
  model.dispose();
});

test('with a compiled step, checkpoints hold the trained weights and a resumed run compiles after the restore', async () => {
  const tf = await loadCpu();
  const generic = await build();
  const expected = await train(tf, await cpuSession(), generic, data, opts);
  const expectedWeights = weightsOf(generic);
  generic.dispose();

  const dir = await tempDir('rethink-compiled-ckpt-');
  const abort = new AbortController();
  const calls: Calls = { compiled: 0, runs: 0, syncs: 0, disposed: 0 };
  const first = await build();
  await assert.rejects(
    train(tf, await compilingSession(tf, calls), first, data, opts, {
      signal: abort.signal,
      checkpoint: new FileCheckpointer(tf, dir, { intervalMs: 0 }),
      onEpoch: (e) => e.epoch === 2 && abort.abort(new Error('preempted')),
    }),
    /preempted/,
  );
  first.dispose();
  assert.equal(calls.syncs, 2, 'one sync before each checkpoint (epochs 1 and 2)');
  assert.equal(calls.disposed, 1, 'disposed when training stops on an abort');

  const second = await build(10); // other initial weights: a step compiled before the restore would train these
  const checkpoint = new FileCheckpointer(tf, dir, { intervalMs: 0 });
  const resumed = await train(tf, await compilingSession(tf, calls), second, data, opts, { checkpoint });
  assert.equal(checkpoint.resumedAfter, 2);
  assert.deepEqual(asJson(withoutTimes(resumed.history)), asJson(withoutTimes(expected.history)));
  assert.deepEqual(asJson(resumed.steps), asJson(expected.steps));
  assert.deepEqual(weightsOf(second), expectedWeights);
  second.dispose();
});
