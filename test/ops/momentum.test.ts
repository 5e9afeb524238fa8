// The fused momentum update against the composed one on cpu and wasm (bitwise), and its math
// against a float64 hand computation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initWasm } from '../../src/backends/wasm/init.js';
import { registerCpuKernels } from '../../src/backends/cpu/register.js';
import { kernelMomentum } from '../../src/ops/momentum.js';
import { MOMENTUM_UPDATE, momentumUpdate } from '../../src/ops/momentum_math.js';
import { checkFusedMatchesComposed } from './momentum_check.js';

test('momentumUpdate follows v = mu*v + g + decay*w; w = w - lr*v', () => {
  const w = Float32Array.of(1, -2);
  const v = Float32Array.of(0.5, 0);
  const g = Float32Array.of(0.25, 1);
  const wOut = new Float32Array(2);
  const vOut = new Float32Array(2);
  momentumUpdate(w, v, g, { lr: 0.5, momentum: 0.5, decay: 0.125 }, wOut, vOut);
  assert.deepEqual([...vOut], [0.25 + 0.25 + 0.125, 1 - 0.25]);
  assert.deepEqual([...wOut], [1 - 0.5 * 0.625, -2 - 0.5 * 0.75]);
});

test('fused momentum update is bitwise the composed one on cpu', async () => {
  registerCpuKernels(tf);
  assert.equal(await checkFusedMatchesComposed(tf, 'cpu', kernelMomentum(tf), 0), 0);
});

test('fused momentum update is bitwise the composed one on wasm', async () => {
  await initWasm({ threads: 1 });
  assert.equal(await checkFusedMatchesComposed(tf, 'wasm', kernelMomentum(tf), 0), 0);
  await tf.setBackend('cpu');
});

test('cpu and wasm register the fused kernel; a backend without it gets the composed update', async () => {
  registerCpuKernels(tf);
  await initWasm({ threads: 1 });
  assert.ok(tf.getKernel(MOMENTUM_UPDATE, 'cpu') !== undefined && tf.getKernel(MOMENTUM_UPDATE, 'wasm') !== undefined);
  tf.unregisterKernel(MOMENTUM_UPDATE, 'cpu');
  try {
    // No kernel on cpu now: kernelMomentum composes the update (no kernel call, the same bits).
    assert.equal(await checkFusedMatchesComposed(tf, 'cpu', kernelMomentum(tf), 0), 0);
    assert.fail('expected the kernel-call count check to fail without the kernel');
  } catch (e) {
    assert.match(String(e), /fused kernel calls/);
  } finally {
    registerCpuKernels(tf);
    await tf.setBackend('cpu');
  }
});
