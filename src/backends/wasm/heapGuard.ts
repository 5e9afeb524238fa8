// The wasm heap is capped at 4 GiB (wasm32) and never shrinks. When malloc fails, tfjs-backend-wasm
// does not notice: the tensor gets offset 0 and silently aliases other data (research §6), which
// later shows up as wrong numbers or "table index is out of bounds". Fail loudly instead.
import type { WasmLike } from './ops.js';

export class WasmHeapExhaustedError extends Error {
  override readonly name = 'WasmHeapExhaustedError';
  constructor(readonly bytes: number, readonly heapBytes: number) {
    super(
      `the wasm heap cannot hold another ${(bytes / 2 ** 20).toFixed(1)} MiB (heap ${(heapBytes / 2 ** 30).toFixed(2)} GiB, ` +
        'limit 4 GiB): lower the batch size, or use a backend without this limit (native, tfjs-node)',
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
