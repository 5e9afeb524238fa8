import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitLinear, SingularGramError, type LinearProblem, type SgdOptions } from '../../../stages/linear/sgd.js';
import { Rng } from '../../../src/util/random.js';

/** n Gaussian points in d dimensions with random labels among `classes`: well conditioned, so SGD converges in few epochs. */
function problem(n: number, d: number, classes: number, seed: number): LinearProblem {
  const rng = Rng.derive(seed, 'test');
  const x = Float64Array.from({ length: n * d }, () => rng.normal() / Math.sqrt(d));
  return { x, labels: Int32Array.from({ length: n }, () => rng.int(classes)), n, d, classes };
}

const OPTIONS: SgdOptions = { init: 'zero', initScale: 0.5, epochs: 300, lr: 1, batchSize: 1, seed: 3, historyPoints: 10 };

test('from W₀ = 0, SGD interpolates and ends at the minimum-norm interpolant, never leaving the span of the data', () => {
  const fit = fitLinear(problem(8, 30, 3, 1), problem(5, 30, 3, 2), OPTIONS);
  assert.ok(fit.trainResidual < 1e-8, `residual ${fit.trainResidual}`);
  assert.equal(fit.trainError, 0);
  assert.ok(fit.distanceToMinNorm < 1e-8, `distance ${fit.distanceToMinNorm}`);
  assert.ok(fit.outsideSpan < 1e-12, `outside ${fit.outsideSpan}`);
  assert.equal(fit.initOutsideSpan, 0);
  assert.ok(Math.abs(fit.norm - fit.minNorm.norm) < 1e-8);
  assert.equal(fit.testError, fit.minNorm.testError);
  // The history starts at W₀ (distance 1 from W*, residual 1) and ends where the fit does.
  assert.deepEqual([fit.history[0]!.epoch, fit.history[0]!.distanceToMinNorm, fit.history[0]!.residual], [0, 1, 1]);
  assert.equal(fit.history.at(-1)!.epoch, 300);
  assert.equal(fit.history.length, 11);
});

test("from a random W₀, SGD ends at W* plus W₀'s part outside the span: that part never moves, and the norm grows by it", () => {
  const fit = fitLinear(problem(8, 30, 3, 1), problem(5, 30, 3, 2), { ...OPTIONS, init: 'random' });
  assert.ok(fit.trainResidual < 1e-8);
  assert.ok(fit.distanceToPredicted < 1e-8, `predicted ${fit.distanceToPredicted}`);
  assert.ok(fit.distanceToMinNorm > 0.1, `a different interpolant: ${fit.distanceToMinNorm}`);
  assert.ok(fit.initOutsideSpan > 1);
  assert.ok(Math.abs(fit.outsideSpan - fit.initOutsideSpan) < 1e-10 * fit.initOutsideSpan);
  assert.ok(Math.abs(fit.norm ** 2 - (fit.minNorm.norm ** 2 + fit.initOutsideSpan ** 2)) < 1e-8 * fit.norm ** 2);
  // Same seed, same numbers; another seed, another W₀.
  assert.deepEqual(fitLinear(problem(8, 30, 3, 1), problem(5, 30, 3, 2), { ...OPTIONS, init: 'random' }), fit);
  assert.notEqual(fitLinear(problem(8, 30, 3, 1), problem(5, 30, 3, 2), { ...OPTIONS, init: 'random', seed: 4 }).initOutsideSpan, fit.initOutsideSpan);
});

test('too few epochs leave a residual that the metrics report rather than hide', () => {
  const fit = fitLinear(problem(8, 30, 3, 1), problem(0, 30, 3, 2), { ...OPTIONS, epochs: 1, lr: 0.05 });
  assert.ok(fit.trainResidual > 0.1 && fit.distanceToMinNorm > 0.1, JSON.stringify([fit.trainResidual, fit.distanceToMinNorm]));
  assert.ok(Number.isNaN(fit.testError), 'no test points: no test error');
});

test('linearly dependent training points have no unique interpolant: a user error that says what to change', () => {
  const p = problem(4, 30, 2, 1);
  const x = Float64Array.from(p.x);
  x.copyWithin(30, 0, 30); // the second point repeats the first
  assert.throws(() => fitLinear({ ...p, x }, problem(0, 30, 2, 2), OPTIONS), (e: unknown) => e instanceof SingularGramError && e.userError && /linearly dependent/.test(e.message));
});
