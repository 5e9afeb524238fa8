import { tempDir } from '../support/temp.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getModel } from '../../src/models/index.js';
import { FileCheckpointer, checkpointIntervalMs } from '../../src/train/checkpoint.js';
import { train } from '../../src/train/loop.js';
import { cpuSession, loadCpu, toyImages } from './helpers.js';
import type { EpochRecord, TrainOptions } from '../../src/train/types.js';

const opts: TrainOptions = {
  seed: 5,
  epochs: 5,
  batchSize: 8,
  momentum: 0.9,
  schedule: { kind: 'exponential', initial: 0.05, decay: 0.9, staircase: true },
  weightDecay: { conv: 0.001, dense: 0.001 },
  preprocessing: { crop: [6, 6], standardize: true },
  augmentation: { randomCrop: true, pad: 1, flip: true, rotateDegrees: 0 },
  recordSteps: true,
  evalEvery: 2,
};
const data = { train: toyImages(40, 8, 8, 3, 1), test: toyImages(16, 8, 8, 3, 2), numClasses: 2 };
const withoutTimes = (h: readonly EpochRecord[]) => h.map(({ seconds: _, ...rest }) => rest);

async function model(tf: Awaited<ReturnType<typeof loadCpu>>, dropout = 0) {
  return getModel('mlp_1x512').build({ inputShape: [6, 6, 3], numClasses: 2, seed: 9, dropout });
}

for (const dropout of [0, 0.5])
test(`a run interrupted after epoch 2 resumes from its checkpoint and ends bitwise where an uninterrupted run ends${dropout > 0 ? ', with dropout (its masks go on where they stood)' : ''}`, async () => {
  const tf = await loadCpu();
  const straight = await model(tf, dropout);
  const expected = await train(tf, await cpuSession(), straight, data, opts);
  const expectedWeights = straight.getWeights().map((t) => Array.from(t.dataSync()));
  straight.dispose();

  const dir = await tempDir('rethink-ckpt-');
  const notes: string[] = [];
  const abort = new AbortController();
  const first = await model(tf, dropout);
  await assert.rejects(
    train(tf, await cpuSession(), first, data, opts, {
      signal: abort.signal,
      checkpoint: new FileCheckpointer(tf, dir, { intervalMs: 0, onNote: (m) => notes.push(m) }),
      onEpoch: (e) => e.epoch === 2 && abort.abort(new Error('preempted')),
    }),
    /preempted/,
  );
  first.dispose();
  assert.deepEqual(await readdir(dir), ['train.safetensors']); // no temp file left behind

  const before = tf.memory().numTensors;
  const second = await model(tf, dropout); // fresh initial weights and mask streams: all must come from the checkpoint
  const epochs: number[] = [];
  const checkpoint = new FileCheckpointer(tf, dir, { intervalMs: 0, onNote: (m) => notes.push(m) });
  const resumed = await train(tf, await cpuSession(), second, data, opts, { checkpoint, onEpoch: (e) => epochs.push(e.epoch) });
  assert.deepEqual(epochs, [3, 4, 5]);
  assert.equal(checkpoint.resumedAfter, 2);
  assert.deepEqual(notes, ['resuming from the checkpoint after epoch 2 (step 10)']);
  assert.deepEqual(withoutTimes(resumed.history), withoutTimes(expected.history));
  assert.deepEqual(resumed.steps, expected.steps);
  assert.equal(resumed.totalSteps, expected.totalSteps);
  assert.deepEqual(second.getWeights().map((t) => Array.from(t.dataSync())), expectedWeights);
  second.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('a checkpoint that does not fit the model, or is not one, is set aside and training starts over', async () => {
  const tf = await loadCpu();
  const dir = await tempDir('rethink-ckpt-');
  const small = await getModel('mlp_1x512').build({ inputShape: [4, 4, 3], numClasses: 2, seed: 1 });
  await new FileCheckpointer(tf, dir, { intervalMs: 0 }).save({ weights: small.weights, velocities: [], streams: [] }, { epochsDone: 1, globalStep: 5, history: [], steps: [] });
  small.dispose();
  const notes: string[] = [];
  const m = await model(tf);
  const r = await train(tf, await cpuSession(), m, data, { ...opts, epochs: 1 }, { checkpoint: new FileCheckpointer(tf, dir, { intervalMs: 0, onNote: (n) => notes.push(n) }) });
  assert.equal(r.history.length, 1);
  assert.match(notes[0]!, /^checkpoint does not fit the model \(weight\/.+\); starting over$/);
  await writeFile(join(dir, 'train.safetensors'), 'garbage');
  const r2 = await train(tf, await cpuSession(), m, data, { ...opts, epochs: 1 }, { checkpoint: new FileCheckpointer(tf, dir, { intervalMs: 0, onNote: (n) => notes.push(n) }) });
  assert.equal(r2.history.length, 1);
  assert.match(notes[1]!, /^checkpoint unreadable, starting over/);
  m.dispose();
});

test('a checkpoint that does not say where a dropout layer\'s masks stand (written before it could) is set aside', async () => {
  const tf = await loadCpu();
  const dir = await tempDir('rethink-ckpt-');
  const m = await model(tf, 0.5);
  const sgdVelocities = m.trainableWeights.map((w) => tf.variable(tf.zerosLike(w.read())));
  await new FileCheckpointer(tf, dir, { intervalMs: 0 }).save({ weights: m.weights, velocities: sgdVelocities, streams: [] }, { epochsDone: 1, globalStep: 5, history: [], steps: [] });
  tf.dispose(sgdVelocities);
  const notes: string[] = [];
  const r = await train(tf, await cpuSession(), m, data, { ...opts, epochs: 1 }, { checkpoint: new FileCheckpointer(tf, dir, { intervalMs: 0, onNote: (n) => notes.push(n) }) });
  assert.equal(r.history.length, 1, 'trained from the start');
  assert.match(notes[0]!, /^checkpoint does not say where the masks of .*dropout.* stand; starting over$/);
  m.dispose();
});

test('saves wait for the interval; RETHINK_CHECKPOINT_SECONDS sets it', () => {
  let now = 1000;
  const c = new FileCheckpointer({} as never, '/nonexistent', { intervalMs: 60_000, now: () => now });
  assert.equal(c.due(), false);
  now += 60_000;
  assert.equal(c.due(), true);
  assert.equal(checkpointIntervalMs({}), 120_000);
  assert.equal(checkpointIntervalMs({ RETHINK_CHECKPOINT_SECONDS: '0' }), 0);
  assert.equal(checkpointIntervalMs({ RETHINK_CHECKPOINT_SECONDS: 'off' }), null);
  assert.throws(() => checkpointIntervalMs({ RETHINK_CHECKPOINT_SECONDS: '-1' }), /RETHINK_CHECKPOINT_SECONDS=-1: expected a number of seconds ≥ 0, or off/);
});
