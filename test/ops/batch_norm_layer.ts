// Two training steps of a fresh BetaBatchNorm layer on a backend, for comparing the fused kernels
// (webgpu, wasm, native) with the composed layer on cpu.
import assert from 'node:assert/strict';
import type * as tfType from '@tensorflow/tfjs';
import { defineBetaBatchNorm } from '../../src/models/beta-batch-norm.js';
import { randomArray, type Tf } from '../backends/webgpu/helpers.js';

export interface Run {
  readonly y: Float32Array;
  readonly dx: Float32Array;
  readonly dbeta: Float32Array;
  readonly movingMean: Float32Array;
  readonly movingVariance: Float32Array;
}

/** ReLU after the batch norm: none, inside the layer (relu: true), or as a separate tf.relu. */
export type Relu = 'none' | 'fused' | 'separate';

/** Two training steps of a fresh layer on `backend`; the values of the second. */
export async function runLayer(tf: Tf, backend: string, shape: readonly number[], seed: number, relu: Relu = 'none'): Promise<Run> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const n = shape.reduce((a, b) => a * b, 1);
  const c = shape[shape.length - 1]!;
  const Layer = defineBetaBatchNorm(tf);
  const layer = new Layer({ momentum: 0.99, epsilon: 1e-3, relu: relu === 'fused' });
  const forward = (t: tfType.Tensor): tfType.Tensor => {
    const out = layer.apply(t, { training: true }) as tfType.Tensor;
    return relu === 'separate' ? tf.relu(out) : out;
  };
  // An offset mean and a non-unit spread, so a variance without centring would lose digits.
  const xs = randomArray(seed, 'bn-x', n).map((v, i) => 3 + (1 + (i % c) / c) * v);
  const x = tf.tidy(() => tf.variable(tf.tensor(xs, [...shape])));
  const w = tf.tensor(randomArray(seed, 'bn-w', n), [...shape]);
  layer.build([...shape]);
  const initial = [tf.tensor1d(randomArray(seed, 'bn-beta', c)), tf.zeros([c]), tf.ones([c])];
  layer.setWeights(initial);
  tf.dispose(initial);
  const beta = layer.trainableWeights[0]!.read() as tfType.Variable;
  let out: Run | undefined;
  for (let step = 0; step < 2; step++) {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(forward(x), w)), [x, beta]);
    const y = tf.tidy(() => forward(x));
    // The extra forward pass updated the moving statistics a second time per step: fine, both paths do it.
    out = {
      y: (await y.data()) as Float32Array,
      dx: (await grads[x.name]!.data()) as Float32Array,
      dbeta: (await grads[beta.name]!.data()) as Float32Array,
      movingMean: (await layer.getWeights()[1]!.data()) as Float32Array,
      movingVariance: (await layer.getWeights()[2]!.data()) as Float32Array,
    };
    tf.dispose([value, y, ...Object.values(grads)]);
  }
  for (const v of layer.weights) v.dispose();
  tf.dispose([x, w]);
  const after = tf.memory().numTensors;
  assert.equal(after, before, `${backend}: ${after - before} tensor(s) leaked`);
  return out!;
}

