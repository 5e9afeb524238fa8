// Our recorded MaxPool / MaxPoolGrad (src/backends/webgpu/kernels/max_pool.ts) against tfjs's own
// webgpu kernels, bit for bit, on random inputs and on inputs full of ties (ReLU zeros, repeated
// values), where which window entry receives the gradient is decided by the tie rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfType from '@tensorflow/tfjs';
import { webgpuOrSkipReason, randomArray, type Tf } from './helpers.js';

const ready = await webgpuOrSkipReason();
const skip = 'skip' in ready ? ready.skip : false;

type KernelFunc = (args: { inputs: Record<string, tfType.TensorInfo>; backend: unknown; attrs: Record<string, unknown> }) => tfType.TensorInfo;

function kernels(tf: Tf, name: string): { ours: KernelFunc; stock: KernelFunc } {
  const k = tf.getKernel(name, 'webgpu')!.kernelFunc as unknown as KernelFunc & { stock?: KernelFunc; rethink?: boolean };
  assert.equal(k.rethink, true, `${name}: ours is registered`);
  return { ours: k, stock: k.stock! };
}

async function read(tf: Tf, info: tfType.TensorInfo): Promise<Float32Array> {
  const t = tf.engine().makeTensorFromTensorInfo(info);
  const v = (await t.data()) as Float32Array;
  t.dispose();
  return v;
}

const CASES: { x: [number, number, number, number]; filterSize: [number, number]; strides: [number, number]; pad: 'same' | 'valid' }[] = [
  { x: [2, 9, 9, 5], filterSize: [3, 3], strides: [2, 2], pad: 'same' },
  { x: [3, 8, 7, 4], filterSize: [2, 2], strides: [2, 2], pad: 'valid' },
  { x: [1, 6, 6, 3], filterSize: [3, 3], strides: [1, 1], pad: 'same' },
  { x: [2, 10, 11, 6], filterSize: [3, 3], strides: [2, 2], pad: 'valid' },
];

for (const ties of [false, true]) {
  test(`MaxPool and MaxPoolGrad equal tfjs's webgpu kernels bit for bit${ties ? ' with ties' : ''}`, { skip }, async () => {
    if ('skip' in ready) return;
    const { tf } = ready;
    await tf.setBackend('webgpu');
    const backend = tf.backend();
    const pool = kernels(tf, 'MaxPool');
    const grad = kernels(tf, 'MaxPoolGrad');
    for (const c of CASES) {
      const n = c.x.reduce((a, b) => a * b, 1);
      // Ties: ReLU-like zeros and values rounded to a coarse grid.
      const xs = randomArray(31, `pool${c.x}`, n).map((v) => (ties ? Math.max(0, Math.round(v * 2) / 2) : v));
      const x = tf.tensor4d(xs, c.x);
      const attrs = { filterSize: c.filterSize, strides: c.strides, pad: c.pad, dimRoundingMode: undefined };
      const want = pool.stock({ inputs: { x }, backend, attrs });
      const got = pool.ours({ inputs: { x }, backend, attrs });
      assert.deepEqual(got.shape, want.shape);
      const [wv, gv] = [await read(tf, want), await read(tf, got)];
      assert.deepEqual(gv, wv, `${JSON.stringify(c)}: forward`);
      const dy = tf.tensor(randomArray(31, `dy${c.x}`, wv.length), want.shape);
      const y = tf.tensor(wv, want.shape);
      const gWant = await read(tf, grad.stock({ inputs: { dy, input: x, output: y }, backend, attrs }));
      const gGot = await read(tf, grad.ours({ inputs: { dy, input: x, output: y }, backend, attrs }));
      assert.deepEqual(gGot, gWant, `${JSON.stringify(c)}: gradient`);
      assert.ok(gWant.some((v) => v !== 0));
      tf.dispose([x, dy, y]);
    }
    await tf.setBackend('cpu');
  });
}
