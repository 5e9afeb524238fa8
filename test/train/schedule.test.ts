import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSchedule, learningRate } from '../../src/train/schedule.js';

test('exponential schedule: staircase per epoch and continuous', () => {
  const s = { kind: 'exponential', initial: 0.1, decay: 0.95, staircase: true } as const;
  assert.equal(learningRate(s, 0, 391), 0.1);
  assert.equal(learningRate(s, 390, 391), 0.1);
  assert.ok(Math.abs(learningRate(s, 391, 391) - 0.095) < 1e-12);
  assert.ok(Math.abs(learningRate(s, 391 * 10 + 5, 391) - 0.1 * 0.95 ** 10) < 1e-12);
  const c = { ...s, staircase: false };
  assert.ok(Math.abs(learningRate(c, 195.5, 391) - 0.1 * 0.95 ** 0.5) < 1e-12);
});

test('piecewise schedule switches at the boundaries', () => {
  const s = { kind: 'piecewise', boundaries: [10, 20], values: [1, 0.1, 0.01] } as const;
  assert.deepEqual([0, 9, 10, 19, 20, 1000].map((g) => learningRate(s, g, 5)), [1, 1, 0.1, 0.1, 0.01, 0.01]);
  assert.equal(checkSchedule(s), undefined);
  assert.match(checkSchedule({ ...s, values: [1] })!, /one more value/);
  assert.match(checkSchedule({ ...s, boundaries: [5, 5], values: [1, 2, 3] })!, /ascending/);
  assert.match(checkSchedule({ kind: 'exponential', initial: 0, decay: 1, staircase: true })!, /positive/);
});

test('exponential schedule with decaySteps: the decay follows steps, not the run’s epoch (the paper’s 391 on a subset)', () => {
  const s = { kind: 'exponential', initial: 0.01, decay: 0.95, staircase: true, decaySteps: 391 } as const;
  // An epoch of 8 steps: after 48 such epochs (384 steps) still the initial rate; at step 391 one decay.
  assert.equal(learningRate(s, 384, 8), 0.01);
  assert.ok(Math.abs(learningRate(s, 391, 8) - 0.0095) < 1e-12);
  assert.ok(Math.abs(learningRate({ ...s, staircase: false }, 195.5, 8) - 0.01 * 0.95 ** 0.5) < 1e-12);
  assert.equal(checkSchedule(s), undefined);
  assert.match(checkSchedule({ ...s, decaySteps: 0 })!, /decay steps must be a positive integer/);
});
