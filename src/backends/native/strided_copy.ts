// A strided copy on a wasm heap: `count` copies of `len` bytes, source and destination each stepping
// by its own stride, as one wasm loop of memory.copy (a few hundred bytes of module, assembled by
// src/backends/wasm/assemble.ts). One JS copyWithin per piece costs ≈30 ns, ORT's Concat and Split
// on the channel axis copy piece by piece too (4–5× a memcpy of the same bytes); the loop runs
// them at memcpy speed. Used by the filter-gradient expansions and the channel Concat/SplitV.
// Beside it, a strided zero fill of a few words per piece (the border pixels of a transposed
// expansion: tens of thousands of one-word pieces a call, where a JS fill per piece costs ≈30 ns and a
// memory.fill per piece a runtime call): plain i32 stores of 0, which is +0 as a float.

import type { HeapMemory, WasmFunction } from '../wasm/assemble.js';
import { addTo, heapModule, I32, op, whileBelow } from '../wasm/assemble.js';

/** copies(src, dst, count, len, srcStride, dstStride): `count` copies of `len` bytes (byte offsets). */
export type Copies = (src: number, dst: number, count: number, len: number, srcStride: number, dstStride: number) => void;

// Params 0 src, 1 dst, 2 count, 3 len, 4 srcStride, 5 dstStride; local 6 the copy counter.
const copiesFunction: WasmFunction = {
  name: 'copies',
  params: [I32, I32, I32, I32, I32, I32],
  locals: [[1, I32]],
  code: whileBelow(6, 2, [...op.get(1), ...op.get(0), ...op.get(3), ...op.memoryCopy, ...addTo(0, op.get(4)), ...addTo(1, op.get(5))]),
};

/** zeros(dst, count, words, stride): `count` runs of `words` 4-byte zeros, `stride` bytes apart (byte offsets). */
export type Zeros = (dst: number, count: number, words: number, stride: number) => void;

// Params 0 dst, 1 count, 2 words, 3 stride; locals 4 the run counter, 5 the address, 6 the run's end.
const zerosFunction: WasmFunction = {
  name: 'zeros',
  params: [I32, I32, I32, I32],
  locals: [[3, I32]],
  code: whileBelow(4, 1, [
    ...op.get(0), ...op.set(5),
    ...op.get(0), ...op.get(2), ...op.i32(4), ...op.i32Mul, ...op.i32Add, ...op.set(6),
    ...whileBelow(5, 6, [...op.get(5), ...op.i32(0), ...op.i32Store], op.i32(4)),
    ...addTo(0, op.get(3)),
  ]),
};

const copiesModule = heapModule<{ readonly copies: Copies; readonly zeros: Zeros }>(() => [copiesFunction, zerosFunction]);

/** The strided copy bound to this heap, or null where it will not load (the JS loop stands in). */
export function copiesFor(heap: HeapMemory | null): Copies | null {
  return heap === null ? null : (copiesModule(heap)?.copies ?? null);
}

/** The strided zero fill bound to this heap, or null where it will not load (the JS loop stands in). */
export function zerosFor(heap: HeapMemory | null): Zeros | null {
  return heap === null ? null : (copiesModule(heap)?.zeros ?? null);
}
