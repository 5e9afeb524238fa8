import { test } from 'node:test';
import assert from 'node:assert/strict';
import { centralBox, distortColour, hsvToRgb, inceptionBatch, rgbToHsv, sampleDistortedBox } from '../../src/train/inception-preprocess.js';
import { makeBatch } from '../../src/train/batch.js';
import { Rng } from '../../src/util/random.js';
import { trainOptionsOf, TrainParamsError, trainParamsSchema, type TrainParams } from '../../stages/train/params.js';
import type { ImageSet } from '../../src/train/types.js';

/** `n` random RGB images of h×w. */
function images(n: number, h: number, w: number, seed: number): ImageSet {
  const rng = Rng.derive(seed, 'inception-test');
  return { images: Uint8Array.from({ length: n * h * w * 3 }, () => rng.int(256)), shape: [n, h, w, 3], labels: new Int32Array(n) };
}

test('sample_distorted_bounding_box: boxes inside the image, covering 10–100% of it at aspect 3/4–4/3, replayable from the seed', () => {
  const [h, w] = [60, 80];
  const draw = (seed: number) => Array.from({ length: 500 }, (_, i) => sampleDistortedBox(Rng.derive(seed, i), h, w));
  const boxes = draw(1);
  for (const b of boxes) {
    assert.ok(b.y >= 0 && b.x >= 0 && b.y + b.height <= h && b.x + b.width <= w, JSON.stringify(b));
    const area = (b.height * b.width) / (h * w);
    assert.ok(area >= 0.1 && area <= 1, `area ${area}`);
    // Whole pixels round the drawn aspect ratio: within half a pixel of the range.
    const aspect = b.width / b.height;
    assert.ok(aspect >= (3 / 4) * (1 - 1 / b.height) && aspect <= (4 / 3) * (1 + 1 / b.height), `aspect ${aspect} of ${JSON.stringify(b)}`);
  }
  assert.ok(new Set(boxes.map((b) => b.height * b.width)).size > 100, 'sizes vary');
  assert.ok(boxes.some((b) => b.height * b.width < 0.3 * h * w) && boxes.some((b) => b.height * b.width > 0.8 * h * w), 'small and large boxes');
  assert.deepEqual(draw(1), boxes);
  assert.notDeepEqual(draw(2), boxes);
});

test('central_crop(0.875) as TF rounds its margins', () => {
  assert.deepEqual(centralBox(100, 100, 0.875), { y: 6, x: 6, height: 88, width: 88 });
  assert.deepEqual(centralBox(299, 342, 0.875), { y: 18, x: 21, height: 263, width: 300 });
});

test('HSV conversions match tf.image on primaries and round-trip', () => {
  assert.deepEqual(rgbToHsv(1, 0, 0), [0, 1, 1]);
  assert.deepEqual(rgbToHsv(0, 0, 0), [0, 0, 0]);
  const [h, s, v] = rgbToHsv(0.2, 0.6, 0.4);
  assert.ok(Math.abs(h - 5 / 12) < 1e-12 && Math.abs(s - 2 / 3) < 1e-12 && v === 0.6);
  const rng = Rng.derive(3, 'hsv');
  for (let i = 0; i < 200; i++) {
    const rgb = [rng.next(), rng.next(), rng.next()] as const;
    hsvToRgb(...rgbToHsv(...rgb)).forEach((c, k) => assert.ok(Math.abs(c - rgb[k]!) < 1e-9, `${rgb} → ${c}`));
  }
});

test('colour distortion: neutral draws leave the image, each adjustment does what tf.image.adjust_* does, then clips', () => {
  const base = Float32Array.from([0.2, 0.4, 0.6, 0.8, 0.1, 0.3]);
  const neutral = { brightness: 0, saturation: 1, hue: 0, contrast: 1 };
  for (const ordering of [0, 1, 2, 3] as const) {
    const img = base.slice();
    distortColour(img, { ordering, ...neutral });
    img.forEach((v, i) => assert.ok(Math.abs(v - base[i]!) < 1e-6, `ordering ${ordering}`));
  }
  const bright = base.slice();
  distortColour(bright, { ordering: 0, ...neutral, brightness: 0.3 });
  assert.deepEqual(Array.from(bright, (v) => Math.round(v * 1e6) / 1e6), [0.5, 0.7, 0.9, 1, 0.4, 0.6]);
  const contrast = base.slice();
  distortColour(contrast, { ordering: 0, ...neutral, contrast: 0.5 });
  // Channel means 0.5, 0.25, 0.45: halfway to them.
  assert.deepEqual(Array.from(contrast, (v) => Math.round(v * 1e6) / 1e6), [0.35, 0.325, 0.525, 0.65, 0.175, 0.375]);
  const grey = Float32Array.from([0.2, 0.6, 0.4]);
  distortColour(grey, { ordering: 0, ...neutral, saturation: 0 });
  assert.ok(grey.every((v) => Math.abs(v - 0.6) < 1e-6), 'saturation 0 leaves the value channel');
  const red = Float32Array.from([1, 0, 0]);
  distortColour(red, { ordering: 0, ...neutral, hue: 1 / 3 });
  assert.deepEqual(Array.from(red), [0, 1, 0]);
});

test('Inception batches: eval is the central 87.5% resized and scaled to [−1, 1]; train draws replay from the seed', () => {
  const flat: ImageSet = { images: new Uint8Array(2 * 16 * 16 * 3).fill(51), shape: [2, 16, 16, 3], labels: new Int32Array(2) };
  const evalBatch = inceptionBatch(flat, [0, 1], 20, 24, null);
  assert.deepEqual(evalBatch.shape, [2, 20, 24, 3]);
  assert.ok(evalBatch.data.every((v) => Math.abs(v - (51 / 255 - 0.5) * 2) < 1e-6));
  // The central crop: a 16×16 image's margin is 1 pixel, so a bright border never shows.
  const framed = images(1, 16, 16, 4);
  const inner = new Uint8Array(framed.images);
  for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) if (y === 0 || x === 0 || y === 15 || x === 15) inner.fill(255, (y * 16 + x) * 3, (y * 16 + x) * 3 + 3);
  const same = (a: Float32Array, b: Float32Array) => assert.deepEqual(Array.from(a), Array.from(b));
  same(inceptionBatch({ ...framed, images: inner }, [0], 14, 14, null).data, inceptionBatch(framed, [0], 14, 14, null).data);

  const set = images(4, 24, 32, 5);
  const train = (seed: number) => inceptionBatch(set, [0, 1, 2, 3], 16, 16, Rng.derive(seed, 'augment'));
  const a = train(1);
  assert.deepEqual(a.shape, [4, 16, 16, 3]);
  assert.ok(a.data.every((v) => v >= -1 && v <= 1));
  same(train(1).data, a.data);
  assert.notDeepEqual(Array.from(train(2).data), Array.from(a.data));
  assert.notDeepEqual(Array.from(a.data), Array.from(inceptionBatch(set, [0, 1, 2, 3], 16, 16, null).data), 'distorted, not the eval crop');

  // makeBatch routes here, and the output may be larger than the stored images.
  const pre = { crop: [40, 40] as const, standardize: true, inception: true as const };
  same(makeBatch(set, [2], pre, null, null).data, inceptionBatch(set, [2], 40, 40, null).data);
  const aug = { randomCrop: false, pad: 0, flip: false, rotateDegrees: 0, inception: true as const };
  same(makeBatch(set, [2, 3], pre, aug, Rng.derive(9, 'a')).data, inceptionBatch(set, [2, 3], 40, 40, Rng.derive(9, 'a')).data);
  assert.throws(() => makeBatch(set, [0], { crop: null, standardize: true }, aug, Rng.derive(9)), /needs the Inception preprocessing/);
});

test('train params: preprocessing.mode inception with augment.inception, and the combinations that cannot work', async () => {
  const { default: Ajv } = await import('ajv');
  const ajv = new Ajv.default({ useDefaults: true, strict: false });
  const validate = ajv.compile(trainParamsSchema);
  const params = (extra: object): TrainParams => {
    const p = { model: 'inception_v3', ...structuredClone(extra) };
    assert.ok(validate(p), JSON.stringify(validate.errors));
    return p as unknown as TrainParams;
  };
  const stored = { height: 64, width: 64 };
  const o = trainOptionsOf(params({ preprocessing: { mode: 'inception', crop: 299 }, augment: { inception: true } }), 1, stored);
  assert.deepEqual(o.preprocessing, { crop: [299, 299], standardize: true, inception: true });
  assert.equal(o.augmentation?.inception, true);
  assert.equal(trainOptionsOf(params({ preprocessing: { mode: 'inception', crop: null } }), 1, stored).augmentation, null);
  assert.equal(params({}).preprocessing.mode, 'paper');
  assert.equal(params({}).augment.inception, false);
  assert.throws(() => trainOptionsOf(params({ augment: { inception: true } }), 1, stored), (e: unknown) => e instanceof TrainParamsError && /needs preprocessing.mode: inception/.test(e.message));
  assert.throws(() => trainOptionsOf(params({ preprocessing: { mode: 'inception' }, augment: { inception: true, flip: true } }), 1, stored), TrainParamsError);
  assert.throws(() => trainOptionsOf(params({ preprocessing: { mode: 'inception' }, augment: { random_crop: true } }), 1, stored), TrainParamsError);
});
