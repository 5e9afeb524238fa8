// The fused momentum update (two WGSL dispatches per variable) against the composed tfjs ops on the
// WebGPU backend (llvmpipe in CI), and against the cpu backend's result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkFusedMatchesComposed } from '../../ops/momentum_check.js';
import { countDispatches, sessionOf, webgpuOrSkipReason } from './helpers.js';

const ready = await webgpuOrSkipReason();
const skip = 'skip' in ready ? ready.skip : false;

test('fused momentum update matches the composed one on webgpu within 1e-6, in place and not', { skip }, async () => {
  if ('skip' in ready) return;
  const { webgpuMomentumOptions } = await import('../../../src/backends/webgpu/kernels/momentum.js');
  for (const inPlace of [true, false]) {
    webgpuMomentumOptions.inPlace = inPlace;
    try {
      const worst = await checkFusedMatchesComposed(ready.tf, 'webgpu', (await sessionOf(ready.tf, 'webgpu')).momentum, 1e-6);
      console.log(`webgpu fused (in place: ${inPlace}) vs composed: max relative difference ${worst}`);
    } finally {
      webgpuMomentumOptions.inPlace = true;
    }
  }
  await ready.tf.setBackend('cpu');
  assert.ok(await checkFusedMatchesComposed(ready.tf, 'cpu', (await sessionOf(ready.tf, 'cpu')).momentum, 0) === 0);
});

test('on webgpu the update is one hand-recorded dispatch per variable, equal to the two-program path', { skip }, async () => {
  if ('skip' in ready) return;
  const tf = ready.tf;
  await tf.setBackend('webgpu');
  const { webgpuMomentumOptions } = await import('../../../src/backends/webgpu/kernels/momentum.js');
  const { MomentumSgd } = await import('../../../src/train/sgd.js');
  const backend = tf.backend() as unknown as { runWebGPUProgram: (...a: unknown[]) => unknown; dispatchCountInPass: number };
  const run = async (onePass: boolean): Promise<{ w: Float32Array; programs: number }> => {
    webgpuMomentumOptions.onePass = onePass;
    const w = tf.tidy(() => tf.variable(tf.linspace(-1, 1, 3000), true, `one_pass_${onePass}`));
    const sgd = new MomentumSgd(tf, [{ variable: w, decay: 0.01 }], 0.9, (await sessionOf(tf, 'webgpu')).momentum, { fused: true });
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

test('on webgpu several variables update in one dispatch, bitwise as one at a time', { skip }, async () => {
  if ('skip' in ready) return;
  const tf = ready.tf;
  await tf.setBackend('webgpu');
  const { webgpuMomentumOptions, momentumGroupSize, momentumInPlaceGroupSize } = await import('../../../src/backends/webgpu/kernels/momentum.js');
  const { MomentumSgd } = await import('../../../src/train/sgd.js');
  const group = momentumGroupSize(tf);
  const inPlaceGroup = momentumInPlaceGroupSize(tf);
  assert.ok(group >= 2, `llvmpipe's storage-buffer limit (16) allows groups; got ${group}`);
  assert.ok(inPlaceGroup > group, `in place, a variable binds 3 buffers, not 5: ${inPlaceGroup} per dispatch`);
  const sizes = [3000, 7, 70000, 5, 1]; // differing sizes share a dispatch sized for the largest
  const run = async (grouped: boolean, inPlace: boolean): Promise<{ w: Float32Array[]; dispatches: number }> => {
    webgpuMomentumOptions.group = grouped;
    webgpuMomentumOptions.inPlace = inPlace;
    const vars = tf.tidy(() => sizes.map((n, i) => tf.variable(tf.linspace(-1, 1 + i, n), true, `group_${grouped}_${i}`)));
    const sgd = new MomentumSgd(tf, vars.map((variable, i) => ({ variable, decay: i % 2 === 0 ? 0.01 : 0 })), 0.9, (await sessionOf(tf, 'webgpu')).momentum);
    let dispatches = 0;
    try {
      for (let step = 0; step < 3; step++) {
        const grads = Object.fromEntries(vars.map((v, i) => [v.name, tf.fill([sizes[i]!], 0.5 - step + i)]));
        const count = countDispatches(tf); // the updates only, not the fills
        try {
          sgd.apply(grads, 0.1);
        } finally {
          dispatches += count.stop();
        }
        tf.dispose(Object.values(grads));
      }
    } finally {
      webgpuMomentumOptions.group = true;
      webgpuMomentumOptions.inPlace = true;
    }
    const w = await Promise.all(vars.map(async (v) => (await v.data()) as Float32Array));
    sgd.dispose();
    tf.dispose(vars);
    return { w, dispatches };
  };
  const before = tf.memory().numTensors;
  const single = await run(false, false);
  const runs = { grouped: await run(true, false), 'in place, one at a time': await run(false, true), 'in place, grouped': await run(true, true) };
  assert.equal(tf.memory().numTensors, before);
  assert.equal(single.dispatches, 3 * sizes.length, 'one dispatch per variable per step');
  assert.equal(runs.grouped.dispatches, 3 * Math.ceil(sizes.length / group), 'one dispatch per group per step');
  assert.equal(runs['in place, one at a time'].dispatches, 3 * sizes.length);
  assert.equal(runs['in place, grouped'].dispatches, 3 * Math.ceil(sizes.length / inPlaceGroup));
  for (const [name, r] of Object.entries(runs)) {
    for (const [i, w] of single.w.entries()) assert.deepEqual(r.w[i], w, `${name}: variable ${i} bitwise equal`);
  }
  await tf.setBackend('cpu');
});

test('fused bias+ReLU layers on webgpu give tfjs-layers outputs and gradients (small AlexNet)', { skip }, async () => {
  if ('skip' in ready) return;
  const { checkFusedLayers } = await import('../../ops/bias_relu_check.js');
  await checkFusedLayers(ready.tf, 'webgpu', 'small_alexnet', 1e-5);
  await ready.tf.setBackend('cpu');
});

test('on webgpu an update in place leaves clones alone and drops the CPU copy of an earlier read', { skip }, async () => {
  if ('skip' in ready) return;
  const tf = ready.tf;
  await tf.setBackend('webgpu');
  const { MomentumSgd } = await import('../../../src/train/sgd.js');
  const w = tf.tidy(() => tf.variable(tf.linspace(-1, 1, 300), true, 'in_place_w'));
  const sgd = new MomentumSgd(tf, [{ variable: w, decay: 0 }], 0.9, (await sessionOf(tf, 'webgpu')).momentum);
  const update = (): void => {
    const g = tf.fill([300], 1);
    sgd.apply({ [w.name]: g }, 0.5);
    g.dispose();
  };
  // tfjs keeps what data() read on the CPU; an update in place must not leave it stale.
  const start = (await w.data()) as Float32Array;
  update();
  const first = (await w.data()) as Float32Array;
  assert.ok(Math.abs(first[0]! - (start[0]! - 0.5)) < 1e-6, `w moved by lr·g: ${start[0]} → ${first[0]}`);
  // A clone shares w's buffer: the update must leave the clone's values as they were.
  const keep = w.clone();
  update();
  const second = (await w.data()) as Float32Array;
  assert.deepEqual(await keep.data(), first, 'the clone kept its values');
  // v = 0.9·1 + 1 = 1.9 on the second step: w − 0.5·1.9.
  assert.ok(Math.abs(second[0]! - (first[0]! - 0.95)) < 1e-6, `second update: ${first[0]} → ${second[0]}`);
  keep.dispose();
  update();
  assert.ok(Math.abs(((await w.data()) as Float32Array)[0]! - (second[0]! - 0.5 * 2.71)) < 1e-5, 'third update, in place again');
  sgd.dispose();
  w.dispose();
  await tf.setBackend('cpu');
});
