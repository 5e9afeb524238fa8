import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preprocessBatch } from '../../src/data/preprocess.js';
import { Rng } from '../../src/util/random.js';

test('centre crop 32→28 takes rows and columns 2..29', () => {
  const x = new Uint8Array(32 * 32 * 3);
  for (let r = 0; r < 32; r++) for (let c = 0; c < 32; c++) x.set([r, c, 7], (r * 32 + c) * 3);
  const { data, shape } = preprocessBatch(x, [1, 32, 32, 3], { crop: [28, 28], standardize: false });
  assert.deepEqual(shape, [1, 28, 28, 3]);
  assert.equal(Math.round(data[0]! * 255), 2);
  assert.equal(Math.round(data[1]! * 255), 2);
  const last = (27 * 28 + 27) * 3;
  assert.deepEqual([Math.round(data[last]! * 255), Math.round(data[last + 1]! * 255), Math.round(data[last + 2]! * 255)], [29, 29, 7]);
});

test('per-image standardization: zero mean, unit population std, over H·W·C of each image', () => {
  const rng = Rng.derive(5);
  const x = Uint8Array.from({ length: 4 * 32 * 32 * 3 }, () => rng.int(256));
  const { data } = preprocessBatch(x, [4, 32, 32, 3], { crop: [28, 28] });
  const n = 28 * 28 * 3;
  for (let i = 0; i < 4; i++) {
    const img = data.subarray(i * n, (i + 1) * n);
    const mean = img.reduce((a, b) => a + b, 0) / n;
    const variance = img.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    assert.ok(Math.abs(mean) < 1e-5, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 1e-4, `variance ${variance}`);
  }
  // Matches a direct computation of (x/255 − mean) / max(std, 1/√N) on one value.
  const first = Array.from({ length: 28 }, (_, r) => Array.from(x.subarray(((2 + r) * 32 + 2) * 3, ((2 + r) * 32 + 30) * 3))).flat().map((v) => v / 255);
  const m = first.reduce((a, b) => a + b, 0) / n;
  const s = Math.sqrt(first.reduce((a, b) => a + (b - m) ** 2, 0) / n);
  assert.ok(Math.abs(data[0]! - (first[0]! - m) / Math.max(s, 1 / Math.sqrt(n))) < 1e-5);
});

test('a constant image is divided by 1/√N, not by zero', () => {
  const { data } = preprocessBatch(new Uint8Array(2 * 2 * 1).fill(9), [1, 2, 2, 1]);
  assert.deepEqual(Array.from(data), [0, 0, 0, 0]);
});

test('explicit offsets crop each image where asked; float input in 0..255 works the same', () => {
  const x = Float32Array.from({ length: 2 * 4 * 4 * 1 }, (_, k) => k);
  const { data, shape } = preprocessBatch(x, [2, 4, 4, 1], { crop: [2, 2], offsets: [0, 0, 2, 1], standardize: false });
  assert.deepEqual(shape, [2, 2, 2, 1]);
  assert.deepEqual(Array.from(data, (v) => Math.round(v * 255)), [0, 1, 4, 5, 16 + 9, 16 + 10, 16 + 13, 16 + 14]);
  assert.throws(() => preprocessBatch(x, [2, 4, 4, 1], { crop: [2, 2], offsets: [3, 0, 0, 0] }), /out of range/);
  assert.throws(() => preprocessBatch(x, [2, 4, 4, 1], { crop: [5, 2] }), /does not fit/);
});
