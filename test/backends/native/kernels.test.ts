// Every native kernel against the cpu backend on fresh seeded inputs (relative L2 ≤ 1e-5), checking
// that the native path really ran (not the wasm fallback), plus a small conv net's gradients.

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { nativeRegistration } from '../../../src/backends/native/register.js';
import type { NativeContext } from '../../../src/backends/native/native_context.js';
import { initNative } from '../../../src/backends/native/init.js';
import { assertAgrees, randomValues, runOn } from './helpers.js';
import { convForwardGraph, convInputGradGraph } from '../../../src/backends/native/conv_graph.js';
import { imagesPerChunk } from '../../../src/backends/native/filter_grad_expanded.js';
import { NCHWC_DOMAIN } from '../../../src/backends/native/nchwc.js';

const TOL = 1e-5;
let ctx: NativeContext;

before(async () => {
  const r = await initNative();
  assert.ok(r.ok, `native backend unavailable: ${JSON.stringify(r)}`);
  console.log(`# native adapter: ${JSON.stringify(r.info.adapter)}`);
  const reg = nativeRegistration();
  assert.ok(reg !== null);
  ctx = reg.ctx;
  ctx.stats = new Map();
});

function nativeCalls(kernel: string): number {
  return ctx.stats?.get(kernel)?.calls ?? 0;
}

/**
 * Runs f on cpu once and on native once per variant (a setting applied before the run), asserts each
 * agrees with cpu, that `kernel` ran natively, and no leaks.
 */
async function checkVariants(
  label: string,
  kernel: string,
  shapes: ReadonlyArray<readonly number[]>,
  f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
  variants: ReadonlyArray<readonly [string, () => void]>,
): Promise<void> {
  const inputs = shapes.map((s, i) => ({ values: randomValues(`${label}/${i}`, s.reduce((a, b) => a * b, 1)), shape: s }));
  const want = await runOn('cpu', inputs, f);
  for (const [name, apply] of variants) {
    apply();
    const calls = nativeCalls(kernel);
    await tf.setBackend('native');
    const tensorsBefore = tf.memory().numTensors;
    const got = await runOn('native', inputs, f);
    const where = `${label}${name === '' ? '' : ` (${name})`}`;
    assert.equal(tf.memory().numTensors, tensorsBefore, `${where}: leaked tensors`);
    assert.ok(nativeCalls(kernel) > calls, `${where}: ${kernel} did not run natively`);
    assertAgrees(where, got, want, TOL);
  }
}

/** Runs f on native and cpu, asserts agreement, that `kernel` ran natively, and no leaks. */
function check(label: string, kernel: string, shapes: ReadonlyArray<readonly number[]>, f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]): Promise<void> {
  return checkVariants(label, kernel, shapes, f, [['', () => {}]]);
}

/** The expansion layouts of the filter gradients, each a variant for checkVariants. */
const LAYOUTS = (['auto', 'pixel-rows'] as const).map((layout) => [layout, () => (ctx.expansionLayout = layout)] as const);

test('BatchMatMul: every transpose combination, 2-D, batched and folded', async () => {
  for (const [m, k, n] of [[7, 13, 5], [33, 65, 17]] as const) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        const a = ta ? [k, m] : [m, k];
        const b = tb ? [n, k] : [k, n];
        await check(`mm ${m}x${k}x${n} ${ta}${tb}`, 'BatchMatMul', [a, b], (x, y) => tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb));
        await check(`bmm ${m}x${k}x${n} ${ta}${tb}`, 'BatchMatMul', [[3, ...a], [3, ...b]], (x, y) => tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D, ta, tb));
      }
    }
  }
  await check('mm folded', 'BatchMatMul', [[4, 6, 9], [9, 5]], (x, y) => tf.matMul(x as tf.Tensor3D, y as tf.Tensor2D));
});

test('_FusedMatMul: bias and relu, all transposes, batched', async () => {
  for (const ta of [false, true]) {
    for (const tb of [false, true]) {
      const [m, k, n] = [19, 31, 11];
      const a = ta ? [k, m] : [m, k];
      const b = tb ? [n, k] : [k, n];
      for (const activation of ['linear', 'relu'] as const) {
        await check(`fmm ${ta}${tb} ${activation}`, '_FusedMatMul', [a, b, [n]], (x, y, bias) =>
          tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, transposeA: ta, transposeB: tb, bias, activation }),
        );
      }
      await check(`fmm batched ${ta}${tb}`, '_FusedMatMul', [[2, ...a], [2, ...b], [n]], (x, y, bias) =>
        tf.fused.matMul({ a: x as tf.Tensor3D, b: y as tf.Tensor3D, transposeA: ta, transposeB: tb, bias, activation: 'relu' }),
      );
    }
  }
});

type Pad = 'same' | 'valid';
const convCases: ReadonlyArray<{ x: [number, number, number, number]; f: [number, number, number, number]; s: number; pad: Pad }> = [
  { x: [2, 9, 11, 3], f: [5, 5, 3, 8], s: 1, pad: 'same' },
  { x: [2, 9, 11, 3], f: [3, 3, 3, 8], s: 2, pad: 'same' },
  { x: [3, 8, 7, 20], f: [3, 3, 20, 6], s: 1, pad: 'valid' },
  { x: [2, 10, 9, 17], f: [2, 4, 17, 5], s: 2, pad: 'valid' },
  { x: [2, 7, 7, 16], f: [4, 4, 16, 7], s: 2, pad: 'same' },
  { x: [1, 12, 12, 5], f: [3, 3, 5, 4], s: 3, pad: 'same' },
  { x: [2, 9, 8, 16], f: [5, 5, 16, 6], s: 1, pad: 'same' },
  { x: [2, 5, 6, 24], f: [1, 1, 24, 7], s: 1, pad: 'same' },
  { x: [3, 5, 7, 2], f: [1, 1, 2, 9], s: 1, pad: 'valid' },
  { x: [2, 7, 6, 4], f: [1, 1, 4, 5], s: 2, pad: 'same' },
  { x: [2, 6, 7, 16], f: [4, 2, 16, 3], s: 1, pad: 'same' },
  { x: [5, 7, 6, 33], f: [3, 3, 33, 4], s: 2, pad: 'valid' },
  { x: [5, 6, 6, 32], f: [3, 3, 32, 5], s: 1, pad: 'same' },
  { x: [2, 7, 9, 32], f: [3, 3, 32, 16], s: 1, pad: 'same' },
  { x: [2, 9, 8, 16], f: [5, 5, 16, 32], s: 1, pad: 'valid' },
  { x: [2, 9, 9, 16], f: [3, 3, 16, 16], s: 2, pad: 'same' },
  { x: [16, 6, 5, 3], f: [3, 3, 3, 16], s: 1, pad: 'same' },
  { x: [16, 7, 7, 8], f: [3, 3, 8, 16], s: 2, pad: 'valid' },
  { x: [16, 8, 8, 5], f: [2, 2, 5, 32], s: 2, pad: 'same' },
  // A stride that divides the input, with padding on every side: the filter gradient's stride phases.
  { x: [2, 12, 9, 16], f: [5, 5, 16, 8], s: 3, pad: 'same' },
  // RGB input layers, more than one block of outputs: the NCHWc kernels read plain NCHW input.
  { x: [4, 9, 10, 3], f: [3, 3, 3, 32], s: 1, pad: 'same' },
  { x: [3, 11, 9, 3], f: [5, 5, 3, 48], s: 2, pad: 'valid' },
];

/** Runs `body` with MLAS's blocked (NCHWc) conv kernels on, when this CPU has them, then off. */
async function withAndWithoutNchwc(body: () => Promise<void>): Promise<void> {
  const probed = ctx.nchwcBlock;
  for (const block of probed === null ? [null] : [probed, null]) {
    ctx.nchwcBlock = block;
    await body();
  }
  ctx.nchwcBlock = probed;
}

test('Conv2D and FusedConv2D: strides 1-3, same and valid, odd sizes, dilation', () => withAndWithoutNchwc(async () => {
  for (const c of convCases) {
    const label = `conv ${c.x} ${c.f} s${c.s} ${c.pad}`;
    await check(label, 'Conv2D', [c.x, c.f], (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.s, c.pad));
    await check(`fused ${label}`, 'FusedConv2D', [c.x, c.f, [c.f[3]]], (x, w, b) =>
      tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: c.s, pad: c.pad, bias: b, activation: 'relu' }),
    );
  }
  await check('conv dilated', 'Conv2D', [[2, 11, 10, 4], [3, 3, 4, 6]], (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same', 'NHWC', 2));
  await check('conv dilated 16', 'Conv2D', [[2, 11, 10, 16], [3, 3, 16, 16]], (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same', 'NHWC', 2));
  await check('fused bias [1] relu 16', 'FusedConv2D', [[2, 6, 6, 16], [3, 3, 16, 16], [1]], (x, w, b) =>
    tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: 'same', bias: b, activation: 'relu' }),
  );
}));

test('Conv2DBackpropInput and Conv2DBackpropFilter against cpu', () => withAndWithoutNchwc(async () => {
  for (const c of convCases) {
    const info = tf.backend_util.computeConv2DInfo(c.x, c.f, c.s, 1, c.pad);
    const dyShape = [c.x[0], info.outHeight, info.outWidth, c.f[3]];
    const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC' };
    const label = `${c.x} ${c.f} s${c.s} ${c.pad}`;
    await check(`dx ${label}`, 'Conv2DBackpropInput', [dyShape, c.f], (dy, w) =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy: dy as tf.Tensor, filter: w as tf.Tensor }, { ...attrs, inputShape: c.x }) as tf.Tensor,
    );
    for (const method of ['auto', 'expanded-dy', 'expanded-x', 'transposed-conv', 'tap-gemm', 'taps'] as const) {
      ctx.filterGrad = method;
      await checkVariants(`dw ${method} ${label}`, 'Conv2DBackpropFilter', [c.x, dyShape], (x, dy) =>
        tf.engine().runKernel('Conv2DBackpropFilter', { x: x as tf.Tensor, dy: dy as tf.Tensor }, { ...attrs, filterShape: c.f }) as tf.Tensor,
        method.startsWith('expanded') ? LAYOUTS : LAYOUTS.slice(0, 1),
      );
    }
    ctx.filterGrad = 'auto';
    ctx.expansionLayout = 'auto';
  }
}));

test('an RGB input conv runs on the NCHWc kernels with plain NCHW input, blocked only in its outputs', () => {
  const g = { n: 2, h: 9, w: 10, ci: 3, oh: 9, ow: 10, co: 32, fh: 3, fw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pads: [1, 1, 1, 1] } as const;
  const narrow = convForwardGraph({ kind: 'conv-forward', g, bias: [32], relu: true, block: 16 });
  const conv = narrow.nodes.find((n) => n.op === 'Conv');
  assert.equal(conv?.domain, NCHWC_DOMAIN);
  assert.ok(!narrow.nodes.some((n) => n.op === 'ReorderInput'), 'the input is not blocked');
  assert.equal(narrow.nodes.at(-1)?.op, 'ReorderOutput');
  // Outputs that do not fill whole blocks keep the plain NCHW Conv.
  const plain = convForwardGraph({ kind: 'conv-forward', g: { ...g, co: 40 }, bias: null, relu: false, block: 16 });
  assert.ok(plain.nodes.some((n) => n.op === 'Conv' && n.domain === undefined));
});

test('a strided input gradient runs as one blocked stride-1 conv per output phase, like cpu', async () => {
  const block = ctx.nchwcBlock;
  if (block === null) return;
  // Small Inception's two downsampling layers (fewer images), then strides 3 and (2, 1), a 5×5 window
  // whose phases have two and three taps and both pads, and 'valid' padding.
  const cases = [
    { x: [3, 28, 28, block * 5], f: [3, 3, block * 5, block * 5], s: [2, 2], pad: 'same' },
    { x: [2, 14, 14, block * 9], f: [3, 3, block * 9, block * 6], s: [2, 2], pad: 'same' },
    { x: [2, 9, 12, block], f: [3, 3, block, 2 * block], s: [3, 3], pad: 'same' },
    { x: [2, 8, 6, block], f: [3, 3, block, block], s: [2, 1], pad: 'same' },
    { x: [2, 14, 10, block], f: [5, 5, block, block], s: [2, 2], pad: 'same' },
    { x: [2, 8, 8, block], f: [2, 2, block, block], s: [2, 2], pad: 'valid' },
  ] as const;
  for (const c of cases) {
    const info = tf.backend_util.computeConv2DInfo([...c.x], [...c.f], [...c.s], 1, c.pad);
    const p = info.padInfo;
    const g = {
      n: c.x[0], h: c.x[1], w: c.x[2], ci: c.x[3], oh: info.outHeight, ow: info.outWidth, co: c.f[3], fh: c.f[0], fw: c.f[1],
      sh: c.s[0], sw: c.s[1], dh: 1, dw: 1, pads: [p.top, p.left, p.bottom, p.right] as const,
    };
    const graph = convInputGradGraph({ kind: 'conv-input-grad', g, block });
    const label = `dx phases ${c.x} ${c.f} s${c.s} ${c.pad}`;
    assert.ok(!graph.nodes.some((n) => n.op === 'ConvTranspose'), `${label}: no ConvTranspose`);
    assert.equal(graph.nodes.filter((n) => n.op === 'Conv' && n.domain === NCHWC_DOMAIN).length, c.s[0] * c.s[1], `${label}: a conv per phase`);
    const dyShape = [c.x[0], info.outHeight, info.outWidth, c.f[3]];
    await check(label, 'Conv2DBackpropInput', [dyShape, c.f], (dy, w) =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy: dy as tf.Tensor, filter: w as tf.Tensor }, { strides: [...c.s], pad: c.pad, dataFormat: 'NHWC', inputShape: [...c.x] }) as tf.Tensor,
    );
  }
  // An input that is not a whole number of strides keeps the ConvTranspose.
  const odd = { n: 2, h: 9, w: 9, ci: block, oh: 5, ow: 5, co: block, fh: 3, fw: 3, sh: 2, sw: 2, dh: 1, dw: 1, pads: [1, 1, 1, 1] } as const;
  assert.ok(convInputGradGraph({ kind: 'conv-input-grad', g: odd, block }).nodes.some((n) => n.op === 'ConvTranspose'));
});

test('the expanded filter gradients sum over several image chunks (and a short last one) like cpu', async () => {
  // Stride 1 'same' (dy and x expanded, in rows of taps or of pixels), and stride 2 (pixel rows only).
  const cases = [
    { which: 'dy', x: [18, 28, 28, 16], f: [3, 3, 16, 64], s: 1, out: 28 },
    { which: 'x', x: [9, 28, 28, 40], f: [3, 3, 40, 8], s: 1, out: 28 },
    { which: 'x', x: [40, 28, 28, 64], f: [3, 3, 64, 8], s: 2, out: 14 },
  ] as const;
  for (const c of cases) {
    const [n, h, w, ci] = c.x;
    const [fh, fw, , co] = c.f;
    const g = { n, h, w, ci, oh: c.out, ow: c.out, co, fh, fw, sh: c.s, sw: c.s, dh: 1, dw: 1, pads: [1, 1, 1, 1] as const };
    const per = imagesPerChunk(c.which, g);
    assert.ok(per < n && n % per !== 0, `${c.which}: ${per} images per chunk: several chunks, the last one short`);
    ctx.filterGrad = `expanded-${c.which}`;
    try {
      await checkVariants(`dw expanded-${c.which} s${c.s} chunks`, 'Conv2DBackpropFilter', [c.x, [n, c.out, c.out, co]], (x, dy) =>
        tf.engine().runKernel('Conv2DBackpropFilter', { x: x as tf.Tensor, dy: dy as tf.Tensor }, { strides: c.s, pad: 'same', dataFormat: 'NHWC', filterShape: [...c.f] }) as tf.Tensor,
        LAYOUTS,
      );
    } finally {
      ctx.filterGrad = 'auto';
      ctx.expansionLayout = 'auto';
    }
  }
});

test('a stride-1 same-padded filter gradient multiplies its expansion as stored, in rows of taps (no transposed Gemm)', async () => {
  // Small Inception's 3×3 96→32 layer (fewer images, at 14×14): dy expanded, 9·32 rows of taps.
  const [n, h, ci, co] = [2, 14, 96, 32];
  const g = { n, h, w: h, ci, oh: h, ow: h, co, fh: 3, fw: 3, sh: 1, sw: 1, dh: 1, dw: 1, pads: [1, 1, 1, 1] as const };
  const rows = Math.min(n, imagesPerChunk('dy', g)) * h * h;
  await check('dw 3x3 96->32 @14', 'Conv2DBackpropFilter', [[n, h, h, ci], [n, h, h, co]], (x, dy) =>
    tf.engine().runKernel('Conv2DBackpropFilter', { x: x as tf.Tensor, dy: dy as tf.Tensor }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, ci, co] }) as tf.Tensor,
  );
  assert.ok(ctx.cache.has({ kind: 'gemm-acc', m: 9 * co, k: rows, n: ci, transA: false, acc: false }), 'an NN Gemm over the tap rows ran');
  assert.ok(!ctx.cache.has({ kind: 'gemm-acc', m: 9 * co, k: rows, n: ci, transA: true, acc: false }), 'no TN Gemm over pixel rows ran');
});

test('convolutions and their input gradients over a big batch run in chunks of images, like cpu', async () => {
  // 25 images of 32×32×224 floats are 22.9 MB, over the 16 MiB a chunk's largest tensor may take.
  const x = [25, 32, 32, 224] as const;
  for (const f of [[2, 2, 224, 4], [1, 1, 224, 4]] as const) {
    const label = `${f[0]}×${f[1]}`;
    const before = nativeCalls('Conv2D');
    await check(`conv chunked ${label}`, 'Conv2D', [x, f], (a, w) => tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'));
    assert.equal(nativeCalls('Conv2D') - before, 2, `${label}: two chunks (13 and 12 images)`);
    const inputs = nativeCalls('Conv2DBackpropInput');
    await check(`dx chunked ${label}`, 'Conv2DBackpropInput', [[25, 32, 32, 4], f], (dy, w) =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy: dy as tf.Tensor, filter: w as tf.Tensor }, { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [...x] }) as tf.Tensor,
    );
    assert.equal(nativeCalls('Conv2DBackpropInput') - inputs, 2, label);
  }
});

test('a small conv net: loss gradients w.r.t. every weight match cpu', async () => {
  const shapes = [[4, 12, 12, 3], [3, 3, 3, 8], [8], [3, 3, 8, 16], [16], [3 * 3 * 16, 10], [10], [4, 10]];
  await check('convnet grads', 'Conv2DBackpropFilter', shapes, (x, w1, b1, w2, b2, w3, b3, labels) => {
    const loss = (a: tf.Tensor, c: tf.Tensor, d: tf.Tensor, e: tf.Tensor, g: tf.Tensor, h: tf.Tensor): tf.Tensor => {
      let y: tf.Tensor = tf.fused.conv2d({ x: x as tf.Tensor4D, filter: a as tf.Tensor4D, strides: 1, pad: 'same', bias: c, activation: 'relu' });
      y = tf.maxPool(y as tf.Tensor4D, 2, 2, 'same');
      y = tf.relu(tf.add(tf.conv2d(y as tf.Tensor4D, d as tf.Tensor4D, 2, 'same'), e));
      const flat = tf.reshape(y, [4, 3 * 3 * 16]) as tf.Tensor2D;
      const logits = tf.fused.matMul({ a: flat, b: g as tf.Tensor2D, bias: h });
      return tf.losses.softmaxCrossEntropy(tf.softmax(labels as tf.Tensor), logits);
    };
    const grads = tf.grads(loss)([w1, b1, w2, b2, w3, b3] as tf.Tensor[]);
    return [loss(w1!, b1!, w2!, b2!, w3!, b3!), ...grads];
  });
  for (const k of ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', '_FusedMatMul', 'BatchMatMul']) {
    assert.ok(nativeCalls(k) > 0, `${k} never ran natively`);
  }
});

test('MaxPoolGrad: overlapping 3/2 windows, same and valid, ties from relu zeros', async () => {
  const cases: ReadonlyArray<{ x: [number, number, number, number]; k: number; s: number; pad: Pad }> = [
    { x: [2, 13, 12, 5], k: 3, s: 2, pad: 'same' },
    { x: [2, 13, 12, 5], k: 3, s: 2, pad: 'valid' },
    { x: [3, 8, 9, 4], k: 2, s: 2, pad: 'same' },
    { x: [1, 7, 7, 3], k: 3, s: 1, pad: 'same' },
  ];
  for (const c of cases) {
    // The loss's gradient goes through MaxPoolGrad; relu and rounding make many equal maxima.
    await check(`maxPoolGrad ${c.x} k${c.k} s${c.s} ${c.pad}`, 'MaxPoolGrad', [c.x, c.x], (x, weights) => {
      const tied = tf.relu(tf.round(tf.mul(x!, 2)));
      return tf.grad((v: tf.Tensor) => {
        const pooled = tf.maxPool(v as tf.Tensor4D, c.k, c.s, c.pad);
        return tf.sum(tf.mul(pooled, tf.slice(weights!, [0, 0, 0, 0], pooled.shape)));
      })(tied);
    });
  }
});

test('Identity shares data: a clone outlives its source, and nothing leaks on the heap', async () => {
  await tf.setBackend('native');
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const ids = backend.numDataIds();
  const tensors = tf.memory().numTensors;
  const x = tf.tensor1d([1, 2, 3]);
  const y = tf.clone(x);
  assert.equal(backend.numDataIds(), ids + 1, 'the clone must not allocate');
  x.dispose();
  assert.deepEqual(Array.from(await y.data()), [1, 2, 3]);
  y.dispose();
  assert.equal(backend.numDataIds(), ids);
  assert.equal(tf.memory().numTensors, tensors);
});

test('SplitV and Concat on every axis, with inferred sizes', async () => {
  const shape = [4, 16, 18, 40];
  for (const axis of [0, 1, 2, 3]) {
    const d = shape[axis] as number;
    const sizes = [1, d - 3, -1];
    await check(`split axis ${axis}`, 'SplitV', [shape], (x) => tf.split(x!, sizes, axis));
    await check(`split even axis ${axis}`, 'SplitV', [shape], (x) => tf.split(x!, 2, axis));
    const parts = [1, 2, 3].map((k) => shape.map((v, i) => (i === axis ? 8 * k : v)));
    await check(`concat axis ${axis}`, 'Concat', parts, (a, b, c) => tf.concat([a!, b!, c!], axis));
    // They ran as strided copies on the heap, not as ORT sessions.
    assert.ok(!ctx.cache.has({ kind: 'concat', shapes: parts, axis }), `concat axis ${axis}: no ORT session`);
    assert.ok(!ctx.cache.has({ kind: 'split', shape, axis, sizes: [1, d - 3, 2] }), `split axis ${axis}: no ORT session`);
  }
});
