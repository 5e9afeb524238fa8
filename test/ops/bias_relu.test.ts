// The models with fused bias+ReLU training layers against tfjs's own layers on cpu (1e-5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { checkFusedLayers } from './bias_relu_check.js';

for (const name of ['mlp_1x512', 'small_alexnet', 'small_inception']) {
  test(`${name}: fused bias+ReLU layers give tfjs's outputs and gradients with fewer kernels`, async () => {
    await checkFusedLayers(tf, 'cpu', name, 1e-5, name === 'small_inception' ? 4 : 8);
  });
}

test("small_inception_bn: the first conv (bias-free, before a batch norm) computes no gradient of the image", async () => {
  const { stockHeavy, fusedHeavy } = await checkFusedLayers(tf, 'cpu', 'small_inception_bn', 1e-5, 4);
  // tfjs's conv op computes both gradients of a conv; the fused layers leave out the image's one.
  assert.equal(fusedHeavy, stockHeavy - 1, `Conv2DBackpropInput and matmul calls ${stockHeavy} -> ${fusedHeavy}`);
});
