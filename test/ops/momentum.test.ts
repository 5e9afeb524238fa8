// The fused momentum update against the composed one on cpu and wasm (bitwise), and its math
// against a float64 hand computation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initWasm } from '../../src/backends/wasm/init.js';
import { ensureMomentumKernel, registerMomentumKernels } from '../../src/backends/momentum_kernels.js';
import { momentumUpdate } from '../../src/ops/momentum_math.js';
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
  assert.equal(await checkFusedMatchesComposed(tf, 'cpu', 0), 0);
});

test('fused momentum update is bitwise the composed one on wasm', async () => {
  await initWasm({ threads: 1 });
  assert.equal(await checkFusedMatchesComposed(tf, 'wasm', 0), 0);
  await tf.setBackend('cpu');
});

test('backends without a fused kernel fall back to the composed update', () => {
  assert.equal(ensureMomentumKernel(tf, 'no-such-backend'), false);
  const names = registerMomentumKernels(tf);
  assert.ok(names.includes('cpu') && names.includes('wasm'), names.join());
});
