// The `pad` stage: Fashion-MNIST's 28×28×1 in the paper's 32×32×3 geometry (SPEC §2.4), streamed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, type HarnessInput } from '../../../src/testing/harness.js';
import type { TensorData } from '../../../src/tensors/types.js';
import { pad } from '../../../stages/datasets/pad.js';
import { applyPadGeometry, padGeometry, PAPER_CROP } from '../../../src/data/pad-geometry.js';
import { countParams } from '../../../src/models/registry.js';
import { preprocessingOf, type TrainParams } from '../../../stages/train/params.js';

/** `n` grayscale 28×28 images whose pixel (r, c) of image i is 1 + (i + r + c) % 255: never 0. */
function grayscale(n: number): Uint8Array {
  const x = new Uint8Array(n * 28 * 28);
  for (let i = 0; i < n; i++) for (let r = 0; r < 28; r++) for (let c = 0; c < 28; c++) x[(i * 28 + r) * 28 + c] = 1 + ((i + r + c) % 255);
  return x;
}

interface DatasetInput {
  readonly tensors: Record<'x_train' | 'y_train' | 'x_test' | 'y_test', TensorData>;
  readonly metadata: Record<string, string>;
}

function dataset(nTrain: number, nTest: number): DatasetInput & HarnessInput {
  return {
    tensors: {
      x_train: { dtype: 'uint8', shape: [nTrain, 28, 28, 1], data: grayscale(nTrain) },
      y_train: { dtype: 'int32', shape: [nTrain], data: Int32Array.from({ length: nTrain }, (_, i) => i % 10) },
      x_test: { dtype: 'uint8', shape: [nTest, 28, 28, 1], data: grayscale(nTest) },
      y_test: { dtype: 'int32', shape: [nTest], data: Int32Array.from({ length: nTest }, (_, i) => (i * 3) % 10) },
    },
    metadata: { classes: JSON.stringify(Array.from({ length: 10 }, (_, i) => `c${i}`)) },
  };
}

test('pad: 28×28×1 → 32×32×3, a 2-pixel border of 0 and every channel the grayscale value', async (t) => {
  const h = await createHarness();
  t.after(() => h.close());
  // 4,100 training images: more than one 4,096-row read, so the second chunk is checked too.
  const input = dataset(4100, 7);
  const r = await h.run(pad, { params: { size: 32, channels: 3 }, inputs: { dataset: input } });
  const ds = await r.outputs['dataset']!.readTensors();
  t.after(() => ds.close());
  assert.deepEqual(ds.tensors['x_train']!.shape, [4100, 32, 32, 3]);
  assert.deepEqual(ds.tensors['x_test']!.shape, [7, 32, 32, 3]);
  assert.deepEqual((await ds.read('y_train')).data, input.tensors.y_train.data);
  assert.deepEqual((await ds.read('y_test')).data, input.tensors.y_test.data);
  assert.equal(ds.metadata['classes'], input.metadata['classes']);

  const x = (await ds.read('x_train')).data as Uint8Array;
  const src = input.tensors.x_train.data as Uint8Array;
  for (const i of [0, 1, 4095, 4096, 4099]) {
    for (let r = 0; r < 32; r++) {
      for (let c = 0; c < 32; c++) {
        const inside = r >= 2 && r < 30 && c >= 2 && c < 30;
        const want = inside ? src[(i * 28 + r - 2) * 28 + c - 2]! : 0;
        for (let k = 0; k < 3; k++) assert.equal(x[((i * 32 + r) * 32 + c) * 3 + k], want, `image ${i} (${r}, ${c}) channel ${k}`);
      }
    }
  }
  const metrics = await r.outputs['metrics']!.readJson<Record<string, unknown>>();
  assert.deepEqual(metrics['border'], { top: 2, left: 2, bottom: 2, right: 2 });
});

test('pad: the paper geometry gives MLP 1x512 the printed 1,209,866 parameters after the 28×28 crop', () => {
  const stored = padGeometry({ height: 28, width: 28, channels: 1 }, { height: 32, width: 32, channels: 3 }).to;
  const crop = preprocessingOf({ preprocessing: { crop: PAPER_CROP, standardize: true } } as TrainParams, stored).crop!;
  assert.equal(countParams('mlp_1x512', [crop[0], crop[1], stored.channels]), 1_209_866);
  // The native geometry: the crop keeps everything, one channel.
  assert.equal(countParams('mlp_1x512', [28, 28, 1]), 407_050);
});

test('pad: fill, odd differences, identity, and what it refuses', async (t) => {
  const g = padGeometry({ height: 2, width: 2, channels: 1 }, { height: 5, width: 4, channels: 1 }, 9);
  assert.deepEqual([g.top, g.left], [1, 1], 'the extra row goes below');
  assert.deepEqual([...applyPadGeometry(g, Uint8Array.from([1, 2, 3, 4]), 1)], [9, 9, 9, 9, 9, 1, 2, 9, 9, 3, 4, 9, 9, 9, 9, 9, 9, 9, 9, 9]);
  const same = padGeometry({ height: 2, width: 2, channels: 3 }, { height: 2, width: 2, channels: 3 });
  const x = Uint8Array.from({ length: 12 }, (_, i) => i);
  assert.deepEqual(applyPadGeometry(same, x, 1), x);
  assert.throws(() => padGeometry({ height: 32, width: 32, channels: 3 }, { height: 28, width: 28, channels: 3 }), /smaller 28×28/);
  assert.throws(() => padGeometry({ height: 28, width: 28, channels: 3 }, { height: 32, width: 32, channels: 1 }), /only 1 channel/);

  const h = await createHarness();
  t.after(() => h.close());
  await assert.rejects(h.run(pad, { params: { size: 24 }, inputs: { dataset: dataset(2, 2) } }), (e: Error) => {
    assert.equal((e as { reason?: string }).reason, 'bad_params');
    assert.match(e.message, /pad: cannot pad 28×28 images to the smaller 24×24 \(input 28×28×1\)/);
    return true;
  });
});
