// The fused momentum update (two WGSL dispatches per variable) against the composed tfjs ops on the
// WebGPU backend (llvmpipe in CI), and against the cpu backend's result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFusedMatchesComposed } from '../fused/momentum_check.js';
import { webgpuOrSkipReason } from './helpers.js';

const ready = await webgpuOrSkipReason();
const skip = 'skip' in ready ? ready.skip : false;

test('fused momentum update matches the composed one on webgpu within 1e-6', { skip }, async () => {
  if ('skip' in ready) return;
  const worst = await checkFusedMatchesComposed(ready.tf, 'webgpu', 1e-6);
  console.log(`webgpu fused vs composed: max relative difference ${worst}`);
  await ready.tf.setBackend('cpu');
  assert.ok(await checkFusedMatchesComposed(ready.tf, 'cpu', 0) === 0);
});
