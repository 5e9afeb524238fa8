// Our LRNGrad on 'webgpu' against tfjs's cpu backend (odd channel counts, several radii and betas).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webgpuOrSkipReason, randomArray, relL2, runKernelOn, type KernelInput } from './helpers.js';

const ready = await webgpuOrSkipReason();
const skip = 'skip' in ready ? ready.skip : false;

const CASES = [
  { shape: [2, 5, 3, 64], depthRadius: 4, bias: 1, alpha: 0.001 / 9, beta: 0.75 },
  { shape: [3, 3, 5, 7], depthRadius: 2, bias: 2, alpha: 0.3, beta: 0.5 },
  { shape: [1, 4, 3, 100], depthRadius: 5, bias: 1.5, alpha: 0.05, beta: 0.6 },
] as const;

for (const [i, c] of CASES.entries()) {
  test(`LRNGrad ${c.shape.join('x')} r${c.depthRadius} beta ${c.beta}`, { skip }, async () => {
    if ('skip' in ready) return;
    const { tf } = ready;
    assert.equal((tf.getKernel('LRNGrad', 'webgpu')?.kernelFunc as { rethink?: boolean }).rethink, true);
    const n = c.shape.reduce<number>((a, b) => a * b, 1);
    const attrs = { depthRadius: c.depthRadius, bias: c.bias, alpha: c.alpha, beta: c.beta };
    const x: KernelInput = { name: 'x', shape: c.shape, values: randomArray(i, 'lrn-x', n) };
    const y = await runKernelOn(tf, 'cpu', 'LRN', [x], attrs);
    const inputs: KernelInput[] = [
      x,
      { name: 'y', shape: c.shape, values: y.values },
      { name: 'dy', shape: c.shape, values: randomArray(i, 'lrn-dy', n) },
    ];
    const want = await runKernelOn(tf, 'cpu', 'LRNGrad', inputs, attrs);
    const got = await runKernelOn(tf, 'webgpu', 'LRNGrad', inputs, attrs);
    const err = relL2(got.values, want.values);
    assert.ok(err <= 1e-4, `relative L2 error ${err}`);
  });
}

test('LRN forward on webgpu: one recorded dispatch, equal to cpu', { skip }, async () => {
  if ('skip' in ready) return;
  const { tf } = ready;
  const { recordPipelineLabels } = await import('./helpers.js');
  assert.equal((tf.getKernel('LRN', 'webgpu')?.kernelFunc as { rethink?: boolean }).rethink, true);
  for (const [i, c] of CASES.entries()) {
    const n = c.shape.reduce<number>((a, b) => a * b, 1);
    const attrs = { depthRadius: c.depthRadius, bias: c.bias, alpha: c.alpha, beta: c.beta };
    const x: KernelInput = { name: 'x', shape: c.shape, values: randomArray(i, 'lrn-x', n) };
    const want = await runKernelOn(tf, 'cpu', 'LRN', [x], attrs);
    await tf.setBackend('webgpu');
    const labels = recordPipelineLabels(tf);
    const got = await runKernelOn(tf, 'webgpu', 'LRN', [x], attrs);
    const ran = labels.stop();
    const err = relL2(got.values, want.values);
    assert.ok(err <= 1e-5, `${c.shape.join('x')}: relative L2 error ${err}`);
    assert.deepEqual(ran.map((l) => l.startsWith('rethink_lrn_')), [true], `${c.shape.join('x')}: ${ran.join(', ')}`);
  }
  await tf.setBackend('cpu');
});
