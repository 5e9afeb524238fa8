// The wasm SIMD momentum update that 'native' uses: bitwise the JS loop (and so the composed cpu update,
// which test/ops checks against the JS loop) on a fresh memory, and reachable on the
// native backend's heap, so RethinkMomentumUpdate there really takes this path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { momentumUpdate, type MomentumAttrs } from '../../../src/ops/momentum_math.js';
import { instantiateMomentumSimd, momentumUpdateSimd, plainWasmMemory, type WasmMemory } from '../../../src/backends/native/momentum_simd.js';
import { initNative } from '../../../src/backends/native/init.js';
import { Rng } from '../../../src/util/random.js';

const WA = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => WasmMemory } }).WebAssembly;

const ATTRS: readonly MomentumAttrs[] = [
  { lr: 0.01, momentum: 0.9, decay: 0 },
  { lr: 0.13, momentum: 0.9, decay: 5e-4 },
  { lr: 1e-3, momentum: 0.5, decay: 0.1 },
];

test('SIMD momentum update is bitwise the JS loop (odd sizes, offsets, signed zeros)', () => {
  for (const n of [1, 3, 4, 7, 1001, 40_003]) {
    const memory = new WA.Memory({ initial: Math.ceil((6 * 4 * n + 64) / 65536) });
    const simd = instantiateMomentumSimd(memory);
    assert.ok(simd !== null, 'wasm SIMD loads in Node 20');
    // Offsets 4 bytes past 16-byte alignment, like arbitrary heap tensors.
    const off = (i: number): number => 4 + i * 4 * n;
    const arr = (i: number): Float32Array => new Float32Array(memory.buffer, off(i), n);
    const rng = Rng.derive(11, 'momentum-simd', String(n));
    for (let i = 0; i < 3; i++) {
      const a = arr(i);
      for (let j = 0; j < n; j++) a[j] = j % 17 === 0 ? -0 : rng.normal() * 10 ** (rng.normal() * 2);
    }
    for (const attrs of ATTRS) {
      const wRef = new Float32Array(n);
      const vRef = new Float32Array(n);
      momentumUpdate(arr(0), arr(1), arr(2), attrs, wRef, vRef);
      momentumUpdateSimd(simd, memory, { w: off(0), v: off(1), g: off(2), wOut: off(3), vOut: off(4) }, n, attrs);
      const [w, v] = [arr(3), arr(4)];
      for (let j = 0; j < n; j++) {
        assert.ok(Object.is(w[j], wRef[j]) && Object.is(v[j], vRef[j]), `n=${n} decay=${attrs.decay} element ${j}`);
      }
    }
  }
});

const native = await initNative({ threads: 1 });
const skip = native.ok ? false : `native backend unavailable: ${native.reason}`;

test("the native backend's heap is a memory the SIMD update can import", { skip }, () => {
  const backend = tf.backend() as unknown as { wasm: { asm?: { memory?: unknown } } };
  const memory = plainWasmMemory(backend.wasm.asm?.memory);
  assert.ok(memory !== null);
  assert.ok(instantiateMomentumSimd(memory) !== null);
});
