import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness } from '../../../src/testing/harness.js';
import { Rng } from '../../../src/util/random.js';
import { kernelFit, NotPositiveDefiniteError } from '../../../stages/kernel/solve.js';
import { kernelPlugin } from '../../../stages/kernel/plugin.js';

/** Two classes in d dimensions: points around two centres. */
function blobs(n: number, d: number, seed: number): { x: Float64Array; labels: Int32Array } {
  const rng = Rng.derive(seed, 'blobs');
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  const x = Float64Array.from({ length: n * d }, (_, k) => (labels[Math.floor(k / d)] === 1 ? 0.7 : 0.3) + 0.15 * rng.normal());
  return { x, labels };
}

test('the min-norm kernel interpolant fits any labels exactly; true labels generalize, random ones do not', () => {
  const d = 6;
  const train = blobs(120, d, 1);
  const test_ = blobs(200, d, 2);
  const truth = kernelFit(train, test_, d, 2, { gamma: 0.5, ridge: 0 });
  assert.equal(truth.trainError, 0);
  assert.ok(truth.testError < 0.05, String(truth.testError));
  const rng = Rng.derive(3, 'shuffle');
  const random = kernelFit({ x: train.x, labels: Int32Array.from(train.labels, () => rng.int(2)) }, test_, d, 2, { gamma: 0.5, ridge: 0 });
  assert.equal(random.trainError, 0, 'random labels are interpolated too');
  assert.ok(random.testError > 0.3, String(random.testError));
  assert.ok(random.norm > 2 * truth.norm, `random labels need a larger norm: ${random.norm} vs ${truth.norm}`);
  // Ridge trades the exact fit for a smaller norm.
  const ridge = kernelFit({ x: train.x, labels: Int32Array.from(train.labels, () => rng.int(2)) }, test_, d, 2, { gamma: 0.5, ridge: 10 });
  assert.ok(ridge.trainError > 0 && ridge.norm < random.norm);
});

test('duplicate points make K singular: a user error that suggests ridge, which then works', () => {
  const x = Float64Array.from([0, 0, 1, 1, 0, 0]);
  const labels = Int32Array.from([0, 1, 0]);
  const empty = { x: new Float64Array(0), labels: new Int32Array(0) };
  assert.throws(() => kernelFit({ x, labels }, empty, 2, 2, { gamma: 1, ridge: 0 }), (e: unknown) => e instanceof NotPositiveDefiniteError && /set ridge > 0/.test(e.message));
  assert.ok(Number.isFinite(kernelFit({ x, labels }, empty, 2, 2, { gamma: 1, ridge: 0.1 }).norm));
});

test('the kernel stage takes the first n training and m test images of a dataset', async () => {
  const h = await createHarness();
  try {
    const side = 3;
    const img = (n: number, seed: number) => {
      const b = blobs(n, side * side, seed);
      return { x: Uint8Array.from(b.x, (v) => Math.max(0, Math.min(255, Math.round(v * 255)))), y: b.labels };
    };
    const [tr, te] = [img(60, 4), img(30, 5)];
    const dataset = {
      tensors: {
        x_train: { dtype: 'uint8' as const, shape: [60, side, side, 1], data: tr.x },
        y_train: { dtype: 'int32' as const, shape: [60], data: tr.y },
        x_test: { dtype: 'uint8' as const, shape: [30, side, side, 1], data: te.x },
        y_test: { dtype: 'int32' as const, shape: [30], data: te.y },
      },
    };
    const r = await h.run(kernelPlugin, { params: { n_train: 40, n_test: 20, gamma: 0.5 }, inputs: { dataset } });
    const m = await r.outputs['metrics']!.readJson<{ n_train: number; n_test: number; d: number; train_error: number; test_error: number }>();
    assert.deepEqual([m.n_train, m.n_test, m.d, m.train_error], [40, 20, 9, 0]);
    assert.ok(m.test_error <= 0.1, String(m.test_error));
    const all = await (await h.run(kernelPlugin, { params: { n_train: 40, gamma: 0.5 }, inputs: { dataset } })).outputs['metrics']!.readJson<{ n_test: number }>();
    assert.equal(all.n_test, 30);
    await assert.rejects(
      h.run(kernelPlugin, { params: { n_train: 61 }, inputs: { dataset } }),
      (e: unknown) => (e as { userError?: boolean }).userError === true && /n_train = 61, but the dataset has 60 training images/.test((e as Error).message),
    );
  } finally {
    await h.close();
  }
});
