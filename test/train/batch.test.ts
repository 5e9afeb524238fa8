import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchShape, makeBatch } from '../../src/train/batch.js';
import { Rng } from '../../src/util/random.js';
import type { ImageSet } from '../../src/train/types.js';

// One 4×4×1 image with pixel value 10·row + col, and a second constant image.
const set: ImageSet = {
  images: Uint8Array.from([...Array.from({ length: 16 }, (_, i) => 10 * Math.floor(i / 4) + (i % 4)), ...new Array<number>(16).fill(7)]),
  shape: [2, 4, 4, 1],
  labels: Int32Array.from([0, 1]),
};
const raw = { crop: null, standardize: false } as const;
const scaled = (xs: Float32Array): number[] => Array.from(xs, (v) => Math.round(v * 255));

test('centre crop and ÷255', () => {
  const out = makeBatch(set, [0], { crop: [2, 2], standardize: false }, null, null);
  assert.deepEqual(scaled(out.data), [11, 12, 21, 22]);
  assert.deepEqual(out.shape, [1, 2, 2, 1]);
  assert.deepEqual(batchShape(set.shape, { crop: [2, 2], standardize: true }), { height: 2, width: 2, channels: 1 });
  assert.throws(() => batchShape(set.shape, { crop: [5, 4], standardize: false }), /larger/);
});

test('per-image standardization: (x − mean) / max(std, 1/√N) on the [0,1] scale', () => {
  const contrast: ImageSet = { images: Uint8Array.from({ length: 16 }, (_, i) => (i % 2) * 255), shape: [1, 4, 4, 1], labels: Int32Array.from([0]) };
  const out = makeBatch(contrast, [0], { crop: null, standardize: true }, null, null);
  Array.from(out.data).forEach((v, i) => assert.ok(Math.abs(v - (i % 2 === 1 ? 1 : -1)) < 1e-6));
  // Low contrast: std (≈11.2/255) is under the 1/√16 floor, which then divides.
  const low = makeBatch(set, [0, 1], { crop: null, standardize: true }, null, null);
  const xs = Array.from(set.images.subarray(0, 16), (v) => v / 255);
  const mean = xs.reduce((a, v) => a + v, 0) / 16;
  xs.forEach((v, i) => assert.ok(Math.abs(low.data[i]! - (v - mean) / 0.25) < 1e-6));
  // A constant image becomes (near) zeros, not NaN.
  assert.ok(low.data.subarray(16).every((v) => Math.abs(v) < 1e-6));
});

test('augmentation: seeded, flip mirrors, padding reads zeros, rotation 0 is a plain crop', () => {
  const aug = { randomCrop: true, pad: 1, flip: true, rotateDegrees: 0 } as const;
  const draw = (seed: number): number[] => {
    const out = makeBatch(set, [0, 0, 0, 0, 0, 0, 0, 0], raw, aug, Rng.derive(seed, 'a'));
    return scaled(out.data);
  };
  assert.deepEqual(draw(1), draw(1));
  assert.notDeepEqual(draw(1), draw(2));
  const images = draw(3);
  const seen = new Set<string>();
  for (let b = 0; b < 8; b++) seen.add(images.slice(b * 16, b * 16 + 16).join(','));
  assert.ok(seen.size > 1, 'different crops/flips within a batch');
  // Every output row is a (possibly mirrored, shifted) stored row, or zeros from the padding.
  for (let b = 0; b < 8; b++) {
    for (let r = 0; r < 4; r++) {
      const row = images.slice(b * 16 + r * 4, b * 16 + r * 4 + 4).filter((v) => v !== 0);
      const tens = new Set(row.map((v) => Math.floor(v / 10)));
      assert.ok(tens.size <= 1, `row ${row} mixes stored rows`);
    }
  }
  const flipOnly = makeBatch(set, [0, 0, 0, 0, 0, 0, 0, 0], raw, { randomCrop: false, pad: 0, flip: true, rotateDegrees: 0 }, Rng.derive(0, 'flip'));
  const mirrored = [3, 2, 1, 0, 13, 12, 11, 10, 23, 22, 21, 20, 33, 32, 31, 30].join();
  const original = Array.from(set.images.subarray(0, 16)).join();
  const kinds = new Set<string>();
  for (let b = 0; b < 8; b++) {
    const img = scaled(flipOnly.data.subarray(b * 16, b * 16 + 16)).join();
    assert.ok(img === mirrored || img === original, img);
    kinds.add(img);
  }
  assert.equal(kinds.size, 2, 'both flipped and unflipped images occur');
});

test('rotation by a tiny angle is close to the identity, by 90° moves pixels', () => {
  const out = makeBatch(set, [0], raw, { randomCrop: false, pad: 0, flip: false, rotateDegrees: 1e-4 }, Rng.derive(1, 'r'));
  assert.deepEqual(scaled(out.data), Array.from(set.images.subarray(0, 16)));
  // ±90° (uniform in [−90, 90]) almost surely moves the corner pixels.
  const turned = makeBatch(set, [0], raw, { randomCrop: false, pad: 0, flip: false, rotateDegrees: 90 }, Rng.derive(4, 'r'));
  assert.notDeepEqual(scaled(turned.data), Array.from(set.images.subarray(0, 16)));
});

test('a batch is written into the given array when there is one, and rows already in batch order are taken as they are', () => {
  const pre = { crop: [2, 2], standardize: true } as const;
  // [1, 0] must gather (the second image first); [0, 1] over a two-image set is the set itself.
  for (const indices of [[1, 0], [0, 1]]) {
    const fresh = makeBatch(set, indices, pre, null, null);
    const slot = new Float32Array(8).fill(Number.NaN);
    const into = makeBatch(set, indices, pre, null, null, slot);
    assert.equal(into.data, slot);
    assert.deepEqual(Array.from(slot), Array.from(fresh.data));
  }
  assert.deepEqual(scaled(makeBatch(set, [1, 0], raw, null, null).data), [...new Array<number>(16).fill(7), ...scaled(makeBatch(set, [0], raw, null, null).data)]);
  // Augmented batches go through the same pipeline into the slot.
  const aug = { randomCrop: true, pad: 1, flip: true, rotateDegrees: 0 };
  const slot = new Float32Array(8);
  const a = makeBatch(set, [0, 1], pre, aug, Rng.derive(4, 'slot'), slot);
  assert.equal(a.data, slot);
  assert.deepEqual(Array.from(slot), Array.from(makeBatch(set, [0, 1], pre, aug, Rng.derive(4, 'slot')).data));
  assert.throws(() => makeBatch(set, [0, 1], pre, null, null, new Float32Array(7)), /out holds 7 values, the batch 8/);
});
