// LRN, LRNGrad and leading-axes Sum and Mean on ONNX Runtime (LRN also in wasm SIMD on the heap)
// against the cpu backend on fresh seeded inputs (relative L2 ≤ 1e-5), checking the native path
// really ran, and the fallbacks for other cases.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { NativeContext } from '../../../src/backends/native/native_context.js';
import { lrnChunks } from '../../../src/backends/native/lrn_kernels.js';
import type { LrnSpec } from '../../../src/backends/native/lrn_graph.js';
import { assertAgrees, nativeContext, randomValues, runOn } from './helpers.js';

const TOL = 1e-5;
let ctx: NativeContext;

before(async () => {
  ctx = await nativeContext();
  ctx.stats = new Map();
});

const calls = (kernel: string): number => ctx.stats?.get(kernel)?.calls ?? 0;

/** Runs f on native and cpu; asserts agreement, no leaks, and whether `kernel` ran on ORT. */
async function check(
  label: string,
  kernel: string,
  native: boolean,
  shapes: ReadonlyArray<readonly number[]>,
  f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  scale = 1,
): Promise<void> {
  const inputs = shapes.map((s, i) => {
    const values = randomValues(`${label}/${i}`, s.reduce((a, b) => a * b, 1)).map((v) => v * scale);
    return { values, shape: s };
  });
  const before = calls(kernel);
  await tf.setBackend('native');
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const [tensors, ids] = [tf.memory().numTensors, backend.numDataIds()];
  const got = await runOn('native', inputs, f);
  assert.equal(tf.memory().numTensors, tensors, `${label}: leaked tensors`);
  assert.equal(backend.numDataIds(), ids, `${label}: leaked heap buffers`);
  assert.equal(calls(kernel) > before, native, `${label}: ${kernel} ${native ? 'did not run' : 'ran'} on ORT`);
  const want = await runOn('cpu', inputs, f);
  assertAgrees(label, got, want, TOL);
}

const lrnParams = [
  { depthRadius: 4, bias: 1, alpha: 0.001 / 9, beta: 0.75 }, // the small AlexNet's (TF tutorial)
  { depthRadius: 2, bias: 2, alpha: 0.1, beta: 0.6 },
  { depthRadius: 5, bias: 0.5, alpha: 0.3, beta: 0.5 },
  { depthRadius: 0, bias: 1.5, alpha: 1, beta: 0.75 },
  { depthRadius: 40, bias: 1, alpha: 0.02, beta: 1.1 },
] as const;

const lrnShapes: ReadonlyArray<readonly [number, number, number, number]> = [
  [4, 13, 11, 37],
  [2, 15, 17, 64],
  [67, 11, 9, 3],
];

test('LRN and LRNGrad: TF semantics, radius 0 to wider than C, β 0.5/0.75/other, odd sizes', async () => {
  for (const p of lrnParams) {
    for (const shape of lrnShapes) {
      const label = `lrn ${shape} r${p.depthRadius} a${p.alpha} b${p.beta}`;
      // Scale 3 makes α·Σx² matter, so a wrong window or α scaling shows.
      await check(label, 'LRN', true, [shape], (x) => tf.localResponseNormalization(x as tf.Tensor4D, p.depthRadius, p.bias, p.alpha, p.beta), 3);
      await check(`grad ${label}`, 'LRNGrad', true, [shape, shape], (x, dy) => {
        const y = tf.engine().runKernel('LRN', { x: x! }, p) as tf.Tensor;
        return tf.engine().runKernel('LRNGrad', { x: x!, y, dy: dy! }, p) as tf.Tensor;
      }, 3);
    }
  }
});

test('LRN gradient through tf.grad matches cpu', async () => {
  const p = lrnParams[1];
  await check('lrn tf.grad', 'LRNGrad', true, [[6, 9, 11, 29], [6, 9, 11, 29]], (x, w) =>
    tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.localResponseNormalization(v as tf.Tensor4D, p.depthRadius, p.bias, p.alpha, p.beta), w!)))(x!),
  2);
});

test('LRN: small tensors and very many channels stay on the wasm kernel unless the SIMD kernel takes them', async () => {
  await check('lrn small', 'LRN', false, [[1, 3, 3, 5]], (x) => tf.localResponseNormalization(x as tf.Tensor4D, 2, 1, 0.1, 0.75));
  await check('lrn wide', 'LRN', false, [[2, 3, 5, 602]], (x) => tf.localResponseNormalization(x as tf.Tensor4D, 2, 1, 0.1, 0.75));
  await check('lrn wide, β other', 'LRN', false, [[2, 3, 5, 600]], (x) => tf.localResponseNormalization(x as tf.Tensor4D, 2, 1, 0.1, 0.6));
  // Four-channel groups and β 0.75: the SIMD kernel, at any size.
  await check('lrn small simd', 'LRN', true, [[1, 3, 3, 8]], (x) => tf.localResponseNormalization(x as tf.Tensor4D, 2, 1, 0.1, 0.75), 3);
  await check('lrn wide simd', 'LRN', true, [[2, 3, 5, 600]], (x) => tf.localResponseNormalization(x as tf.Tensor4D, 2, 1, 0.1, 0.75), 3);
});

/** Both kernels of one LRN at `shape`, checked against cpu; returns whether any ORT graph ran for them. */
async function lrnBoth(way: 'simd' | 'graph', shape: readonly [number, number, number, number], p: { depthRadius: number; bias: number; alpha: number; beta: number }): Promise<boolean> {
  ctx.lrn = way;
  try {
    const label = `${way} lrn ${shape} r${p.depthRadius} b${p.beta}`;
    await check(label, 'LRN', true, [shape], (x) => tf.localResponseNormalization(x as tf.Tensor4D, p.depthRadius, p.bias, p.alpha, p.beta), 3);
    await check(`grad ${label}`, 'LRNGrad', true, [shape, shape], (x, dy) => {
      const y = tf.engine().runKernel('LRN', { x: x! }, p) as tf.Tensor;
      return tf.engine().runKernel('LRNGrad', { x: x!, y, dy: dy! }, p) as tf.Tensor;
    }, 3);
  } finally {
    ctx.lrn = 'simd';
  }
  const c = shape[3];
  const spec = (kind: LrnSpec['kind']): LrnSpec => ({ kind, m: (shape[0] * shape[1] * shape[2]), c, radius: p.depthRadius, bias: p.bias, alpha: p.alpha, beta: p.beta });
  return [...lrnChunks(spec('lrn')), ...lrnChunks(spec('lrn-grad'))].some((k) => ctx.cache.has(k.spec));
}

test('LRN and LRNGrad in wasm SIMD where channels come in fours and β is 0.75 or 0.5: no ORT graph, cpu within 1e-5', async () => {
  const cases: ReadonlyArray<readonly [readonly [number, number, number, number], number, number]> = [
    [[3, 7, 5, 4], 1, 0.75],
    [[2, 9, 11, 8], 4, 0.5],
    [[4, 14, 14, 64], 4, 0.75], // the small AlexNet's second LRN, batch 4
    [[2, 5, 7, 12], 0, 0.75],
    [[2, 5, 7, 16], 40, 0.5], // a window wider than the channels
  ];
  for (const [shape, r, beta] of cases) {
    const graphRan = await lrnBoth('simd', shape, { depthRadius: r, bias: 1.5, alpha: 0.3, beta });
    assert.equal(graphRan, false, `${shape} r${r}: an ORT graph ran instead of the SIMD kernel`);
  }
});

test('LRN and LRNGrad on ORT run in row chunks (a partial last chunk included) and agree with cpu', async () => {
  // 4,608 rows of 64 channels: chunks of at most 4,096 rows (1 MiB), so two of 2,304.
  const shape = [2, 48, 48, 64] as const;
  const p = { depthRadius: 4, bias: 1, alpha: 0.001 / 9, beta: 0.75 };
  const chunks = lrnChunks({ kind: 'lrn', m: 4608, c: 64, radius: 4, bias: 1, alpha: p.alpha, beta: 0.75 });
  assert.deepEqual(chunks.map((k) => [k.spec.m, k.offset]), [[2304, 0], [2304, 2304 * 64]]);
  assert.equal(await lrnBoth('graph', shape, p), true, 'the graph did not run');
  const uneven = lrnChunks({ kind: 'lrn', m: 4099, c: 64, radius: 4, bias: 1, alpha: p.alpha, beta: 0.75 });
  assert.deepEqual(uneven.map((k) => k.spec.m), [2050, 2049]);
  assert.equal(await lrnBoth('graph', [1, 4099, 1, 64], { ...p, beta: 0.6 }), true, 'the graph did not run');
});

test('Sum and Mean over leading axes on ORT; other axes and small tensors fall back', async () => {
  for (const shape of [[9, 11, 13, 37], [3, 13, 17, 64], [2053, 19], [5, 7, 9, 11, 13]] as const) {
    for (let lead = 1; lead < shape.length; lead++) {
      const axes = Array.from({ length: lead }, (_, i) => i);
      for (const keepDims of [false, true]) {
        await check(`sum ${shape} lead ${lead} keep ${keepDims}`, 'Sum', true, [shape], (x) => tf.sum(x!, axes, keepDims));
      }
    }
  }
  await check('mean bn stats', 'Mean', true, [[5, 13, 17, 48]], (x) => tf.mean(x!, [0, 1, 2]));
  await check('mean keepDims', 'Mean', true, [[2053, 19]], (x) => tf.mean(x!, 0, true));
  await check('moments', 'Mean', true, [[5, 15, 13, 40]], (x) => {
    const m = tf.moments(x!, [0, 1, 2]);
    return [m.mean, m.variance];
  });
  await check('mean last axis', 'Mean', false, [[64, 33, 20]], (x) => tf.mean(x!, 2));
  await check('sum last axis', 'Sum', false, [[64, 33, 20]], (x) => tf.sum(x!, 2));
  await check('sum all', 'Sum', false, [[64, 33, 20]], (x) => tf.sum(x!));
  await check('sum small', 'Sum', false, [[9, 13]], (x) => tf.sum(x!, 0));
  await check('bias grad', 'Sum', true, [[6, 14, 14, 64], [64]], (x, b) => tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.add(x!, v), x!)))(b!));
});
