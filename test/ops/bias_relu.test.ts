// The models with fused bias+ReLU training layers against tfjs's own layers on cpu (1e-5).
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { checkFusedLayers } from './bias_relu_check.js';

for (const name of ['mlp_1x512', 'small_alexnet', 'small_inception']) {
  test(`${name}: fused bias+ReLU layers give tfjs's outputs and gradients with fewer kernels`, async () => {
    await checkFusedLayers(tf, 'cpu', name, 1e-5, name === 'small_inception' ? 4 : 8);
  });
}
