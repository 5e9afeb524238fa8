// The fused training batch norm on the wasm-heap backends (batch_norm_heap.ts) against the composed
// layer on cpu: output, gradients in x and β, and the moving statistics after two steps, with the
// ReLU inside the layer or not; channel counts on the SIMD path (multiples of 4) and off it; more
// positions than one block of partial sums. Then the SIMD and JS paths bitwise against each other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { BLOCK_ROWS, batchNormSimd, bnApply, bnGradInput, bnGradStats, bnStats } from '../../src/backends/wasm/kernels/batch_norm_heap.js';
import { heapMemory } from '../../src/backends/wasm/assemble.js';
import { BN_KERNEL_NAMES } from '../../src/ops/batch_norm_math.js';
import { initNative } from '../../src/backends/native/init.js';
import { initWasm } from '../../src/backends/wasm/init.js';
import { relL2 } from '../support/numerics.js';
import { runLayer } from './batch_norm_layer.js';

const native = await initNative({ activate: false });
await initWasm({ threads: 1 });
const backends = native.ok ? ['native', 'wasm'] : ['wasm'];

const shapes = [[4, 5, 6, 8], [2, 3, 3, 33], [16, 10], [3, 7, 7, 260], [6, 12, 12, 16]] as const;

for (const backend of backends) {
  test(`fused batch norm on ${backend} matches the composed layer on cpu, with and without the ReLU inside`, async () => {
    assert.ok(BN_KERNEL_NAMES.every((k) => tf.getKernel(k, backend) !== undefined), `${backend}'s register.ts registers the fused kernels`);
    assert.ok(shapes.some((s) => s.slice(0, -1).reduce((a, b) => a * b, 1) > BLOCK_ROWS), 'some shape sums several blocks');
    for (const [i, shape] of shapes.entries()) {
      for (const relu of ['none', 'fused'] as const) {
        const want = await runLayer(tf, 'cpu', shape, i, relu === 'fused' ? 'separate' : 'none');
        const got = await runLayer(tf, backend, shape, i, relu);
        for (const k of ['y', 'dx', 'dbeta', 'movingMean', 'movingVariance'] as const) {
          const err = relL2(got[k], want[k]);
          assert.ok(err <= 1e-5, `${shape.join('x')} relu ${relu} ${k}: relative L2 error ${err}`);
        }
      }
    }
  });
}

test('a training step runs the fused kernels, not the composed ops', async () => {
  const { defineBetaBatchNorm } = await import('../../src/models/beta-batch-norm.js');
  await tf.setBackend(backends[0]!);
  const layer = new (defineBetaBatchNorm(tf))({ momentum: 0.9, epsilon: 1e-3, relu: true });
  const x = tf.randomNormal([2, 4, 4, 8]);
  layer.build(x.shape);
  const info = await tf.profile(() => {
    const { value, grads } = tf.variableGrads(() => tf.sum(layer.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
    tf.dispose([value, ...Object.values(grads)]);
  });
  const names = new Set(info.kernels.map((k) => k.name));
  for (const k of BN_KERNEL_NAMES) assert.ok(names.has(k), `${k} ran`);
  assert.ok(!names.has('Mean') && !names.has('Square'), 'no composed statistics');
  tf.dispose(x);
  for (const w of layer.weights) w.dispose();
});

test('SIMD and JS paths give the same bits (blocks of partial sums included)', { skip: native.ok ? false : 'native unavailable' }, async () => {
  await tf.setBackend('native');
  const b = tf.backend() as unknown as Parameters<typeof bnStats>[0];
  for (const shape of [[6, 12, 12, 16], [2, 5, 5, 260], [3, 4, 4, 64]]) {
    const x = tf.add(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 1), 2), 3);
    const dy = tf.randomNormal(shape, 0, 1, 'float32', 2);
    const beta = tf.randomNormal([shape.at(-1)!], 0, 1, 'float32', 3);
    for (const relu of [false, true]) {
      const [simd, js] = [false, true].map((forceJs) => {
        const a = { epsilon: 1e-3, relu };
        const st = bnStats(b, x, forceJs);
        const y = bnApply(b, x, st, beta, a, forceJs);
        const [sums, db] = bnGradStats(b, dy, y, beta, a, forceJs);
        const dx = bnGradInput(b, x, st, dy, y, sums!, a, forceJs);
        const tensors = [st, y, sums!, db!, dx].map((t) => tf.engine().makeTensorFromTensorInfo(t));
        const values = tensors.map((t) => t.dataSync().slice());
        tf.dispose(tensors);
        return values;
      });
      ['stats', 'y', 'sums', 'dbeta', 'dx'].forEach((name, k) => {
        const [p, q] = [simd![k]!, js![k]!];
        for (let i = 0; i < p.length; i++) assert.ok(Object.is(p[i], q[i]), `${shape.join('x')} relu ${relu} ${name}[${i}]: ${p[i]} vs ${q[i]}`);
      });
    }
    tf.dispose([x, dy, beta]);
  }
});

test('one-pass statistics keep their digits when the mean dwarfs the spread (SIMD and JS)', { skip: native.ok ? false : 'native unavailable' }, async () => {
  await tf.setBackend('native');
  const b = tf.backend() as unknown as Parameters<typeof bnStats>[0];
  // Mean 1000, standard deviation 0.01: Σx²/M − (Σx/M)² in float32 sums would be noise.
  const shape = [4, 20, 20, 8];
  const x = tf.tidy(() => tf.add(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 4), 0.01), 1000));
  const xs = x.dataSync();
  const C = 8;
  const M = xs.length / C;
  for (const forceJs of [false, true]) {
    const st = tf.engine().makeTensorFromTensorInfo(bnStats(b, x, forceJs));
    const got = st.dataSync();
    for (let c = 0; c < C; c++) {
      let mean = 0;
      for (let i = c; i < xs.length; i += C) mean += xs[i]!;
      mean /= M;
      let variance = 0;
      for (let i = c; i < xs.length; i += C) variance += (xs[i]! - mean) ** 2;
      variance /= M;
      assert.ok(Math.abs(got[c]! - mean) <= 1e-6 * mean, `${forceJs ? 'JS' : 'SIMD'} mean[${c}] ${got[c]} vs ${mean}`);
      assert.ok(Math.abs(got[C + c]! - variance) <= 1e-3 * variance, `${forceJs ? 'JS' : 'SIMD'} variance[${c}] ${got[C + c]} vs ${variance}`);
    }
    st.dispose();
  }
  x.dispose();
});

test('the SIMD module loads on plain and shared memories (the threaded wasm heap is shared)', () => {
  const WA = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => object } }).WebAssembly;
  for (const shared of [false, true]) {
    const heap = heapMemory(new WA.Memory(shared ? { initial: 1, maximum: 1, shared: true } : { initial: 1 }));
    assert.ok(heap !== null && heap.shared === shared);
    assert.ok(batchNormSimd(heap, 4) !== null, `${shared ? 'shared' : 'plain'} memory`);
  }
});
