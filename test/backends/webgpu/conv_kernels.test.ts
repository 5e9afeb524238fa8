// Our gathered-GEMM conv kernels on 'webgpu' against tfjs's cpu backend: fresh seeded inputs, strides
// 1 and 2, same and valid padding, odd sizes, with and without split-K. Runs on Mesa llvmpipe in CI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webgpuOrSkipReason, randomArray, relL2, runKernelOn, type KernelInput } from './helpers.js';

const ready = await webgpuOrSkipReason();
const skip = 'skip' in ready ? ready.skip : false;
const TOL = 1e-4;

interface Case {
  readonly x: readonly [number, number, number, number];
  readonly f: readonly [number, number, number, number];
  readonly stride: number;
  readonly pad: 'same' | 'valid';
  /** Only these kernels (the big cases exist for one tile path each and are slow on a CPU reference). */
  readonly only?: readonly string[];
}

const CASES: readonly Case[] = [
  { x: [2, 9, 11, 5], f: [3, 3, 5, 7], stride: 1, pad: 'same' },
  { x: [3, 13, 13, 3], f: [5, 5, 3, 8], stride: 1, pad: 'same' }, // K = 3·13·13 > 256: split-K
  { x: [2, 10, 9, 6], f: [3, 3, 6, 5], stride: 2, pad: 'same' },
  { x: [2, 11, 12, 4], f: [3, 3, 4, 9], stride: 2, pad: 'valid' },
  { x: [1, 7, 7, 70], f: [1, 1, 70, 66], stride: 1, pad: 'valid' }, // N, M past one 64-wide tile
  { x: [4, 15, 15, 3], f: [5, 5, 3, 4], stride: 1, pad: 'valid' },
  // M ≥ 32768 rows with ≥ 48 columns selects the 128×64 tile (forward here, input gradient below).
  { x: [8, 64, 64, 3], f: [3, 3, 3, 48], stride: 1, pad: 'same', only: ['Conv2D'] },
  { x: [8, 64, 64, 48], f: [3, 3, 48, 4], stride: 1, pad: 'same', only: ['Conv2DBackpropInput'] },
];

function convAttrs(c: Case): Record<string, unknown> {
  return { strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined };
}

function outShape(c: Case): [number, number, number, number] {
  const [b, h, w] = c.x;
  const [kh, kw, , co] = c.f;
  const o = (n: number, k: number): number => (c.pad === 'same' ? Math.ceil(n / c.stride) : Math.ceil((n - k + 1) / c.stride));
  return [b, o(h, kh), o(w, kw), co];
}

const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

async function compare(kernel: string, inputs: readonly KernelInput[], attrs: Record<string, unknown>, label: string): Promise<void> {
  if ('skip' in ready) return;
  const { tf } = ready;
  const cur = tf.getKernel(kernel, 'webgpu')?.kernelFunc as { rethink?: boolean } | undefined;
  assert.equal(cur?.rethink, true, `${kernel} on webgpu is ours`);
  const want = await runKernelOn(tf, 'cpu', kernel, inputs, attrs);
  const got = await runKernelOn(tf, 'webgpu', kernel, inputs, attrs);
  assert.deepEqual(got.shape, want.shape, `${label} shape`);
  const err = relL2(got.values, want.values);
  assert.ok(err <= TOL, `${label}: relative L2 error ${err}`);
}

for (const [i, c] of CASES.entries()) {
  const label = `x${c.x.join('x')} f${c.f.join('x')} s${c.stride} ${c.pad}`;
  const x: KernelInput = { name: 'x', shape: c.x, values: randomArray(i, 'x', size(c.x)) };
  const filter: KernelInput = { name: 'filter', shape: c.f, values: randomArray(i, 'f', size(c.f)) };
  const dyShape = outShape(c);
  const dy: KernelInput = { name: 'dy', shape: dyShape, values: randomArray(i, 'dy', size(dyShape)) };

  test(`Conv2D ${label}`, { skip: skip || (c.only !== undefined && !c.only.includes('Conv2D') ? 'large case kept for another kernel' : false) }, async () => {
    await compare('Conv2D', [x, filter], convAttrs(c), label);
  });
  test(`FusedConv2D bias+relu ${label}`, { skip: skip || (c.only !== undefined && !c.only.includes('FusedConv2D') ? 'large case kept for another kernel' : false) }, async () => {
    const bias: KernelInput = { name: 'bias', shape: [c.f[3]], values: randomArray(i, 'b', c.f[3]) };
    await compare('FusedConv2D', [x, filter, bias], { ...convAttrs(c), activation: 'relu' }, label);
  });
  test(`Conv2DBackpropFilter ${label}`, { skip: skip || (c.only !== undefined && !c.only.includes('Conv2DBackpropFilter') ? 'large case kept for another kernel' : false) }, async () => {
    await compare('Conv2DBackpropFilter', [x, dy], { ...convAttrs(c), filterShape: [...c.f] }, label);
  });
  test(`Conv2DBackpropInput ${label}`, { skip: skip || (c.only !== undefined && !c.only.includes('Conv2DBackpropInput') ? 'large case kept for another kernel' : false) }, async () => {
    await compare('Conv2DBackpropInput', [dy, filter], { ...convAttrs(c), inputShape: [...c.x] }, label);
  });
}

test('Conv2D with dilation 2 falls back to the stock kernel and still matches cpu', { skip }, async () => {
  const xs = [2, 9, 9, 3] as const;
  const fs = [3, 3, 3, 4] as const;
  const x: KernelInput = { name: 'x', shape: xs, values: randomArray(99, 'x', size(xs)) };
  const filter: KernelInput = { name: 'filter', shape: fs, values: randomArray(99, 'f', size(fs)) };
  await compare('Conv2D', [x, filter], { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [2, 2] }, 'dilated');
});

// Strided input gradients skip dy's gaps (conv_gemm_specs.ts phasedInputGradSpec): one phase per
// workgroup layer, the same sums in the same order as the plain gathered GEMM, so bitwise its result.
const STRIDED: readonly Case[] = [
  { x: [2, 10, 9, 6], f: [3, 3, 6, 5], stride: 2, pad: 'same' },
  { x: [2, 11, 12, 4], f: [3, 3, 4, 9], stride: 2, pad: 'valid' },
  { x: [1, 8, 8, 5], f: [1, 1, 5, 3], stride: 2, pad: 'valid' }, // odd positions meet no tap: zeros
  { x: [2, 9, 9, 3], f: [2, 2, 3, 4], stride: 2, pad: 'same' },
  { x: [1, 13, 11, 3], f: [5, 5, 3, 4], stride: 3, pad: 'same' },
  { x: [2, 28, 28, 20], f: [3, 3, 20, 24], stride: 2, pad: 'same' }, // an Inception downsample, narrower
];

test('strided Conv2DBackpropInput in phases: bitwise the plain product, one phase per workgroup layer', { skip }, async () => {
  if ('skip' in ready) return;
  const { tf } = ready;
  const { inputGradOptions } = await import('../../../src/backends/webgpu/kernels/conv_gemm_specs.js');
  const { recordDispatchGrids } = await import('./helpers.js');
  for (const [i, c] of STRIDED.entries()) {
    const label = `x${c.x.join('x')} f${c.f.join('x')} s${c.stride} ${c.pad}`;
    const dyShape = outShape(c);
    const inputs: KernelInput[] = [
      { name: 'dy', shape: dyShape, values: randomArray(40 + i, 'dy', size(dyShape)) },
      { name: 'filter', shape: c.f, values: randomArray(40 + i, 'f', size(c.f)) },
    ];
    const attrs = { ...convAttrs(c), inputShape: [...c.x] };
    const run = async (phases: boolean): Promise<{ values: Float32Array; grids: [number, number, number][] }> => {
      await tf.setBackend('webgpu');
      inputGradOptions.phases = phases;
      const recording = recordDispatchGrids(tf);
      const grids: [number, number, number][] = [];
      try {
        const { values } = await runKernelOn(tf, 'webgpu', 'Conv2DBackpropInput', inputs, attrs);
        return { values, grids };
      } finally {
        grids.push(...recording.stop());
        inputGradOptions.phases = true;
      }
    };
    const plain = await run(false);
    const phased = await run(true);
    assert.deepEqual(phased.grids.map((g) => g[2]), [c.stride * c.stride], `${label}: one dispatch, s² phases along z`);
    assert.deepEqual(plain.grids.map((g) => g[2]), [1], `${label}: the plain product does not split`);
    assert.deepEqual(phased.values, plain.values, `${label}: bitwise the plain product`);
    const want = await runKernelOn(tf, 'cpu', 'Conv2DBackpropInput', inputs, attrs);
    assert.ok(relL2(phased.values, want.values) <= TOL, `${label}: matches cpu`);
  }
  await tf.setBackend('cpu');
});
