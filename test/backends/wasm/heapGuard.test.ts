// A failed malloc on the wasm heap must throw, not hand out offset 0 (which aliases other tensors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WasmHeapExhaustedError, guardWasmHeap } from '../../../src/backends/wasm/heapGuard.js';
import type { WasmLike } from '../../../src/backends/wasm/ops.js';

function fakeBackend(heapLeft: number): { backend: WasmLike; wasm: { _malloc(n: number): number } } {
  let next = 8;
  const wasm = {
    HEAPU8: new Uint8Array(64),
    asm: { malloc: (n: number): number => (n <= heapLeft - next ? ((next += n), next - n) : 0) },
    _malloc: (): number => {
      throw new Error('the lazy stub must not be used');
    },
  };
  return { backend: { wasm } as unknown as WasmLike, wasm };
}

test('allocations that fit return their offset; one that does not throws WasmHeapExhaustedError', () => {
  const { backend, wasm } = fakeBackend(1000);
  guardWasmHeap(backend);
  guardWasmHeap(backend); // idempotent: no double wrapping
  assert.equal(wasm._malloc(100), 8);
  assert.equal(wasm._malloc(0), 108);
  assert.throws(() => wasm._malloc(5000), WasmHeapExhaustedError);
  assert.throws(() => wasm._malloc(5000), /lower the batch size/);
});
