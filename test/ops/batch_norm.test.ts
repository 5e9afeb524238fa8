// The fused training batch norm (webgpu kernels, src/backends/webgpu/kernels/batch_norm.ts) against the
// composed layer on cpu: output, gradients in x and β, and the moving statistics after two steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webgpuOrSkipReason, relL2 } from '../backends/webgpu/helpers.js';
import { runLayer, type Run } from './batch_norm_layer.js';
import { fusedBatchNormOptions } from '../../src/ops/batch_norm.js';
import { BN_KERNEL_NAMES } from '../../src/ops/batch_norm_math.js';
import { SPLIT_POSITIONS } from '../../src/backends/webgpu/kernels/batch_norm.js';

const ready = await webgpuOrSkipReason();
const skip = 'skip' in ready ? ready.skip : false;

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

test('cpu keeps the composed ops', () => {
  if ('skip' in ready) return;
  assert.ok(BN_KERNEL_NAMES.every((k) => ready.tf.getKernel(k, 'cpu') === undefined));
});

// The last shape has more positions per channel than one workgroup per channel sums (SPLIT_POSITIONS):
// its sums run in two passes.
for (const [i, shape] of [[4, 5, 6, 8], [2, 3, 3, 33], [16, 10], [3, 7, 7, 260], [4, 96, 90, 37]].entries()) {
  test(`fused batch norm ${shape.join('x')} on webgpu matches the composed layer on cpu`, { skip }, async () => {
    if ('skip' in ready) return;
    const { tf } = ready;
    assert.equal(size(shape) / shape.at(-1)! > SPLIT_POSITIONS, i === 4, 'only the last shape takes the two passes');
    const want = await runLayer(tf, 'cpu', shape, i);
    const got = await runLayer(tf, 'webgpu', shape, i);
    assert.equal(tf.getKernel('RethinkBatchNormStats', 'webgpu') !== undefined, true);
    for (const k of ['y', 'dx', 'dbeta', 'movingMean', 'movingVariance'] as const) {
      const err = relL2(got[k], want[k]);
      assert.ok(err <= 1e-5, `${k}: relative L2 error ${err}`);
    }
    // The composed path on webgpu agrees too (and proves the comparison can see a difference in kind).
    fusedBatchNormOptions.enabled = false;
    try {
      const composed = await runLayer(tf, 'webgpu', shape, i);
      assert.ok(relL2(composed.dx, want.dx) <= 1e-5);
    } finally {
      fusedBatchNormOptions.enabled = true;
    }
    await tf.setBackend('cpu');
  });
}

for (const shape of [[3, 5, 5, 12], [2, 130, 130, 3]]) {
  test(`batch norm + ReLU in one layer ${shape.join('x')}: webgpu (recorded and through tfjs programs) and cpu match a separate ReLU`, { skip }, async () => {
    if ('skip' in ready) return;
    const { tf } = ready;
    const { recordOptions } = await import('../../src/backends/webgpu/record.js');
    const want = await runLayer(tf, 'cpu', shape, 7, 'separate');
    assert.ok(want.y.some((v) => v === 0) && want.y.some((v) => v > 0), 'the ReLU clamps some outputs and passes others');
    const runs: Record<string, Run> = {
      cpu: await runLayer(tf, 'cpu', shape, 7, 'fused'),
      webgpu: await runLayer(tf, 'webgpu', shape, 7, 'fused'),
    };
    recordOptions.enabled = false;
    try {
      runs['webgpu, tfjs programs'] = await runLayer(tf, 'webgpu', shape, 7, 'fused');
    } finally {
      recordOptions.enabled = true;
    }
    for (const [name, got] of Object.entries(runs)) {
      for (const k of ['y', 'dx', 'dbeta', 'movingMean', 'movingVariance'] as const) {
        const err = relL2(got[k], want[k]);
        assert.ok(err <= 1e-5, `${name} ${k}: relative L2 error ${err}`);
      }
    }
    await tf.setBackend('cpu');
  });
}

test('two batch-norm layers with the same channels and different sizes each match cpu (kernels keyed by size)', { skip }, async () => {
  if ('skip' in ready) return;
  const { tf } = ready;
  // One process compiles each recorded kernel once per key: the second layer must not reuse the first's.
  for (const [i, shape] of [[2, 6, 6, 24], [3, 3, 3, 24], [2, 9, 9, 24]].entries()) {
    const want = await runLayer(tf, 'cpu', shape, 20 + i, 'separate');
    const got = await runLayer(tf, 'webgpu', shape, 20 + i, 'fused');
    for (const k of ['y', 'dx', 'dbeta', 'movingMean', 'movingVariance'] as const) {
      const err = relL2(got[k], want[k]);
      assert.ok(err <= 1e-5, `${shape.join('x')} ${k}: relative L2 error ${err}`);
    }
  }
  await tf.setBackend('cpu');
});
