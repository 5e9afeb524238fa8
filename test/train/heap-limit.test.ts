import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heapExhaustion, wasmHeapBytes, WASM32_MAX_BYTES } from '../../src/train/heap-limit.js';

/** A real wasm trap: a module whose one function loads past its one-page memory. */
function wasmTrap(): Error {
  // (module (memory 1) (func (export "f") (drop (i32.load (i32.const 70000)))))
  const bytes = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01,
    0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, 0x0a, 0x0c, 0x01, 0x0a, 0x00, 0x41, 0xf0, 0xa2, 0x04, 0x28, 0x02, 0x00, 0x1a, 0x0b,
  ]);
  // The WebAssembly namespace has no types in this project's lib: reached through globalThis.
  const wasm = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object; Instance: new (m: object) => { exports: { f: () => void } } } }).WebAssembly;
  const { f } = new wasm.Instance(new wasm.Module(bytes)).exports;
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('the module did not trap');
}

const what = { model: 'small_inception', batchSize: 512, backend: 'native' };

test('a wasm trap with the heap at its 4 GiB maximum names the model, the batch and what to change', () => {
  const trap = wasmTrap();
  assert.match(trap.message, /memory access out of bounds/);
  const why = heapExhaustion(trap, WASM32_MAX_BYTES, what);
  assert.ok(why !== undefined);
  assert.match(why, /small_inception at batch_size 512/);
  assert.match(why, /native backend's WebAssembly heap/);
  assert.match(why, /lower batch_size \(e\.g\. 256\)/);
});

test("Emscripten's abort (its malloc giving up) on a full heap is told the same way", () => {
  const abort = new Error('Aborted(). Build with -sASSERTIONS for more info.');
  abort.name = 'RuntimeError'; // what Emscripten throws: a WebAssembly.RuntimeError
  assert.match(heapExhaustion(abort, WASM32_MAX_BYTES, what) ?? '', /batch_size 512/);
  assert.equal(heapExhaustion(abort, 2 ** 30, what), undefined);
});

test('a trap on a heap with room left, or another error, is left as it is', () => {
  assert.equal(heapExhaustion(wasmTrap(), 2 ** 30, what), undefined, 'room left: a bug, reported as it is');
  assert.equal(heapExhaustion(wasmTrap(), undefined, what), undefined, 'not a wasm backend');
  assert.equal(heapExhaustion(new Error('memory access out of bounds'), WASM32_MAX_BYTES, what), undefined, 'not a wasm trap');
  assert.equal(heapExhaustion(new RangeError('Array buffer allocation failed'), WASM32_MAX_BYTES, what), undefined);
});

test('the heap size is read from a tfjs wasm backend, and only from one', () => {
  const buffer = new ArrayBuffer(128);
  assert.equal(wasmHeapBytes({ wasm: { HEAPU8: new Uint8Array(buffer) } }), 128);
  assert.equal(wasmHeapBytes({ wasm: { wasmMemory: { buffer: new ArrayBuffer(64) }, HEAPU8: new Uint8Array(buffer) } }), 64, 'the memory, current after growth');
  assert.equal(wasmHeapBytes({ name: 'cpu' }), undefined);
  assert.equal(wasmHeapBytes(null), undefined);
});
