// Invariants of every randomization, on a small generated dataset run through the real stage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, type Harness, type HarnessInput, type HarnessOutput } from '../../../src/testing/harness.js';
import { corrupt, CORRUPT_KINDS } from '../../../stages/corrupt/corrupt.js';
import { Rng } from '../../../src/util/random.js';
import { resolveParams } from '../../../src/config/params.js';
import type { Plugin } from '../../../src/plugin/types.js';
import type { TensorData } from '../../../src/tensors/types.js';

const H = 16;
const W = 16;
const C = 3;
const P = H * W;
const N_TRAIN = 2000;
const N_TEST = 500;
const CLASSES = 10;

/** Random images and labels. */
function randomSplit(n: number, seed: string): { x: Uint8Array; y: Int32Array } {
  const rng = Rng.derive(1, seed);
  return { x: Uint8Array.from({ length: n * P * C }, () => rng.int(256)), y: Int32Array.from({ length: n }, () => rng.int(CLASSES)) };
}

/** Images whose pixel at position q is (q, 255 − q, image index): a moved pixel names its source. */
function encodedSplit(n: number): { x: Uint8Array; y: Int32Array } {
  const x = new Uint8Array(n * P * C);
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < P; q++) {
      x.set([q, 255 - q, i % 256], (i * P + q) * C);
    }
  }
  return { x, y: Int32Array.from({ length: n }, (_, i) => i % CLASSES) };
}

function datasetInput(train: { x: Uint8Array; y: Int32Array }, test: { x: Uint8Array; y: Int32Array }): HarnessInput {
  const t = (x: Uint8Array, n: number): TensorData => ({ dtype: 'uint8', shape: [n, H, W, C], data: x });
  return {
    tensors: {
      x_train: t(train.x, train.y.length),
      y_train: { dtype: 'int32', shape: [train.y.length], data: train.y },
      x_test: t(test.x, test.y.length),
      y_test: { dtype: 'int32', shape: [test.y.length], data: test.y },
    },
    metadata: { classes: JSON.stringify(Array.from({ length: CLASSES }, (_, i) => `c${i}`)), source: 'test' },
  };
}

const random = { train: randomSplit(N_TRAIN, 'train'), test: randomSplit(N_TEST, 'test') };
const encoded = { train: encodedSplit(300), test: encodedSplit(40) };

interface Out {
  readonly hash: string;
  readonly x: Record<'train' | 'test', Uint8Array>;
  readonly y: Record<'train' | 'test', Int32Array>;
  readonly metrics: Record<string, any>;
}

async function read(output: HarnessOutput, metrics: HarnessOutput): Promise<Out> {
  const file = await output.readTensors();
  const out: Out = {
    hash: output.hash,
    x: { train: (await file.read('x_train')).data as Uint8Array, test: (await file.read('x_test')).data as Uint8Array },
    y: { train: (await file.read('y_train')).data as Int32Array, test: (await file.read('y_test')).data as Int32Array },
    metrics: await metrics.readJson(),
  };
  await file.close();
  return out;
}

async function run(h: Harness, params: Record<string, unknown>, seed = 7, data = random): Promise<Out> {
  const r = await h.run(corrupt, { params, seed, inputs: { dataset: datasetInput(data.train, data.test) } });
  return read(r.outputs['dataset']!, r.outputs['metrics']!);
}

const fractionChanged = (a: Int32Array, b: Int32Array): number => a.reduce((n, v, i) => n + (v !== b[i] ? 1 : 0), 0) / a.length;

function sortedPixels(x: Uint8Array, i: number): string {
  const px: number[] = [];
  for (let q = 0; q < P; q++) px.push((x[(i * P + q) * C]! << 16) | (x[(i * P + q) * C + 1]! << 8) | x[(i * P + q) * C + 2]!);
  return px.sort((a, b) => a - b).join();
}

/** For encoded images: the source position of each output position (checks channels moved together). */
function sourceMap(x: Uint8Array, i: number): number[] {
  const map: number[] = [];
  for (let q = 0; q < P; q++) {
    const [a, b, c] = [x[(i * P + q) * C]!, x[(i * P + q) * C + 1]!, x[(i * P + q) * C + 2]!];
    assert.equal(a + b, 255, 'a pixel’s channels move together');
    assert.equal(c, i % 256);
    map.push(a);
  }
  return map;
}

test('corrupt: identity cases, labels, pixels, gaussian, determinism', async (t) => {
  const h = await createHarness();
  t.after(() => h.close());

  await t.test('none and labels with p = 0 are the identity', async () => {
    for (const params of [{ kind: 'none' }, { kind: 'labels', p: 0 }, { kind: 'labels', p: 0, corrupt_test: true }]) {
      const out = await run(h, params);
      assert.deepEqual(out.y.train, random.train.y);
      assert.deepEqual(out.y.test, random.test.y);
      assert.deepEqual(out.x.train, random.train.x);
      assert.deepEqual(out.x.test, random.test.x);
      assert.equal(out.metrics['train'].randomized, params.kind !== 'none');
    }
  });

  await t.test('labels: the fraction changed is p·(1 − 1/K), test labels stay clean by default', async () => {
    for (const p of [0.2, 0.5, 0.8]) {
      const out = await run(h, { kind: 'labels', p });
      const f = fractionChanged(out.y.train, random.train.y);
      assert.ok(Math.abs(f - p * 0.9) < 0.04, `p=${p}: changed ${f}`);
      assert.equal(out.metrics['train'].fraction_changed, f);
      assert.equal(out.metrics['expected_fraction_changed'], p * 0.9);
      assert.deepEqual(out.y.test, random.test.y);
      assert.deepEqual(out.x.train, random.train.x, 'images untouched');
    }
  });

  await t.test('labels: exclude_true changes every redrawn label; corrupt_test reaches the test split', async () => {
    const out = await run(h, { kind: 'labels', p: 0.5, exclude_true: true, corrupt_test: true });
    const f = fractionChanged(out.y.train, random.train.y);
    assert.ok(Math.abs(f - 0.5) < 0.04, `changed ${f}`);
    assert.equal(out.metrics['train'].labels_changed, out.metrics['train'].labels_redrawn);
    const ft = fractionChanged(out.y.test, random.test.y);
    assert.ok(Math.abs(ft - 0.5) < 0.08, `test changed ${ft}`);
  });

  await t.test('labels: a larger p corrupts a superset with the same new labels', async () => {
    const low = await run(h, { kind: 'labels', p: 0.3 });
    const high = await run(h, { kind: 'labels', p: 0.6 });
    for (let i = 0; i < N_TRAIN; i++) {
      if (low.y.train[i] !== random.train.y[i]) assert.equal(high.y.train[i], low.y.train[i]);
    }
  });

  await t.test('random_labels: ≈ 90% change, labels spread over all classes', async () => {
    const out = await run(h, { kind: 'random_labels' });
    const f = fractionChanged(out.y.train, random.train.y);
    assert.ok(Math.abs(f - 0.9) < 0.03, `changed ${f}`);
    const counts = new Array(CLASSES).fill(0);
    for (const l of out.y.train) counts[l]++;
    for (const n of counts) assert.ok(Math.abs(n - N_TRAIN / CLASSES) < 70, `class count ${n}`);
  });

  await t.test('shuffled_pixels: one permutation for every train and test image, multisets kept', async () => {
    const out = await run(h, { kind: 'shuffled_pixels' }, 7, encoded);
    const map = sourceMap(out.x.train, 0);
    assert.deepEqual([...map].sort((a, b) => a - b), Array.from({ length: P }, (_, q) => q), 'a permutation');
    assert.ok(map.filter((s, q) => s !== q).length > P * 0.9, 'it moves almost every pixel');
    for (let i = 1; i < 300; i += 37) assert.deepEqual(sourceMap(out.x.train, i), map);
    for (let i = 0; i < 40; i += 13) assert.deepEqual(sourceMap(out.x.test, i), map, 'the same permutation on test');
    assert.deepEqual(out.y.train, encoded.train.y);
    const rnd = await run(h, { kind: 'shuffled_pixels' });
    for (let i = 0; i < N_TRAIN; i += 97) assert.equal(sortedPixels(rnd.x.train, i), sortedPixels(random.train.x, i));
  });

  await t.test('shuffled_pixels with a region permutes only the centre', async () => {
    const out = await run(h, { kind: 'shuffled_pixels', region: [8, 8] }, 7, encoded);
    const map = sourceMap(out.x.train, 0);
    const inside = (q: number): boolean => Math.floor(q / W) >= 4 && Math.floor(q / W) < 12 && q % W >= 4 && q % W < 12;
    map.forEach((src, q) => {
      if (!inside(q)) assert.equal(src, q);
      else assert.ok(inside(src));
    });
    assert.equal(out.metrics['positions_moved'], map.filter((s, q) => s !== q).length);
    assert.ok(out.metrics['positions_moved'] > 50);
  });

  await t.test('random_pixels: a different permutation per image, multisets kept', async () => {
    const out = await run(h, { kind: 'random_pixels' }, 7, encoded);
    const maps = [0, 1, 2, 3].map((i) => sourceMap(out.x.train, i).join());
    assert.equal(new Set(maps).size, 4);
    assert.notEqual(sourceMap(out.x.test, 0).join(), maps[0]);
    const rnd = await run(h, { kind: 'random_pixels' });
    for (let i = 0; i < N_TRAIN; i += 97) assert.equal(sortedPixels(rnd.x.train, i), sortedPixels(random.train.x, i));
    for (let i = 0; i < N_TEST; i += 97) assert.equal(sortedPixels(rnd.x.test, i), sortedPixels(random.test.x, i));
  });

  await t.test('gaussian: per-channel moments of the training set are matched', async () => {
    // Skewed channels (dark, bright, mid) so that clipping to 0..255 matters.
    const rng = Rng.derive(3, 'skewed');
    const train = {
      x: Uint8Array.from({ length: N_TRAIN * P * C }, (_, k) => {
        const ch = k % C;
        const u = rng.next();
        return ch === 0 ? Math.floor(255 * u ** 3) : ch === 1 ? 255 - Math.floor(80 * u) : Math.floor(256 * u);
      }),
      y: random.train.y,
    };
    const data = { train, test: random.test };
    const out = await run(h, { kind: 'gaussian' }, 7, data);
    const moments = (x: Uint8Array) =>
      [0, 1, 2].map((ch) => {
        let s = 0;
        let s2 = 0;
        let n = 0;
        for (let k = ch; k < x.length; k += C) {
          s += x[k]!;
          s2 += x[k]! ** 2;
          n++;
        }
        return { mean: s / n, std: Math.sqrt(s2 / n - (s / n) ** 2) };
      });
    const want = moments(train.x);
    const got = moments(out.x.train);
    want.forEach((w, ch) => {
      assert.ok(Math.abs(got[ch]!.mean - w.mean) < 0.5, `channel ${ch} mean ${got[ch]!.mean} vs ${w.mean}`);
      assert.ok(Math.abs(got[ch]!.std - w.std) < 0.01 * w.std + 0.3, `channel ${ch} std ${got[ch]!.std} vs ${w.std}`);
    });
    assert.deepEqual(out.y.train, train.y);
    assert.deepEqual(out.metrics['train'].realized.mean.map((m: number) => Math.round(m)), got.map((g) => Math.round(g.mean)));
    const testMoments = moments(out.x.test);
    want.forEach((w, ch) => assert.ok(Math.abs(testMoments[ch]!.mean - w.mean) < 1.5, 'test images use the training moments'));
  });

  await t.test('the same seed gives the same bytes, another seed other bytes', async () => {
    for (const kind of CORRUPT_KINDS) {
      if (kind === 'none') continue;
      const params = kind === 'labels' ? { kind, p: 0.5 } : { kind };
      const a = await run(h, params, 11);
      const b = await run(h, params, 11);
      const c = await run(h, params, 12);
      assert.equal(a.hash, b.hash, kind);
      assert.notEqual(a.hash, c.hash, kind);
      const field = kind.endsWith('labels') ? a.y.train.join() !== c.y.train.join() : a.x.train.join() !== c.x.train.join();
      assert.ok(field, `${kind}: the data itself differs, not only the metadata`);
    }
  });

  await t.test('params that do not fit the kind are rejected', async () => {
    await assert.rejects(run(h, { kind: 'labels' }), /must have required property 'p'/);
    await assert.rejects(run(h, { kind: 'random_labels', p: 0.5 }), /with\.p/);
    await assert.rejects(run(h, { kind: 'gaussian', region: [8, 8] }), /with\.region/);
  });
});

test('corrupt: pixel kinds permute the 28×28 the train stage crops by default (region crop), full on request', async (t) => {
  const h = await createHarness();
  t.after(() => h.close());
  // 32×32 images (the paper's geometry) whose pixel q is (q & 255, q >> 8, image index).
  const S = 32;
  const encode = (n: number): Uint8Array => {
    const x = new Uint8Array(n * S * S * 3);
    for (let i = 0; i < n; i++) for (let q = 0; q < S * S; q++) x.set([q & 255, q >> 8, i], (i * S * S + q) * 3);
    return x;
  };
  const input = (): HarnessInput => ({
    tensors: {
      x_train: { dtype: 'uint8', shape: [4, S, S, 3], data: encode(4) },
      y_train: { dtype: 'int32', shape: [4], data: Int32Array.from([0, 1, 2, 3]) },
      x_test: { dtype: 'uint8', shape: [2, S, S, 3], data: encode(2) },
      y_test: { dtype: 'int32', shape: [2], data: Int32Array.from([0, 1]) },
    },
  });
  const sources = (x: Uint8Array, i: number): number[] =>
    Array.from({ length: S * S }, (_, q) => x[(i * S * S + q) * 3]! | (x[(i * S * S + q) * 3 + 1]! << 8));
  const inCrop = (q: number): boolean => Math.floor(q / S) >= 2 && Math.floor(q / S) < 30 && q % S >= 2 && q % S < 30;

  for (const kind of ['shuffled_pixels', 'random_pixels']) {
    const r = await h.run(corrupt, { params: { kind }, seed: 5, inputs: { dataset: input() } });
    const resolved = resolveParams(corrupt as Plugin<never>, { kind });
    assert.ok(resolved.ok && resolved.params['region'] === 'crop', 'the default is filled in, so it is part of the key');
    const x = (await (await r.outputs['dataset']!.readTensors()).read('x_train')).data as Uint8Array;
    const map = sources(x, 0);
    map.forEach((src, q) => (inCrop(q) ? assert.ok(inCrop(src), `${kind}: ${q} from ${src}`) : assert.equal(src, q, `${kind}: border ${q} stays`)));
    assert.ok(map.filter((s, q) => s !== q).length > 28 * 28 * 0.9, `${kind}: the crop is shuffled`);
    assert.deepEqual((await r.outputs['metrics']!.readJson<Record<string, unknown>>())['region'], [28, 28]);

    const full = await h.run(corrupt, { params: { kind, region: 'full' }, seed: 5, inputs: { dataset: input() } });
    const fx = (await (await full.outputs['dataset']!.readTensors()).read('x_train')).data as Uint8Array;
    assert.ok(sources(fx, 0).some((s, q) => !inCrop(q) && s !== q), `${kind}: full moves border pixels too`);
  }
  // A dataset smaller than the crop is permuted whole (the 16×16 tests above rely on it too).
  const { regionSize } = await import('../../../stages/corrupt/corrupt.js');
  assert.deepEqual(regionSize('crop', { height: 28, width: 28, channels: 1 }), [28, 28]);
  assert.deepEqual(regionSize('crop', { height: 16, width: 40, channels: 1 }), [16, 28]);
  assert.equal(regionSize('full', { height: 32, width: 32, channels: 3 }), undefined);
});
