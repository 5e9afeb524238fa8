// Hands tensors living on a tfjs-backend-wasm heap to ONNX Runtime without copying.
// The single-threaded wasm build's heap is a plain ArrayBuffer, which the ORT binding accepts as
// tensor memory directly (inputs and preallocated outputs alike). The threaded build's heap is a
// SharedArrayBuffer, which the binding rejects, so there we fall back to staging copies.

import type { TensorInfo } from '@tensorflow/tfjs';
import type { OrtInput, OrtSession } from './ort_runtime.js';

/** The members of tfjs-backend-wasm's BackendWasm this module relies on (checked at start-up). */
export interface WasmBackendLike {
  readonly wasm: { readonly HEAPU8: Uint8Array };
  readonly dataIdMap: { get(dataId: object): { readonly memoryOffset: number | null } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  disposeData(dataId: object): unknown;
}

export function isWasmBackendLike(b: unknown): b is WasmBackendLike {
  const x = b as Partial<WasmBackendLike> | null;
  return (
    x !== null &&
    typeof x === 'object' &&
    typeof x.makeOutput === 'function' &&
    typeof x.disposeData === 'function' &&
    typeof x.dataIdMap?.get === 'function' &&
    x.wasm?.HEAPU8 instanceof Uint8Array
  );
}

/**
 * The current heap. A threaded build exports its shared memory, whose buffer is always current;
 * HEAPU8 is only refreshed when the main thread itself grows the heap.
 */
export function heapBuffer(backend: WasmBackendLike): ArrayBufferLike {
  const memory = (backend.wasm as { wasmMemory?: { readonly buffer: ArrayBufferLike } }).wasmMemory;
  return memory?.buffer ?? backend.wasm.HEAPU8.buffer;
}

/** Whether ORT can read this backend's heap in place (a plain ArrayBuffer, not shared). */
export function heapIsZeroCopy(backend: WasmBackendLike): boolean {
  return !(typeof SharedArrayBuffer !== 'undefined' && heapBuffer(backend) instanceof SharedArrayBuffer);
}

/** A tensor on the wasm heap, seen as `dims`, starting `offset` elements into its memory. */
export interface HeapArg {
  readonly info: TensorInfo;
  /** The shape the graph declares; at most the tensor's element count from `offset` on. */
  readonly dims: readonly number[];
  readonly offset?: number;
}

/** Memory outside the heap (scratch buffers), already a plain-ArrayBuffer view. */
export interface PlainArg {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export type RunArg = HeapArg | PlainArg;

function size(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** A heap tensor's first byte on the heap. */
export function heapByteOffset(backend: WasmBackendLike, t: TensorInfo): number {
  const at = backend.dataIdMap.get(t.dataId)?.memoryOffset;
  if (at === null || at === undefined) throw new Error('native: tensor has no wasm heap memory');
  return at;
}

function view(backend: WasmBackendLike, buffer: ArrayBufferLike, arg: HeapArg): Float32Array {
  const base = heapByteOffset(backend, arg.info);
  const offset = arg.offset ?? 0;
  if (offset + size(arg.dims) > size(arg.info.shape)) throw new Error('native: view past the end of its tensor');
  return new Float32Array(buffer, base + 4 * offset, size(arg.dims));
}

/** Runs a session whose inputs and outputs are tensors on the wasm heap or plain scratch arrays. */
export function runOnHeap(
  backend: WasmBackendLike,
  session: OrtSession,
  inputs: Readonly<Record<string, RunArg>>,
  outputs: Readonly<Record<string, RunArg>>,
): void {
  // Views are made after every output is allocated: makeOutput may grow (and so replace) the heap.
  const buffer = heapBuffer(backend);
  const shared = typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer;
  const ins: Record<string, OrtInput> = {};
  const outs: Record<string, OrtInput> = {};
  const copyBack: Array<readonly [Float32Array, Float32Array]> = [];
  for (const [name, arg] of Object.entries(inputs)) {
    if ('data' in arg) {
      ins[name] = arg;
      continue;
    }
    const v = view(backend, buffer, arg);
    ins[name] = { data: shared ? v.slice() : v, dims: arg.dims };
  }
  for (const [name, arg] of Object.entries(outputs)) {
    if ('data' in arg) {
      outs[name] = arg;
      continue;
    }
    const v = view(backend, buffer, arg);
    if (shared) {
      const staging = new Float32Array(v.length);
      copyBack.push([staging, v]);
      outs[name] = { data: staging, dims: arg.dims };
    } else {
      outs[name] = { data: v, dims: arg.dims };
    }
  }
  session.run(ins, outs);
  for (const [from, to] of copyBack) to.set(from);
}
