// The loop with a backend's compiled training step (BackendSession.compileTrainStep): a fake compiled
// step that, like an ONNX Runtime graph, keeps its own copy of the weights and velocities and shows
// them to tfjs's variables only at sync(). The run must equal the generic path exactly, which holds
// only if the loop compiles after a restore and syncs before each evaluation, each checkpoint and
// the end. The loop hands the step chunks of up to maxChunkSteps batches: within an epoch, of one
// batch size, never past maxSteps; each step is reported as the generic path reports it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfTypes from '@tensorflow/tfjs';
import { getModel } from '../../src/models/index.js';
import type { BackendSession, CompiledTrainStep, StepOutcome, TrainChunk, TrainStepSpec } from '../../src/backends/session.js';
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
  /** Steps run. */
  runs: number;
  /** Each chunk's [steps, batch size], in order (when asked for). */
  chunks?: Array<[number, number]>;
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
    readonly maxChunkSteps: number,
  ) {
    this.own = this.variables().map((v) => tf.clone(v));
  }

  private variables(): tfTypes.Variable[] {
    return [...this.spec.slots.map((s) => s.variable), ...this.spec.velocities];
  }

  run(chunk: TrainChunk): StepOutcome[] {
    const { tf, spec } = this;
    const { shape, lrs } = chunk;
    assert.ok(lrs.length >= 1 && lrs.length <= this.maxChunkSteps, `a chunk of ${lrs.length} steps`);
    const [b] = shape;
    const per = chunk.images.length / lrs.length;
    assert.equal(chunk.labels.length, lrs.length * b);
    this.calls.chunks?.push([lrs.length, b]);
    const vars = this.variables();
    const seen = vars.map((v) => tf.clone(v));
    vars.forEach((v, i) => v.assign(this.own[i]!));
    const optimizer = {
      variables: spec.slots.map((s) => s.variable),
      apply: (grads: tfTypes.NamedTensorMap, rate: number) => this.session.momentum.apply(spec.slots, spec.velocities, grads, rate, spec.momentum),
    };
    const outcomes = lrs.map((lr, j) => {
      const batch = { images: chunk.images.subarray(j * per, (j + 1) * per), shape, labels: chunk.labels.subarray(j * b, (j + 1) * b), numClasses: spec.numClasses };
      const out = trainStep(tf, spec.model, optimizer, batch, lr);
      const [loss, correct] = out.dataSync();
      out.dispose();
      return { loss: loss!, correct: correct! };
    });
    tf.dispose(this.own);
    this.own = vars.map((v) => tf.clone(v));
    vars.forEach((v, i) => v.assign(seen[i]!));
    tf.dispose(seen);
    this.calls.runs += lrs.length;
    return outcomes;
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
async function compilingSession(tf: Tf, calls: Calls, maxChunkSteps = 1): Promise<BackendSession> {
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
      return new ShadowStep(tf, spec, base, calls, maxChunkSteps);
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

test('chunks stay within an epoch, hold one batch size and stop at maxSteps, and train exactly as single steps', async () => {
  const tf = await loadCpu();
  // 37 images in batches of 8: four full batches and a short one of 5 per epoch.
  const odd = { ...data, train: toyImages(37, 8, 8, 3, 1) };
  const short = { ...opts, epochs: 3, maxSteps: 12, evalEvery: 0 };
  const generic = await build();
  const expected = await train(tf, await cpuSession(), generic, odd, short);
  const expectedWeights = weightsOf(generic);
  generic.dispose();
  assert.equal(expected.totalSteps, 12);

  const calls: Calls = { compiled: 0, runs: 0, syncs: 0, disposed: 0, chunks: [] };
  const model = await build();
  const onStep: number[] = [];
  const r = await train(tf, await compilingSession(tf, calls, 3), model, odd, short, { onStep: (p) => onStep.push(p.globalStep) });
  // Epoch 1: steps 1–3, then 4 (the epoch's last full batch), then the short one alone; epoch 2 the
  // same; epoch 3 stops at step 12, two steps into a chunk that could have held three.
  assert.deepEqual(calls.chunks, [[3, 8], [1, 8], [1, 5], [3, 8], [1, 8], [1, 5], [2, 8]]);
  assert.equal(r.stoppedBy, 'max_steps');
  assert.equal(r.totalSteps, 12);
  assert.deepEqual(onStep, Array.from({ length: 12 }, (_, i) => i + 1));
  assert.deepEqual(withoutTimes(r.history), withoutTimes(expected.history));
  assert.deepEqual(r.steps, expected.steps);
  assert.deepEqual(weightsOf(model), expectedWeights);
  model.dispose();
});

test('an abort is seen between chunks: the steps already reported are whole chunks', async () => {
  const tf = await loadCpu();
  const abort = new AbortController();
  const calls: Calls = { compiled: 0, runs: 0, syncs: 0, disposed: 0, chunks: [] };
  const model = await build();
  const reported: number[] = [];
  await assert.rejects(
    train(tf, await compilingSession(tf, calls, 2), model, data, { ...opts, evalEvery: 0 }, {
      signal: abort.signal,
      onStep: (p) => {
        reported.push(p.globalStep);
        if (p.globalStep === 3) abort.abort(new Error('stop'));
      },
    }),
    /stop/,
  );
  // Aborted during step 3's report: its chunk (steps 3 and 4) had run; no further chunk starts.
  assert.deepEqual(calls.chunks, [[2, 8], [2, 8]]);
  assert.deepEqual(reported, [1, 2, 3, 4]);
  assert.equal(calls.disposed, 1);
  model.dispose();
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
