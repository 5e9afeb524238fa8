// MaxPoolGrad on the native backend against the cpu backend: the wasm SIMD path (forward output given,
// channels in fours) and ORT's MaxPool-with-indices graph (other channel counts, or when asked for);
// overlapping and non-overlapping windows, same and valid padding with leftover rows, odd sizes, many
// tied maxima (relu zeros, rounding); that each path really ran, and that nothing leaks.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { NativeContext } from '../../../src/backends/native/native_context.js';
import type { MaxPoolGradSpec } from '../../../src/backends/native/pool_graph.js';
import { nativeContext, randomValues, relL2, runOn } from './helpers.js';

let ctx: NativeContext;

before(async () => {
  ctx = await nativeContext();
});

type Pad = 'same' | 'valid';
interface Case {
  readonly x: [number, number, number, number];
  readonly k: [number, number];
  readonly s: [number, number];
  readonly pad: Pad;
}
const cases: readonly Case[] = [
  { x: [3, 28, 28, 64], k: [3, 3], s: [2, 2], pad: 'same' }, // the small AlexNet's
  { x: [2, 13, 12, 8], k: [3, 3], s: [2, 2], pad: 'same' },
  { x: [2, 13, 12, 4], k: [3, 3], s: [2, 2], pad: 'valid' },
  { x: [2, 28, 28, 12], k: [3, 3], s: [2, 2], pad: 'valid' }, // Inception's: no padding
  { x: [2, 9, 9, 8], k: [2, 2], s: [2, 2], pad: 'valid' }, // a leftover row and column
  { x: [3, 8, 9, 4], k: [2, 2], s: [2, 2], pad: 'same' },
  { x: [1, 7, 7, 4], k: [3, 3], s: [1, 1], pad: 'same' },
  { x: [2, 11, 10, 8], k: [3, 2], s: [2, 1], pad: 'same' },
  { x: [2, 15, 14, 4], k: [5, 4], s: [3, 2], pad: 'valid' },
  { x: [2, 15, 14, 12], k: [5, 5], s: [3, 3], pad: 'same' },
  { x: [2, 11, 10, 4], k: [2, 2], s: [3, 3], pad: 'valid' }, // windows skip rows and columns
];

/** dx of sum(maxPool(x)·w) on `backend`, with ties from relu and rounding. */
async function grad(backend: string, xv: Float32Array, wv: Float32Array, c: Case): Promise<Float32Array> {
  const [out] = await runOn(backend, [{ values: xv, shape: c.x }, { values: wv, shape: c.x }], (x, weights) => {
    const tied = tf.relu(tf.round(tf.mul(x!, 2)));
    return tf.grad((v: tf.Tensor) => {
      const pooled = tf.maxPool(v as tf.Tensor4D, c.k, c.s, c.pad);
      return tf.sum(tf.mul(pooled, tf.slice(weights!, [0, 0, 0, 0], pooled.shape)));
    })(tied);
  });
  return out!.values;
}

/** The ORT graph's spec for a case, to ask the session cache whether that graph ran. */
function graphSpec(c: Case): MaxPoolGradSpec {
  const info = tf.backend_util.computePool2DInfo(c.x, c.k, c.s, 1, c.pad);
  const p = info.padInfo;
  return {
    kind: 'maxpool-grad', n: c.x[0], h: c.x[1], w: c.x[2], c: c.x[3], oh: info.outHeight, ow: info.outWidth,
    kh: c.k[0], kw: c.k[1], sh: c.s[0], sw: c.s[1], pads: [p.top, p.left, p.bottom, p.right],
  };
}

async function checkAll(way: 'simd' | 'indices', list: readonly Case[]): Promise<void> {
  ctx.stats = new Map();
  ctx.maxPoolGrad = way;
  try {
    for (const c of list) {
      const label = `${way} ${c.x} k${c.k} s${c.s} ${c.pad}`;
      const size = c.x.reduce((a, b) => a * b, 1);
      const [xv, wv] = [randomValues(`mpg/${label}/x`, size), randomValues(`mpg/${label}/w`, size)];
      await tf.setBackend('native');
      const ids = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
      const tensors = tf.memory().numTensors;
      const calls = ctx.stats.get('MaxPoolGrad')?.calls ?? 0;
      const got = await grad('native', xv, wv, c);
      assert.equal(tf.memory().numTensors, tensors, `${label}: leaked tensors`);
      assert.equal((tf.backend() as unknown as { numDataIds(): number }).numDataIds(), ids, `${label}: leaked heap buffers`);
      assert.ok((ctx.stats.get('MaxPoolGrad')?.calls ?? 0) > calls, `${label}: did not run natively`);
      assert.equal(ctx.cache.has(graphSpec(c)), way === 'indices', `${label}: the ORT graph ran ${way === 'simd' ? 'instead of SIMD' : 'not'}`);
      const err = relL2(got, await grad('cpu', xv, wv, c));
      assert.ok(err <= 1e-5, `${label}: rel L2 ${err.toExponential(2)}`);
    }
  } finally {
    ctx.maxPoolGrad = 'simd';
    ctx.stats = null;
  }
}

test('MaxPoolGrad in wasm SIMD (the default) matches cpu, ties included, without an ORT graph, leaking nothing', async () => {
  await checkAll('simd', cases);
});

test('the MaxPool-with-indices graph matches cpu', async () => {
  await checkAll('indices', [...cases.slice(0, 3), cases.at(-1)!]);
});

test('channel counts that are not a multiple of four take the ORT graph, and match cpu', async () => {
  const odd: Case = { x: [2, 13, 12, 5], k: [3, 3], s: [2, 2], pad: 'same' };
  const size = odd.x.reduce((a, b) => a * b, 1);
  const [xv, wv] = [randomValues('mpg/odd/x', size), randomValues('mpg/odd/w', size)];
  assert.equal(ctx.maxPoolGrad, 'simd');
  const got = await grad('native', xv, wv, odd);
  assert.ok(ctx.cache.has(graphSpec(odd)), 'the graph ran');
  assert.ok(relL2(got, await grad('cpu', xv, wv, odd)) <= 1e-5);
});
