// The wasm heap is capped at 4 GiB (wasm32) and never shrinks. When malloc fails, tfjs-backend-wasm
// does not notice: the tensor gets offset 0 and silently aliases other data (research §6), which
// later shows up as wrong numbers or "table index is out of bounds". Fail loudly instead. An
// allocation inside tfjs's own C++ (registering a tensor) fails another way, as a trap ("memory
// access out of bounds") or Emscripten's "Aborted()": isHeapExhaustion tells those apart from bugs
// by the heap being full. Both the wasm and the native backend (whose kernels share that heap) use
// this. Measured: small Inception at batch 512 on native failed so with the heap at 4.000 GiB and
// 2.8 GiB of live tensors; at 256 it trains.
import type * as tfType from '@tensorflow/tfjs';
import { heapBuffer, type WasmLike } from './ops.js';

export class WasmHeapExhaustedError extends Error {
  override readonly name = 'WasmHeapExhaustedError';
  constructor(readonly bytes: number, readonly heapBytes: number) {
    super(
      `the wasm heap cannot hold another ${(bytes / 2 ** 20).toFixed(1)} MiB (heap ${(heapBytes / 2 ** 30).toFixed(2)} GiB, ` +
        'limit 4 GiB): lower the batch size, or use a backend without this limit (tfjs-node, or webgpu on a GPU)',
    );
  }
}

interface Mallocs {
  _malloc(bytes: number): number;
  asm?: { malloc?: (bytes: number) => number };
  HEAPU8: Uint8Array;
}

/** Makes tensor allocations on `backend`'s heap throw WasmHeapExhaustedError instead of aliasing. Idempotent. */
export function guardWasmHeap(backend: WasmLike): void {
  const m = backend.wasm as unknown as Mallocs & { rethinkHeapGuard?: true };
  if (m.rethinkHeapGuard === true) return;
  // Module._malloc replaces itself with the raw export on first use, so wrap the export itself.
  const raw = m.asm?.malloc ?? m._malloc.bind(m);
  m._malloc = (bytes: number): number => {
    const p = raw(bytes);
    if (p === 0 && bytes > 0) throw new WasmHeapExhaustedError(bytes, m.HEAPU8.length);
    return p;
  };
  m.rethinkHeapGuard = true;
}

/** The most a wasm32 memory can hold: 65,536 pages of 64 KiB. */
export const WASM32_MAX_BYTES = 2 ** 32;

/** How close to the maximum a heap counts as full (a failed allocation leaves less than this unused). */
const FULL_MARGIN_BYTES = 64 * 2 ** 20;

/**
 * Whether `e` is the heap running out: WasmHeapExhaustedError, or a wasm trap or Emscripten abort
 * (a WebAssembly.RuntimeError) while the heap, `heapBytes` long, is within a few MiB of 4 GiB. A trap
 * on a heap with room left is a bug, to be reported as it is.
 */
export function isHeapExhaustion(e: unknown, heapBytes: number): boolean {
  if (e instanceof WasmHeapExhaustedError) return true;
  // Matched by name: the WebAssembly namespace has no types in this project's lib.
  if (!(e instanceof Error) || e.name !== 'RuntimeError' || !/memory access out of bounds|^Aborted\(/.test(e.message)) return false;
  return heapBytes >= WASM32_MAX_BYTES - FULL_MARGIN_BYTES;
}

/** BackendSession.outOfMemory of a backend whose tensors live on tfjs-backend-wasm's heap (wasm, native). */
export function wasmHeapOutOfMemory(tf: typeof tfType): (e: unknown) => boolean {
  return (e) => isHeapExhaustion(e, heapBuffer(tf.backend() as unknown as WasmLike).byteLength);
}
