// A training step that outgrows the WebAssembly heap. tfjs's wasm backend, and the native backend,
// whose kernels work on that same heap, keep every tensor in one wasm32 memory of at most 4 GiB; an
// allocation past it ends in a trap inside tfjs-backend-wasm: "memory access out of bounds", or
// Emscripten's "Aborted()" when its malloc gives up; neither says the cause. (Measured: small
// Inception at batch 512 on the native backend fails so with the heap at 4.000 GiB and 2.8 GiB of
// live tensors; at 128 it trains.) This turns that trap, when the heap is full, into what the user
// can change.

/** The most a wasm32 memory can hold: 65,536 pages of 64 KiB. */
export const WASM32_MAX_BYTES = 2 ** 32;

/** How close to the maximum a heap counts as full (a failed allocation leaves less than this unused). */
const FULL_MARGIN_BYTES = 64 * 2 ** 20;

/** The bytes of a tfjs wasm backend's heap (its memory, or HEAPU8's buffer), or undefined for another backend. */
export function wasmHeapBytes(backend: unknown): number | undefined {
  const wasm = (backend as { wasm?: { wasmMemory?: { buffer?: ArrayBufferLike }; HEAPU8?: { buffer?: ArrayBufferLike } } } | null)?.wasm;
  const buffer = wasm?.wasmMemory?.buffer ?? wasm?.HEAPU8?.buffer;
  return buffer === undefined ? undefined : buffer.byteLength;
}

/**
 * The message for `e` when it is a wasm trap of a step whose backend's heap is full (`heapBytes`
 * within a few MiB of 4 GiB), else undefined: any other error, or a trap on a heap with room left
 * (a bug, to be reported as it is).
 */
export function heapExhaustion(e: unknown, heapBytes: number | undefined, what: { readonly model: string; readonly batchSize: number; readonly backend: string }): string | undefined {
  // A WebAssembly.RuntimeError (named so; the WebAssembly namespace has no types in this project's lib).
  if (!(e instanceof Error) || e.name !== 'RuntimeError' || !/memory access out of bounds|^Aborted\(/.test(e.message)) return undefined;
  if (heapBytes === undefined || heapBytes < WASM32_MAX_BYTES - FULL_MARGIN_BYTES) return undefined;
  const smaller = Math.max(1, Math.floor(what.batchSize / 2));
  return (
    `train: ${what.model} at batch_size ${what.batchSize} needs more memory than the ${what.backend} backend's WebAssembly heap holds ` +
    `(4 GiB, all of it in use when a step failed to allocate): lower batch_size (e.g. ${smaller}), or train on a backend without that limit (webgpu on a GPU)`
  );
}
