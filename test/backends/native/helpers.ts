// Shared helpers for the native-backend tests: seeded inputs, running one function on two
// backends, and relative L2 error.

import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../../src/util/random.js';

export function randomValues(seed: string, n: number): Float32Array {
  const rng = Rng.derive(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

export function relL2(got: Float32Array, want: Float32Array): number {
  if (got.length !== want.length) return Number.POSITIVE_INFINITY;
  let num = 0;
  let den = 0;
  for (let i = 0; i < got.length; i++) {
    const d = (got[i] as number) - (want[i] as number);
    num += d * d;
    den += (want[i] as number) ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}

/** Runs f on `backend` over fresh tensors built from `inputs`; returns every output's values and shape. */
export async function runOn(
  backend: string,
  inputs: ReadonlyArray<{ readonly values: Float32Array; readonly shape: readonly number[] }>,
  f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<Array<{ values: Float32Array; shape: number[] }>> {
  await tf.setBackend(backend);
  const xs = inputs.map((i) => tf.tensor(i.values, [...i.shape], 'float32'));
  const out = tf.tidy(() => {
    const r = f(...xs);
    return Array.isArray(r) ? r : [r];
  });
  const result = [];
  for (const t of out) result.push({ values: (await t.data()) as Float32Array, shape: t.shape.slice() });
  tf.dispose([...xs, ...out]);
  return result;
}
