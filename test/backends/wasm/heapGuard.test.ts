// A failed malloc on the wasm heap must throw, not hand out offset 0 (which aliases other tensors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WASM32_MAX_BYTES, WasmHeapExhaustedError, guardWasmHeap, isHeapExhaustion } from '../../../src/backends/wasm/heapGuard.js';
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

/** A real wasm trap: a module whose one function loads past its one-page memory. */
function wasmTrap(): Error {
  // (module (memory 1) (func (export "f") (drop (i32.load (i32.const 70000)))))
  const bytes = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01,
    0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, 0x0a, 0x0c, 0x01, 0x0a, 0x00, 0x41, 0xf0, 0xa2, 0x04, 0x28, 0x02, 0x00, 0x1a, 0x0b,
  ]);
  // The WebAssembly namespace has no types in this project's lib: reached through globalThis.
  const wasm = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object; Instance: new (m: object) => { exports: { f: () => void } } } }).WebAssembly;
  try {
    new wasm.Instance(new wasm.Module(bytes)).exports.f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('the module did not trap');
}

test('a wasm trap or an Emscripten abort is the heap running out only when the heap is full', () => {
  const trap = wasmTrap();
  assert.match(trap.message, /memory access out of bounds/);
  const abort = Object.assign(new Error('Aborted(). Build with -sASSERTIONS for more info.'), { name: 'RuntimeError' }); // what Emscripten throws
  for (const e of [trap, abort]) {
    assert.equal(isHeapExhaustion(e, WASM32_MAX_BYTES), true);
    assert.equal(isHeapExhaustion(e, 2 ** 30), false, 'room left: a bug, reported as it is');
  }
  assert.equal(isHeapExhaustion(new WasmHeapExhaustedError(1, 2 ** 30), 2 ** 30), true, "the guard's own error, whatever the heap");
  assert.equal(isHeapExhaustion(new Error('memory access out of bounds'), WASM32_MAX_BYTES), false, 'not a wasm trap');
  assert.equal(isHeapExhaustion(new RangeError('Array buffer allocation failed'), WASM32_MAX_BYTES), false);
});
