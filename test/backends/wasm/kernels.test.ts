// Every kernel we register for wasm, against the cpu backend on seeded random inputs.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { isComposedKernel } from '../../../src/backends/wasm/ops.js';
import { trainingKernelNames } from '../../../src/backends/wasm/register.js';
import { kernel, tolerance, useWasm, worstError } from './compare.js';

before(() => useWasm());

type Pad = 'same' | 'valid' | tf.backend_util.ExplicitPadding;
const convCases: readonly { k: number; h: number; w: number; s: number; pad: Pad }[] = [
  ...[1, 2].flatMap((s) =>
    (['same', 'valid'] as const).flatMap((pad) =>
      [
        { k: 3, h: 9, w: 11 },
        { k: 5, h: 8, w: 7 },
        { k: 1, h: 7, w: 5 },
        { k: 2, h: 6, w: 9 },
      ].map((c) => ({ ...c, s, pad })),
    ),
  ),
  // Padding beyond the kernel, and stride 3: the zero-dilation and cropping paths.
  { k: 3, h: 7, w: 8, s: 1, pad: [[0, 0], [3, 0], [0, 4], [0, 0]] },
  { k: 3, h: 10, w: 8, s: 3, pad: [[0, 0], [1, 2], [4, 0], [0, 0]] },
  { k: 4, h: 11, w: 9, s: 3, pad: 'same' },
];

test('our kernels replace or add to the stock ones', () => {
  for (const name of trainingKernelNames) {
    const k = tf.getKernel(name, 'wasm');
    assert.ok(k !== undefined, name);
    assert.ok(isComposedKernel(k.kernelFunc), `${name} is not ours`);
  }
});

test('BatchMatMul, every transpose, rank 2 and 3 (batched and shared right operand)', async () => {
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    const shapes = [
      { a: ta ? [7, 5] : [5, 7], b: tb ? [9, 7] : [7, 9] },
      { a: ta ? [3, 7, 5] : [3, 5, 7], b: tb ? [9, 7] : [7, 9] },
      { a: ta ? [3, 7, 5] : [3, 5, 7], b: tb ? [3, 9, 7] : [3, 7, 9] },
    ];
    for (const s of shapes) {
      const err = await worstError(kernel('BatchMatMul', s, { transposeA: ta, transposeB: tb }, `bmm${ta}${tb}${s.a}${s.b}`));
      assert.ok(err <= tolerance, `${ta} ${tb} ${JSON.stringify(s)}: ${err}`);
    }
  }
});

test('_FusedMatMul with transposes, bias and relu', async () => {
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    const inputs = { a: ta ? [1, 13, 6] : [1, 6, 13], b: tb ? [1, 11, 13] : [1, 13, 11], bias: [11] };
    const err = await worstError(kernel('_FusedMatMul', inputs, { transposeA: ta, transposeB: tb, activation: 'relu' }, `fmm${ta}${tb}`));
    assert.ok(err <= tolerance, `${ta} ${tb}: ${err}`);
  }
});

test('Conv2DBackpropFilter, strides 1 and 2, same and valid, odd sizes', async () => {
  for (const c of convCases) {
    const x = [2, c.h, c.w, 3];
    const filterShape = [c.k, c.k, 3, 4];
    const info = tf.backend_util.computeConv2DInfo(x as [number, number, number, number], filterShape as [number, number, number, number], c.s, 1, c.pad);
    const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape };
    const err = await worstError(kernel('Conv2DBackpropFilter', { x, dy: info.outShape }, attrs, `dw${JSON.stringify(c)}`));
    assert.ok(err <= tolerance, `${JSON.stringify(c)}: ${err}`);
  }
});

test('Conv2DBackpropInput, strides 1 and 2, same and valid, odd sizes', async () => {
  for (const c of convCases) {
    const inputShape = [2, c.h, c.w, 3];
    const filter = [c.k, c.k, 3, 4];
    const info = tf.backend_util.computeConv2DInfo(inputShape as [number, number, number, number], filter as [number, number, number, number], c.s, 1, c.pad);
    const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', inputShape };
    const err = await worstError(kernel('Conv2DBackpropInput', { dy: info.outShape, filter }, attrs, `dx${JSON.stringify(c)}`));
    assert.ok(err <= tolerance, `${JSON.stringify(c)}: ${err}`);
  }
});

test('MaxPoolGrad, 3×3 and 2×2 windows, strides 1 and 2, same and valid', async () => {
  for (const [f, s] of [[3, 2], [3, 1], [2, 2]] as const) {
    for (const pad of ['same', 'valid'] as const) {
      const x = [2, 9, 7, 5];
      const info = tf.backend_util.computePool2DInfo(x as [number, number, number, number], f, s, 1, pad);
      const run = (): tf.Tensor =>
        tf.tidy(() => {
          const input = tf.tensor(new Float32Array(tf.util.sizeFromShape(x)).map((_, i) => (i * 7919) % 23), x);
          const output = tf.maxPool(input as tf.Tensor4D, f, s, pad);
          const dy = kernel('Identity', { x: info.outShape }, {}, `mp${f}${s}${pad}`)();
          return tf.engine().runKernel('MaxPoolGrad', { dy, input, output }, { filterSize: f, strides: s, pad }) as tf.Tensor;
        });
      // Inputs with ties check that the first maximum wins, as on cpu.
      const err = await worstError(run);
      assert.ok(err <= tolerance, `${f}/${s} ${pad}: ${err}`);
    }
  }
});

test('LRN and LRNGrad (TF-style radius 4 and radius 2, β 0.75 and 0.6)', async () => {
  for (const attrs of [
    { depthRadius: 4, bias: 1, alpha: 0.001 / 9, beta: 0.75 },
    { depthRadius: 2, bias: 2, alpha: 0.1, beta: 0.6 },
  ]) {
    const x = [2, 5, 3, 13];
    assert.ok((await worstError(kernel('LRN', { x }, attrs, `lrn${attrs.depthRadius}`))) <= tolerance);
    const grad = (): tf.Tensor =>
      tf.tidy(() => {
        const xt = kernel('Identity', { x }, {}, `lrnx${attrs.depthRadius}`)();
        const y = tf.engine().runKernel('LRN', { x: xt }, attrs) as tf.Tensor;
        const dy = kernel('Identity', { x }, {}, `lrndy${attrs.depthRadius}`)();
        return tf.engine().runKernel('LRNGrad', { x: xt, y, dy }, attrs) as tf.Tensor;
      });
    const err = await worstError(grad);
    assert.ok(err <= tolerance, `${attrs.depthRadius}: ${err}`);
  }
});

test('Sum and Mean over leading axes, and the fallback for other axes', async () => {
  for (const name of ['Sum', 'Mean']) {
    for (const [axis, keepDims] of [[[0, 1, 2], false], [0, true], [[1, 0], false], [[1, 2], false], [-1, true], [[0, 1, 2, 3], false]] as const) {
      const err = await worstError(kernel(name, { x: [4, 5, 3, 7] }, { axis, keepDims }, `${name}${axis}`));
      assert.ok(err <= tolerance, `${name} ${JSON.stringify(axis)}: ${err}`);
    }
  }
});

test('Tile of leading size-1 axes, and the fallback for others', async () => {
  for (const [x, reps] of [
    [[1, 1, 1, 7], [4, 5, 3, 1]],
    [[1, 6], [3, 1]],
    [[2, 3], [2, 2]],
    [[1, 3, 2], [1, 2, 1]],
  ] as const) {
    const err = await worstError(kernel('Tile', { x }, { reps }, `tile${x}${reps}`));
    assert.ok(err <= tolerance, `${x} × ${reps}: ${err}`);
  }
});
