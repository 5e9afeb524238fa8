import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, type HarnessInput } from '../../../src/testing/harness.js';
import { subset } from '../../../stages/datasets/subset.js';
import { classCounts } from '../../../src/data/dataset.js';
import { DataError } from '../../../src/data/errors.js';

const S = 4; // 2×2×1 images
/** Image i is filled with i & 0xff and (i >> 8) so each row names its source index. */
function split(n: number, classOf: (i: number) => number): { x: Uint8Array; y: Int32Array } {
  const x = new Uint8Array(n * S);
  for (let i = 0; i < n; i++) x.set([i & 0xff, i >> 8, i & 0xff, i >> 8], i * S);
  return { x, y: Int32Array.from({ length: n }, (_, i) => classOf(i)) };
}

// Unbalanced classes: class c has 100 + 30·c training examples.
const trainY: number[] = [];
for (let c = 0; c < 5; c++) for (let k = 0; k < 100 + 30 * c; k++) trainY.push(c);
const trainOrder = trainY.map((_, i) => (i * 7919) % trainY.length); // interleave classes deterministically
const train = split(trainY.length, (i) => trainY[trainOrder[i]!]!);
const testSplit = split(250, (i) => i % 5);

const input: HarnessInput = {
  tensors: {
    x_train: { dtype: 'uint8', shape: [train.y.length, 2, 2, 1], data: train.x },
    y_train: { dtype: 'int32', shape: [train.y.length], data: train.y },
    x_test: { dtype: 'uint8', shape: [250, 2, 2, 1], data: testSplit.x },
    y_test: { dtype: 'int32', shape: [250], data: testSplit.y },
  },
  metadata: { classes: JSON.stringify(['a', 'b', 'c', 'd', 'e']) },
};

test('subset keeps n per class (or a fraction), in dataset order, with images matching labels', async (t) => {
  const h = await createHarness();
  t.after(() => h.close());
  const r = await h.run(subset, { params: { train: { per_class: 40 }, test: { fraction: 0.2 } }, seed: 3, inputs: { dataset: input } });
  const ds = await r.outputs['dataset']!.readTensors();
  const x = (await ds.read('x_train')).data as Uint8Array;
  const y = (await ds.read('y_train')).data as Int32Array;
  assert.deepEqual(classCounts(y, 5), [40, 40, 40, 40, 40]);
  const yTest = (await ds.read('y_test')).data as Int32Array;
  assert.deepEqual(classCounts(yTest, 5), [10, 10, 10, 10, 10]);
  let last = -1;
  for (let j = 0; j < y.length; j++) {
    const src = x[j * S]! | (x[j * S + 1]! << 8);
    assert.ok(src > last, 'dataset order kept');
    last = src;
    assert.equal(y[j], train.y[src], 'image and label come from the same example');
  }
  assert.equal(ds.metadata['classes'], JSON.stringify(['a', 'b', 'c', 'd', 'e']));
  await ds.close();

  const same = await h.run(subset, { params: { train: { per_class: 40 }, test: { fraction: 0.2 } }, seed: 3, inputs: { dataset: input } });
  const other = await h.run(subset, { params: { train: { per_class: 40 }, test: { fraction: 0.2 } }, seed: 4, inputs: { dataset: input } });
  assert.equal(same.outputs['dataset']!.hash, r.outputs['dataset']!.hash);
  assert.notEqual(other.outputs['dataset']!.hash, r.outputs['dataset']!.hash);

  const onlyTrain = await h.run(subset, { params: { train: { fraction: 0.5 } }, seed: 3, inputs: { dataset: input } });
  const ds2 = await onlyTrain.outputs['dataset']!.readTensors();
  assert.deepEqual(classCounts((await ds2.read('y_train')).data as Int32Array, 5), [50, 65, 80, 95, 110]);
  assert.deepEqual((await ds2.read('x_test')).data, testSplit.x, 'test left whole');
  await ds2.close();

  await assert.rejects(
    h.run(subset, { params: { train: { per_class: 101 } }, inputs: { dataset: input } }),
    (e: unknown) => e instanceof DataError && /per_class 101 exceeds the 100 examples of class a/.test(e.message),
  );
  await assert.rejects(h.run(subset, { params: { train: { per_class: 1, fraction: 0.1 } }, inputs: { dataset: input } }), /invalid params/);
});
