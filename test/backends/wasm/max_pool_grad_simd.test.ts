// The wasm SIMD MaxPoolGrad on fresh memories, plain and shared (the threaded heap's kind), bitwise
// against a scalar loop that re-finds each window's first maximum: border windows clamped on every
// side, windows wider than their stride and narrower, asymmetric kernels and strides, padding wider
// than a window (windows wholly outside the input receive nothing), ties everywhere, and operands
// 4 bytes past 16-byte alignment. Then on the wasm backend: the kernel takes the SIMD path when the
// forward output is given, and its dx is bitwise the JS loop's.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { heapMemory, type HeapMemory } from '../../../src/backends/wasm/assemble.js';
import { maxPoolGradOnHeap, maxPoolGradSimd, simdPoolFits, type PoolGeometry } from '../../../src/backends/wasm/kernels/maxPoolGradSimd.js';
import { Rng } from '../../../src/util/random.js';
import { kernel, useWasm } from './compare.js';
import { heapMemoryOf } from '../../../src/backends/wasm/assemble.js';

interface MemoryCtor {
  new (d: { initial: number; maximum?: number; shared?: boolean }): { buffer: ArrayBuffer | SharedArrayBuffer };
}
const WA = (globalThis as unknown as { WebAssembly: { Memory: MemoryCtor } }).WebAssembly;

function geometry(n: number, h: number, w: number, c: number, kh: number, kw: number, sh: number, sw: number, top: number, left: number, bottom: number, right: number): PoolGeometry {
  return { n, h, w, c, kh, kw, sh, sw, top, left, oh: Math.floor((h + top + bottom - kh) / sh) + 1, ow: Math.floor((w + left + right - kw) / sw) + 1 };
}

const geometries: readonly PoolGeometry[] = [
  geometry(2, 28, 28, 64, 3, 3, 2, 2, 0, 0, 1, 1), // the small AlexNet's ('same' on 28)
  geometry(2, 13, 12, 8, 3, 3, 2, 2, 1, 1, 1, 0),
  geometry(3, 9, 9, 4, 2, 2, 2, 2, 0, 0, 0, 0), // a leftover row and column
  geometry(1, 7, 8, 12, 3, 3, 1, 1, 1, 1, 1, 1),
  geometry(2, 11, 10, 8, 3, 2, 2, 1, 1, 0, 1, 1),
  geometry(2, 15, 14, 4, 5, 4, 3, 2, 2, 1, 2, 2),
  geometry(2, 11, 10, 4, 2, 2, 3, 3, 0, 0, 0, 0), // windows skip rows and columns
  geometry(1, 5, 6, 4, 2, 2, 1, 1, 3, 2, 3, 4), // padding wider than the window
  geometry(1, 3, 2, 4, 5, 5, 1, 1, 2, 2, 2, 2), // every window clamped on both sides
];

/** The scalar reference: first maximum in row-major order (strictly greater replaces). */
function reference(g: PoolGeometry, x: Float32Array, dy: Float32Array): Float32Array {
  const dx = new Float32Array(x.length);
  for (let n = 0; n < g.n; n++) {
    for (let oy = 0; oy < g.oh; oy++) {
      for (let ox = 0; ox < g.ow; ox++) {
        for (let c = 0; c < g.c; c++) {
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          for (let i = 0; i < g.kh; i++) {
            for (let j = 0; j < g.kw; j++) {
              const [r, q] = [oy * g.sh - g.top + i, ox * g.sw - g.left + j];
              if (r < 0 || r >= g.h || q < 0 || q >= g.w) continue;
              const k = ((n * g.h + r) * g.w + q) * g.c + c;
              if (x[k]! > best) [best, at] = [x[k]!, k];
            }
          }
          if (at >= 0) dx[at] = dx[at]! + dy[((n * g.oh + oy) * g.ow + ox) * g.c + c]!;
        }
      }
    }
  }
  return dx;
}

/** The forward output the kernel is given: each window's maximum (−∞ for a window wholly outside). */
function forward(g: PoolGeometry, x: Float32Array): Float32Array {
  const y = new Float32Array(g.n * g.oh * g.ow * g.c).fill(Number.NEGATIVE_INFINITY);
  for (let n = 0; n < g.n; n++)
    for (let oy = 0; oy < g.oh; oy++)
      for (let ox = 0; ox < g.ow; ox++)
        for (let i = 0; i < g.kh; i++)
          for (let j = 0; j < g.kw; j++) {
            const [r, q] = [oy * g.sh - g.top + i, ox * g.sw - g.left + j];
            if (r < 0 || r >= g.h || q < 0 || q >= g.w) continue;
            for (let c = 0; c < g.c; c++) {
              const o = ((n * g.oh + oy) * g.ow + ox) * g.c + c;
              y[o] = Math.max(y[o]!, x[((n * g.h + r) * g.w + q) * g.c + c]!);
            }
          }
  return y;
}

function runOnMemory(heap: HeapMemory, g: PoolGeometry, x: Float32Array, y: Float32Array, dy: Float32Array): Float32Array {
  const windows = maxPoolGradSimd(heap);
  assert.ok(windows !== null, `wasm SIMD loads on a ${heap.shared ? 'shared' : 'plain'} memory`);
  let next = 4; // 4 bytes past 16-byte alignment, like arbitrary heap tensors
  const place = (data: Float32Array): number => {
    const at = next;
    new Float32Array(heap.memory.buffer, at, data.length).set(data);
    next += 4 * data.length + 16;
    return at;
  };
  const at = { x: place(x), y: place(y), dy: place(dy), dx: place(new Float32Array(x.length).fill(Number.NaN)) };
  maxPoolGradOnHeap(windows, heap, g, at);
  return new Float32Array(heap.memory.buffer, at.dx, x.length).slice();
}

for (const shared of [false, true]) {
  test(`SIMD MaxPoolGrad on a ${shared ? 'shared' : 'plain'} memory is bitwise the scalar loop`, () => {
    for (const g of geometries) {
      assert.ok(simdPoolFits(g));
      const size = g.n * g.h * g.w * g.c;
      const rng = Rng.derive(5, 'mpg-simd', JSON.stringify(g));
      // Coarse values: many ties within a window, and zeros of both signs.
      const x = Float32Array.from({ length: size }, () => Math.round(rng.normal() * 2) * (rng.next() < 0.1 ? -0 : 1));
      const dy = Float32Array.from({ length: g.n * g.oh * g.ow * g.c }, () => rng.normal());
      const pages = Math.ceil((4 * (2 * size + 2 * dy.length) + 256) / 65536);
      const memory = new WA.Memory(shared ? { initial: pages, maximum: pages, shared: true } : { initial: pages });
      const heap = heapMemory(memory);
      assert.ok(heap !== null && heap.shared === shared);
      const got = runOnMemory(heap, g, x, forward(g, x), dy);
      const want = reference(g, x, dy);
      for (let i = 0; i < size; i++) assert.ok(Object.is(got[i], want[i]), `${JSON.stringify(g)} element ${i}: ${got[i]} vs ${want[i]}`);
    }
  });
}

test('channel counts that are not a multiple of four are not the SIMD kernel’s', () => {
  assert.equal(simdPoolFits(geometry(1, 4, 4, 6, 2, 2, 2, 2, 0, 0, 0, 0)), false);
});

test('on the wasm backend, MaxPoolGrad with the forward output is bitwise the JS loop without it', async () => {
  await useWasm();
  const heap = heapMemoryOf(tf.backend() as unknown as { wasm: unknown });
  assert.ok(heap !== null && maxPoolGradSimd(heap) !== null, 'the SIMD kernel loads on the backend’s heap');
  for (const [f, s, pad] of [[3, 2, 'same'], [2, 2, 'valid'], [3, 1, 'same']] as const) {
    const x = [2, 9, 7, 8];
    const info = tf.backend_util.computePool2DInfo(x as [number, number, number, number], f, s, 1, pad);
    const [simd, js] = tf.tidy(() => {
      const input = tf.tensor(new Float32Array(tf.util.sizeFromShape(x)).map((_, i) => (i * 7919) % 23), x);
      const output = tf.maxPool(input as tf.Tensor4D, f, s, pad);
      const dy = kernel('Identity', { x: info.outShape }, {}, `mps${f}${s}${pad}`)();
      const attrs = { filterSize: f, strides: s, pad };
      return [
        tf.engine().runKernel('MaxPoolGrad', { dy, input, output }, attrs) as tf.Tensor,
        tf.engine().runKernel('MaxPoolGrad', { dy, input }, attrs) as tf.Tensor,
      ];
    });
    const [a, b] = [simd.dataSync(), js.dataSync()];
    tf.dispose([simd, js]);
    assert.ok(a.some((v) => v !== 0));
    for (let i = 0; i < a.length; i++) assert.ok(Object.is(a[i], b[i]), `${f}/${s} ${pad} element ${i}`);
  }
});
