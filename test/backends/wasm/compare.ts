// Test helpers: run the same computation on the cpu backend and on wasm (with our kernels) from
// the same seeded inputs, and compare by relative L2 error.
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../../src/util/random.js';
import { initWasm, type WasmInitOptions } from '../../../src/backends/wasm/init.js';

export const tolerance = 1e-5;

/** Standard-normal values, reproducible from (seed, labels). */
export function randn(shape: readonly number[], ...labels: readonly (string | number)[]): Float32Array {
  const rng = Rng.derive(20170101, ...labels);
  const a = new Float32Array(shape.reduce((p, q) => p * q, 1));
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  return a;
}

export function relL2(expected: ArrayLike<number>, actual: ArrayLike<number>): number {
  if (expected.length !== actual.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < expected.length; i++) {
    num += (expected[i]! - actual[i]!) ** 2;
    den += expected[i]! ** 2;
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

export async function useWasm(options: WasmInitOptions = { threads: 1 }): Promise<void> {
  await initWasm(options);
  await tf.setBackend('wasm');
}

/** What `f` returns, computed on each backend; checks that neither leaks tensors or wasm memory. */
export async function onCpuAndWasm(f: () => tf.Tensor | tf.Tensor[]): Promise<{ cpu: Float32Array[]; wasm: Float32Array[] }> {
  const results: Float32Array[][] = [];
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    const tensorsBefore = tf.memory().numTensors;
    const idsBefore = tf.backend().numDataIds();
    const out = f();
    const list = Array.isArray(out) ? out : [out];
    results.push(list.map((t) => t.dataSync() as Float32Array));
    tf.dispose(list);
    const leaked = tf.memory().numTensors - tensorsBefore;
    const leakedIds = tf.backend().numDataIds() - idsBefore;
    if (leaked !== 0 || leakedIds !== 0) throw new Error(`${backend} leaked ${leaked} tensors, ${leakedIds} data ids`);
  }
  return { cpu: results[0]!, wasm: results[1]! };
}

/** The worst relative L2 error over `f`'s outputs, wasm against cpu. */
export async function worstError(f: () => tf.Tensor | tf.Tensor[]): Promise<number> {
  const { cpu, wasm } = await onCpuAndWasm(f);
  return Math.max(...cpu.map((c, i) => relL2(c, wasm[i]!)));
}

/** Runs one kernel by name on tensors built (inside the tidy) from seeded arrays. */
export function kernel(name: string, inputs: Readonly<Record<string, readonly number[]>>, attrs: object, seed: string): () => tf.Tensor {
  return () =>
    tf.tidy(() => {
      const ins: Record<string, tf.Tensor> = {};
      for (const [k, shape] of Object.entries(inputs)) ins[k] = tf.tensor(randn(shape, seed, k), [...shape]);
      return tf.engine().runKernel(name, ins, attrs as tf.NamedAttrMap) as tf.Tensor;
    });
}
