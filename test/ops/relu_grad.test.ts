// RethinkReluGrad: the wasm SIMD mask on fresh memories (plain and shared) bitwise against the JS rule
// y > 0 ? dy : 0, at sizes with every tail length and operands off 16-byte alignment; on the native
// backend equal to tfjs's own dy·step(y) on cpu; and a model's fused layers using it still give
// tfjs's stock gradients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { reluGradSimd } from '../../src/backends/wasm/kernels/relu_grad.js';
import { RELU_GRAD } from '../../src/ops/bias_relu.js';
import { heapMemory } from '../../src/backends/wasm/assemble.js';
import { initNative } from '../../src/backends/native/init.js';
import { Rng } from '../../src/util/random.js';
import { checkFusedLayers } from './bias_relu_check.js';

interface MemoryCtor {
  new (d: { initial: number; maximum?: number; shared?: boolean }): { buffer: ArrayBuffer | SharedArrayBuffer };
}
const WA = (globalThis as unknown as { WebAssembly: { Memory: MemoryCtor } }).WebAssembly;

/** Values with exact zeros, signed zeros, NaN and infinities among normal ones. */
function values(rng: Rng, n: number): Float32Array {
  const special = [0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-45];
  return Float32Array.from({ length: n }, (_, i) => (i % 7 === 3 ? special[rng.int(special.length)]! : rng.normal()));
}

for (const shared of [false, true]) {
  test(`the SIMD mask on a ${shared ? 'shared' : 'plain'} memory is bitwise y > 0 ? dy : 0`, () => {
    for (const n of [4, 8, 100, 4096, 40_000]) {
      const pages = Math.ceil((12 * n + 64) / 65536);
      const memory = new WA.Memory(shared ? { initial: pages, maximum: pages, shared: true } : { initial: pages });
      const heap = heapMemory(memory)!;
      const simd = reluGradSimd(heap);
      assert.ok(simd !== null, 'wasm SIMD loads in Node 20');
      const rng = Rng.derive(9, 'relu-grad', n, String(shared));
      const [dy, y] = [values(rng, n), values(rng, n)];
      const off = (i: number): number => 4 + i * 4 * n; // 4 bytes past 16-byte alignment
      new Float32Array(memory.buffer, off(0), n).set(dy);
      new Float32Array(memory.buffer, off(1), n).set(y);
      simd(off(0), off(1), off(2), 4 * n);
      const dz = new Float32Array(memory.buffer, off(2), n);
      for (let i = 0; i < n; i++) assert.ok(Object.is(dz[i], y[i]! > 0 ? dy[i]! : 0), `n=${n} element ${i}: ${dz[i]} for dy ${dy[i]}, y ${y[i]}`);
    }
  });
}

const native = await initNative({ activate: false });
const skip = native.ok ? false : `native backend unavailable: ${native.ok ? '' : native.reason}`;

test('on native, RethinkReluGrad equals dy·step(y) on cpu, tails included', { skip }, async () => {
  assert.ok(tf.getKernel(RELU_GRAD, 'native') !== undefined, "native's registration adds it");
  assert.ok(tf.getKernel(RELU_GRAD, 'cpu') === undefined, 'cpu keeps the composed gradient');
  for (const n of [1, 3, 4, 7, 1001]) {
    const rng = Rng.derive(10, 'relu-grad-native', n);
    // Finite values here: the composed gradient turns NaN and ∞·0 into NaN where the mask gives 0.
    const [dy, y] = [Float32Array.from({ length: n }, () => rng.normal()), Float32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 0 : rng.normal()))];
    await tf.setBackend('native');
    const got = tf.tidy(() => tf.engine().runKernel(RELU_GRAD, { dy: tf.tensor1d(dy), y: tf.tensor1d(y) }) as tf.Tensor).dataSync();
    await tf.setBackend('cpu');
    const want = tf.tidy(() => tf.mul(tf.tensor1d(dy), tf.step(tf.tensor1d(y)))).dataSync();
    for (let i = 0; i < n; i++) assert.ok(got[i] === want[i], `n=${n} element ${i}: ${got[i]} vs ${want[i]}`);
  }
});

test('small AlexNet on native: fused layers with the one-pass ReLU gradient give the stock gradients', { skip }, async () => {
  await checkFusedLayers(tf, 'native', 'small_alexnet', 1e-5);
});
