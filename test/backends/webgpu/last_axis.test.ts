// Concat and SplitV along the last axis as one recorded dispatch each (src/backends/webgpu/kernels/
// last_axis.ts) against the cpu backend, and tfjs's kernels for other axes; Concat's gradient is a SplitV.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as tfType from '@tensorflow/tfjs';
import { countDispatches, webgpuOrSkipReason, randomArray, type Tf } from './helpers.js';

const ready = await webgpuOrSkipReason();
const skip = 'skip' in ready ? ready.skip : false;

async function split(tf: Tf, backend: 'cpu' | 'webgpu', shape: number[], sizes: number | number[], axis: number): Promise<{ parts: Float32Array[]; shapes: number[][]; dispatches: number }> {
  await tf.setBackend(backend);
  const x = tf.tensor(randomArray(23, shape.join('x'), shape.reduce((a, b) => a * b, 1)), shape);
  let dispatches = 0;
  const count = backend === 'webgpu' ? countDispatches(tf) : null;
  let out: tfType.Tensor[];
  try {
    out = tf.split(x, sizes, axis);
  } finally {
    dispatches = count?.stop() ?? 0;
  }
  const parts = await Promise.all(out.map(async (t) => (await t.data()) as Float32Array));
  const shapes = out.map((t) => t.shape);
  tf.dispose([x, ...out]);
  return { parts, shapes, dispatches };
}

test('SplitV on the last axis: one dispatch, the cpu parts', { skip }, async () => {
  if ('skip' in ready) return;
  const { tf } = ready;
  const cases: [number[], number | number[], number][] = [
    [[2, 3, 4, 10], [4, 6], -1],
    [[5, 7], [1, 2, 4], 1],
    [[3, 2, 2, 12], 3, 3],
    [[4, 9], [2, -1, 3], -1],
  ];
  for (const [shape, sizes, axis] of cases) {
    const want = await split(tf, 'cpu', shape, sizes, axis);
    const got = await split(tf, 'webgpu', shape, sizes, axis);
    assert.deepEqual(got.shapes, want.shapes);
    for (const [i, p] of want.parts.entries()) assert.deepEqual(got.parts[i], p, `${shape} ${JSON.stringify(sizes)}: part ${i}`);
    assert.equal(got.dispatches, 1, `${shape} ${JSON.stringify(sizes)}: one dispatch`);
  }
  // Another axis keeps tfjs's slices (a dispatch per part, or none: tfjs slices small CPU-resident
  // tensors on the CPU), never our single dispatch.
  const want = await split(tf, 'cpu', [6, 4, 5], [2, 4], 0);
  const got = await split(tf, 'webgpu', [6, 4, 5], [2, 4], 0);
  for (const [i, p] of want.parts.entries()) assert.deepEqual(got.parts[i], p);
  assert.notEqual(got.dispatches, 1);
  await tf.setBackend('cpu');
});

async function concat(tf: Tf, backend: 'cpu' | 'webgpu', shapes: number[][], axis: number): Promise<{ values: Float32Array; shape: number[]; dispatches: number; programs: number }> {
  await tf.setBackend(backend);
  const xs = shapes.map((s, i) => tf.tensor(randomArray(37, `c${i}${s}`, s.reduce((a, b) => a * b, 1)), s));
  const b = tf.backend() as unknown as { runWebGPUProgram?: (...a: unknown[]) => unknown };
  const run = b.runWebGPUProgram;
  let programs = 0;
  if (run !== undefined) {
    b.runWebGPUProgram = (...a: unknown[]) => {
      programs++;
      return run.apply(b, a);
    };
  }
  const count = backend === 'webgpu' ? countDispatches(tf) : null;
  let out: tfType.Tensor;
  let dispatches = 0;
  try {
    out = tf.concat(xs, axis);
  } finally {
    dispatches = count?.stop() ?? 0;
    if (run !== undefined) b.runWebGPUProgram = run;
  }
  const values = (await out.data()) as Float32Array;
  const shape = out.shape;
  tf.dispose([...xs, out]);
  return { values, shape, dispatches, programs };
}

test('Concat on the last axis: one recorded dispatch, the cpu result', { skip }, async () => {
  if ('skip' in ready) return;
  const { tf } = ready;
  // Inputs of ≥ 1000 elements: tfjs concatenates smaller CPU-resident tensors on the CPU, and so do we.
  const cases: [number[][], number][] = [
    [[[2, 8, 8, 12], [2, 8, 8, 20]], -1],
    [[[40, 30], [40, 31], [40, 29]], 1],
  ];
  for (const [shapes, axis] of cases) {
    const want = await concat(tf, 'cpu', shapes, axis);
    const got = await concat(tf, 'webgpu', shapes, axis);
    assert.deepEqual(got.shape, want.shape);
    assert.deepEqual(got.values, want.values, `${JSON.stringify(shapes)}`);
    assert.equal(got.dispatches, 1);
    assert.equal(got.programs, 0, 'recorded, not a tfjs program');
  }
  // Axis 0 stays tfjs's.
  const want = await concat(tf, 'cpu', [[30, 40], [20, 40]], 0);
  const got = await concat(tf, 'webgpu', [[30, 40], [20, 40]], 0);
  assert.deepEqual(got.values, want.values);
  assert.ok(got.programs >= 1, 'tfjs program');
  await tf.setBackend('cpu');
});

test('the gradient of a channel concat on webgpu equals cpu', { skip }, async () => {
  if ('skip' in ready) return;
  const { tf } = ready;
  const grads = async (backend: 'cpu' | 'webgpu'): Promise<Float32Array[]> => {
    await tf.setBackend(backend);
    const a = tf.tensor(randomArray(29, 'a', 2 * 3 * 3 * 5), [2, 3, 3, 5]);
    const b = tf.tensor(randomArray(29, 'b', 2 * 3 * 3 * 7), [2, 3, 3, 7]);
    const w = tf.tensor(randomArray(29, 'w', 2 * 3 * 3 * 12), [2, 3, 3, 12]);
    const g = tf.grads((p: tfType.Tensor, q: tfType.Tensor) => tf.sum(tf.mul(tf.concat([tf.square(p), q], -1), w)))([a, b]);
    const out = await Promise.all(g.map(async (t) => (await t.data()) as Float32Array));
    tf.dispose([a, b, w, ...g]);
    return out;
  };
  const want = await grads('cpu');
  const got = await grads('webgpu');
  for (const [i, v] of want.entries()) {
    const g = got[i]!;
    assert.equal(g.length, v.length);
    v.forEach((x, j) => assert.ok(Math.abs(x - g[j]!) <= 1e-5 * Math.max(1, Math.abs(x)), `input ${i}[${j}]: ${g[j]} vs ${x}`));
  }
  await tf.setBackend('cpu');
});
