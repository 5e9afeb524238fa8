// Shared helpers for the native-backend tests: seeded inputs, running one function on two
// backends, and relative L2 error.

import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { nativeRegistration } from '../../../src/backends/native/register.js';
import type { NativeContext } from '../../../src/backends/native/native_context.js';
import { initNative } from '../../../src/backends/native/init.js';
import { Rng } from '../../../src/util/random.js';

export function randomValues(seed: string, n: number): Float32Array {
  const rng = Rng.derive(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

import { relL2 } from '../../support/numerics.js';
export { relL2 };

type Outputs = ReadonlyArray<{ readonly values: Float32Array; readonly shape: readonly number[] }>;

/** Asserts that every output in `got` has `want`'s shape and lies within relative L2 `tol` of it. */
export function assertAgrees(where: string, got: Outputs, want: Outputs, tol: number): void {
  assert.equal(got.length, want.length, `${where}: output count`);
  got.forEach((g, i) => {
    const w = want[i]!;
    assert.deepEqual(g.shape, w.shape, `${where}: shape`);
    const err = relL2(g.values, w.values);
    assert.ok(err <= tol, `${where}: output ${i} rel L2 ${err.toExponential(2)} > ${tol}`);
  });
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

/** Starts the native backend (it must load here) and returns its kernels' shared context. */
export async function nativeContext(): Promise<NativeContext> {
  const r = await initNative();
  assert.ok(r.ok, `native backend unavailable: ${JSON.stringify(r)}`);
  const reg = nativeRegistration();
  assert.ok(reg !== null);
  return reg.ctx;
}
