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

test('on webgpu the update is one hand-recorded dispatch per variable, equal to the two-program path', { skip }, async () => {
  if ('skip' in ready) return;
  const tf = ready.tf;
  await tf.setBackend('webgpu');
  const { webgpuMomentumOptions } = await import('../../../src/backends/fused/momentum_webgpu.js');
  const { MomentumSgd } = await import('../../../src/train/sgd.js');
  const backend = tf.backend() as unknown as { runWebGPUProgram: (...a: unknown[]) => unknown; dispatchCountInPass: number };
  const run = async (onePass: boolean): Promise<{ w: Float32Array; programs: number }> => {
    webgpuMomentumOptions.onePass = onePass;
    const w = tf.tidy(() => tf.variable(tf.linspace(-1, 1, 3000), true, `one_pass_${onePass}`));
    const sgd = new MomentumSgd(tf, [{ variable: w, decay: 0.01 }], 0.9, { fused: true });
    const orig = backend.runWebGPUProgram;
    let programs = 0;
    backend.runWebGPUProgram = (...a: unknown[]) => {
      if ((a[0] as { shaderKey: string }).shaderKey.startsWith('rethinkmomentum')) programs++;
      return orig.apply(backend, a);
    };
    try {
      for (let i = 0; i < 3; i++) {
        const g = tf.fill([3000], 0.5 - i);
        sgd.apply({ [w.name]: g }, 0.1);
        g.dispose();
      }
    } finally {
      backend.runWebGPUProgram = orig;
      webgpuMomentumOptions.onePass = true;
    }
    const out = (await w.data()) as Float32Array;
    sgd.dispose();
    w.dispose();
    return { w: out, programs };
  };
  const before = tf.memory().numTensors;
  const two = await run(false);
  const one = await run(true);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(two.programs, 6, 'fallback: two momentum programs per update');
  assert.equal(one.programs, 0, 'one pass: no momentum program through tfjs');
  assert.deepEqual(one.w, two.w);
  assert.ok(Math.abs(one.w[0]! + 1) > 1e-3, 'the weights moved');
  await tf.setBackend('cpu');
});

test('fused bias+ReLU layers on webgpu give tfjs-layers outputs and gradients (small AlexNet)', { skip }, async () => {
  if ('skip' in ready) return;
  const { checkFusedLayers } = await import('../fused/bias_relu_check.js');
  await checkFusedLayers(ready.tf, 'webgpu', 'small_alexnet', 1e-5);
  await ready.tf.setBackend('cpu');
});
