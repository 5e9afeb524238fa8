// The few pieces of the WebAssembly binary format our hand-assembled SIMD kernels need: opcodes,
// LEB128, and a module of functions that import one memory (the tfjs wasm heap). Written by hand
// rather than taken from a WAT toolchain (wabt's npm build is 2 MB of wasm to load at start-up)
// because each module is a few hundred bytes, assembled once per process, and validated by
// WebAssembly.validate before use.

import type { TensorInfo } from '@tensorflow/tfjs';

/** The parts of the WebAssembly API used here (this project's tsconfig has no DOM/WebAssembly lib). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
interface WasmApi {
  readonly Memory: abstract new (...args: never[]) => WasmMemory;
  validate(bytes: Uint8Array): boolean;
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** A heap memory and whether its buffer is shared (the threaded build's). */
export interface HeapMemory {
  readonly memory: WasmMemory;
  readonly shared: boolean;
}

/** `x` as a heap memory when it is a WebAssembly.Memory, else null. */
export function heapMemory(x: unknown): HeapMemory | null {
  if (wasmApi === undefined || !(x instanceof wasmApi.Memory)) return null;
  return { memory: x, shared: typeof SharedArrayBuffer !== 'undefined' && x.buffer instanceof SharedArrayBuffer };
}

/**
 * What our heap kernels use of a backend whose tensors live on a tfjs wasm heap (tfjs-backend-wasm's
 * BackendWasm, or 'native' built on one).
 */
export interface WasmHeapBackend {
  readonly wasm: { readonly HEAPU8: Uint8Array };
  readonly dataIdMap: { get(dataId: object): { readonly memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  disposeData(dataId: object): unknown;
}

/** A tfjs wasm backend's heap memory (the threaded build's shared one, or the single-threaded module's own). */
export function heapMemoryOf(backend: { readonly wasm: unknown }): HeapMemory | null {
  const wasm = backend.wasm as { wasmMemory?: unknown; asm?: { memory?: unknown } };
  return heapMemory(wasm.wasmMemory ?? wasm.asm?.memory);
}

/** The heap's WebAssembly.Memory when `x` is one over a plain (unshared) buffer, else null. */
export function plainWasmMemory(x: unknown): WasmMemory | null {
  const h = heapMemory(x);
  return h === null || h.shared ? null : h.memory;
}

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const simd = (op: number): number[] => [0xfd, ...uleb(op)];

/** Instructions, as byte sequences to spread into a function body. */
export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, depth],
  brIf: (depth: number) => [0x0d, depth],
  get: (local: number) => [0x20, local],
  set: (local: number) => [0x21, local],
  i32: (value: number) => [0x41, ...sleb(value)],
  f32: (value: number) => [0x43, ...new Uint8Array(new Float32Array([value]).buffer)],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32GeU: [0x4f],
  /** i32.store, memarg alignment 2, offset 0: pops address, value */
  i32Store: [0x36, 0x02, 0x00],
  /** memory.copy (bulk memory): pops dst, src, length */
  memoryCopy: [0xfc, 0x0a, 0x00, 0x00],
  /** memarg alignment 0 (any address), offset 0 */
  v128Load: [...simd(0x00), 0, 0],
  v128Store: [...simd(0x0b), 0, 0],
  i32x4Splat: simd(0x11),
  f32x4Splat: simd(0x13),
  f32x4Eq: simd(0x41),
  f32x4Gt: simd(0x44),
  v128And: simd(0x4e),
  /** a & ~b */
  v128AndNot: simd(0x4f),
  v128Or: simd(0x50),
  f32x4Add: simd(0xe4),
  f32x4Sub: simd(0xe5),
  f32x4Mul: simd(0xe6),
  f32x4Div: simd(0xe7),
  f32x4Sqrt: simd(0xe3),
  /** a < b ? b : a (a NaN a stays; −0 stays) */
  f32x4Pmax: simd(0xeb),
} as const;

/** `local += step` for an i32 local. */
export const addTo = (local: number, step: number[]): number[] => [...op.get(local), ...step, ...op.i32Add, ...op.set(local)];

/** `while (counter < limit) { body; counter += step }` with counter starting at its current value. */
export function whileBelow(counter: number, limit: number, body: number[], step: number[] = op.i32(1)): number[] {
  return [
    ...op.block, ...op.loop,
    ...op.get(counter), ...op.get(limit), ...op.i32GeU, ...op.brIf(1),
    ...body,
    ...addTo(counter, step),
    ...op.br(0),
    ...op.end, ...op.end,
  ];
}

export interface WasmFunction {
  readonly name: string;
  readonly params: readonly number[];
  /** Extra locals in declaration order, as [count, type] runs. */
  readonly locals: ReadonlyArray<readonly [number, number]>;
  readonly code: readonly number[];
}

const str = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];

/** A module importing `env.memory` (shared or not) and exporting `fns`, each with no results. */
export function assembleModule(fns: readonly WasmFunction[], sharedMemory: boolean): Uint8Array {
  const types = fns.map((f) => [0x60, ...vec(f.params.map((p) => [p])), 0]);
  // Shared memories must declare a maximum; 65536 pages (4 GiB) admits any wasm32 heap.
  const limits = sharedMemory ? [0x03, 0, ...uleb(65536)] : [0x00, 0];
  const memoryImport = [...str('env'), ...str('memory'), 0x02, ...limits];
  const exportsOf = fns.map((f, i) => [...str(f.name), 0x00, i]);
  const bodies = fns.map((f) => {
    const body = [...vec(f.locals.map(([n, t]) => [...uleb(n), t])), ...f.code, ...op.end];
    return [...uleb(body.length), ...body];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec(types)),
    ...section(2, vec([memoryImport])),
    ...section(3, vec(fns.map((_, i) => uleb(i)))),
    ...section(7, vec(exportsOf)),
    ...section(10, vec(bodies)),
  ]);
}

/** Instantiates `bytes` on `memory` (synchronously: these modules are tiny), or null where wasm or SIMD is missing. */
export function instantiate(bytes: Uint8Array, memory: WasmMemory): Record<string, unknown> | null {
  if (wasmApi === undefined) return null;
  try {
    if (!wasmApi.validate(bytes)) return null;
    return new wasmApi.Instance(new wasmApi.Module(bytes), { env: { memory } }).exports;
  } catch {
    return null;
  }
}

/**
 * A module of `functions` bound to each heap it is asked for: assembled once per memory kind (plain or
 * shared), instantiated once per memory; its exports, or null where wasm SIMD (or a shared memory
 * import) will not load.
 */
export function heapModule<T>(functions: () => readonly WasmFunction[]): (heap: HeapMemory) => T | null {
  const bytes = new Map<boolean, Uint8Array>();
  const bound = new WeakMap<object, T | null>();
  return (heap) => {
    if (!bound.has(heap.memory)) {
      let b = bytes.get(heap.shared);
      if (b === undefined) bytes.set(heap.shared, (b = assembleModule(functions(), heap.shared)));
      bound.set(heap.memory, instantiate(b, heap.memory) as T | null);
    }
    return bound.get(heap.memory) ?? null;
  };
}
