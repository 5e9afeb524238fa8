// MaxPoolGrad's masked ORT graph (used when the forward output is given) against the cpu backend:
// overlapping and non-overlapping windows, same and valid padding with leftover rows, odd sizes,
// many tied maxima (relu zeros, rounding); and that it really ran, leaking nothing.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { nativeRegistration } from '../../../src/backends/native/backend.js';
import type { NativeContext } from '../../../src/backends/native/native_context.js';
import { initNative } from '../../../src/backends/native/init.js';
import { flopsOf } from '../../../src/backends/native/kernel_spec.js';
import { maxPoolGradMaskGraph } from '../../../src/backends/native/pool_mask_graph.js';
import { randomValues, relL2, runOn } from './helpers.js';

let ctx: NativeContext;

before(async () => {
  const r = await initNative();
  assert.ok(r.ok, `native backend unavailable: ${JSON.stringify(r)}`);
  const reg = nativeRegistration();
  assert.ok(reg !== null);
  ctx = reg.ctx;
});

type Pad = 'same' | 'valid';
const cases: ReadonlyArray<{ x: [number, number, number, number]; k: [number, number]; s: [number, number]; pad: Pad }> = [
  { x: [3, 28, 28, 64], k: [3, 3], s: [2, 2], pad: 'same' }, // the small AlexNet's
  { x: [2, 13, 12, 5], k: [3, 3], s: [2, 2], pad: 'same' },
  { x: [2, 13, 12, 5], k: [3, 3], s: [2, 2], pad: 'valid' },
  { x: [2, 28, 28, 11], k: [3, 3], s: [2, 2], pad: 'valid' }, // Inception's: no padding, no crop
  { x: [2, 9, 9, 7], k: [2, 2], s: [2, 2], pad: 'valid' }, // a leftover row and column
  { x: [3, 8, 9, 4], k: [2, 2], s: [2, 2], pad: 'same' },
  { x: [1, 7, 7, 3], k: [3, 3], s: [1, 1], pad: 'same' },
  { x: [2, 11, 10, 6], k: [3, 2], s: [2, 1], pad: 'same' },
  { x: [2, 15, 14, 3], k: [5, 4], s: [3, 2], pad: 'valid' },
  { x: [2, 15, 14, 9], k: [5, 5], s: [3, 3], pad: 'same' },
];

/** dx of sum(maxPool(x)·w) on `backend`, with ties from relu and rounding. */
async function grad(backend: string, xv: Float32Array, wv: Float32Array, c: (typeof cases)[number]): Promise<Float32Array> {
  const [out] = await runOn(backend, [{ values: xv, shape: c.x }, { values: wv, shape: c.x }], (x, weights) => {
    const tied = tf.relu(tf.round(tf.mul(x!, 2)));
    return tf.grad((v: tf.Tensor) => {
      const pooled = tf.maxPool(v as tf.Tensor4D, c.k, c.s, c.pad);
      return tf.sum(tf.mul(pooled, tf.slice(weights!, [0, 0, 0, 0], pooled.shape)));
    })(tied);
  });
  return out!.values;
}

test('masked MaxPoolGrad matches cpu, ties included, and leaks nothing', async () => {
  ctx.stats = new Map();
  ctx.maxPoolGrad = 'mask';
  for (const c of cases) {
    const label = `${c.x} k${c.k} s${c.s} ${c.pad}`;
    const size = c.x.reduce((a, b) => a * b, 1);
    const [xv, wv] = [randomValues(`mpg/${label}/x`, size), randomValues(`mpg/${label}/w`, size)];
    await tf.setBackend('native');
    const ids = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    const tensors = tf.memory().numTensors;
    const calls = ctx.stats.get('MaxPoolGrad')?.calls ?? 0;
    const got = await grad('native', xv, wv, c);
    assert.equal(tf.memory().numTensors, tensors, `${label}: leaked tensors`);
    assert.equal((tf.backend() as unknown as { numDataIds(): number }).numDataIds(), ids, `${label}: leaked heap buffers`);
    assert.ok((ctx.stats.get('MaxPoolGrad')?.calls ?? 0) > calls, `${label}: did not run on ORT`);
    const want = await grad('cpu', xv, wv, c);
    const err = relL2(got, want);
    assert.ok(err <= 1e-5, `${label}: rel L2 ${err.toExponential(2)}`);
  }
  ctx.maxPoolGrad = 'indices';
  ctx.stats = null;
});

test('the MaxPool-with-indices graph (the default, and where windows skip a stride phase) matches cpu', async () => {
  ctx.stats = new Map();
  const skipsPhase: (typeof cases)[number] = { x: [2, 11, 10, 3], k: [2, 2], s: [3, 3], pad: 'valid' };
  const extra = [...cases.slice(0, 3), skipsPhase];
  for (const [i, c] of extra.entries()) {
    ctx.maxPoolGrad = i < 3 ? 'indices' : 'mask';
    const label = `indices ${c.x} k${c.k} s${c.s} ${c.pad}`;
    const size = c.x.reduce((a, b) => a * b, 1);
    const [xv, wv] = [randomValues(`mpg/${label}/x`, size), randomValues(`mpg/${label}/w`, size)];
    const calls = ctx.stats.get('MaxPoolGrad')?.calls ?? 0;
    const got = await grad('native', xv, wv, c);
    assert.ok((ctx.stats.get('MaxPoolGrad')?.calls ?? 0) > calls, `${label}: did not run on ORT`);
    const err = relL2(got, await grad('cpu', xv, wv, c));
    assert.ok(err <= 1e-5, `${label}: rel L2 ${err.toExponential(2)}`);
  }
  ctx.maxPoolGrad = 'indices';
  ctx.stats = null;
});

test('the masked graph is used for the models’ pooling, and its FLOP proxy is the window count', () => {
  const spec = { kind: 'maxpool-grad-mask', n: 2, h: 28, w: 28, c: 64, oh: 14, ow: 14, kh: 3, kw: 3, sh: 2, sw: 2, top: 0, left: 0 } as const;
  const g = maxPoolGradMaskGraph(spec);
  assert.ok(!g.nodes.some((n) => n.op === 'MaxPool' || n.op === 'ScatterElements' || n.op === 'Transpose'));
  assert.equal(g.nodes.filter((n) => n.op === 'Mul').length, 9);
  assert.equal(flopsOf(spec), 2 * 14 * 14 * 64 * 9);
  // 'valid' 3/2 on 28: x needs no padding and the scattered grid is exactly 28 wide.
  const valid = maxPoolGradMaskGraph({ ...spec, oh: 13, ow: 13 });
  assert.ok(!valid.nodes.some((n) => n.op === 'Pad' && n.inputs[0] === 'x'));
  assert.equal(valid.nodes.at(-1)?.op, 'Reshape');
});
