// The strided wasm copy behind the filter-gradient expansions: byte-exact on a fresh memory (plain and
// shared), and loadable on the native backend's heap, so the expansions really take it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { copiesFor, zerosFor } from '../../../src/backends/native/strided_copy.js';
import { heapMemory, heapMemoryOf } from '../../../src/backends/wasm/assemble.js';
import { nativeContext } from './helpers.js';

type MemoryCtor = new (d: { initial: number; maximum?: number; shared?: boolean }) => { buffer: ArrayBuffer | SharedArrayBuffer };
const WA = (globalThis as unknown as { WebAssembly: { Memory: MemoryCtor } }).WebAssembly;

for (const shared of [false, true]) {
  test(`count copies of len bytes with source and destination strides (${shared ? 'shared' : 'plain'} memory)`, () => {
    const memory = new WA.Memory(shared ? { initial: 1, maximum: 1, shared: true } : { initial: 1 });
    const copies = copiesFor(heapMemory(memory));
    assert.ok(copies !== null);
    const bytes = new Uint8Array(memory.buffer);
    for (let i = 0; i < 1024; i++) bytes[i] = i % 251;
    bytes.fill(0, 2048, 4096);
    // 5 copies of 7 bytes: from 3, 3+13, …; to 2048+1, 2048+1+20, …
    copies(3, 2049, 5, 7, 13, 20);
    for (let i = 0; i < 2048; i++) {
      const off = i - 1;
      const k = Math.floor(off / 20);
      const inside = off >= 0 && k < 5 && off - 20 * k < 7;
      const want = inside ? (3 + 13 * k + (off - 20 * k)) % 251 : 0;
      assert.equal(bytes[2048 + i], want, `destination byte ${i}`);
    }
  });
}

for (const shared of [false, true]) {
  test(`count runs of words zeros, stride bytes apart (${shared ? 'shared' : 'plain'} memory)`, () => {
    const memory = new WA.Memory(shared ? { initial: 1, maximum: 1, shared: true } : { initial: 1 });
    const zeros = zerosFor(heapMemory(memory));
    assert.ok(zeros !== null);
    const words = new Int32Array(memory.buffer);
    words.fill(-1, 0, 256);
    // 6 runs of 3 words from word 5, 10 words apart; then 4 runs of one word.
    zeros(4 * 5, 6, 3, 4 * 10);
    zeros(4 * 100, 4, 1, 4 * 7);
    for (let i = 0; i < 256; i++) {
      const inRuns = (i >= 5 && i < 65 && (i - 5) % 10 < 3) || (i >= 100 && i < 128 && (i - 100) % 7 === 0);
      assert.equal(words[i], inRuns ? 0 : -1, `word ${i}`);
    }
  });
}

test('the native heap takes the wasm copy', async () => {
  await nativeContext();
  assert.ok(copiesFor(heapMemoryOf(tf.backend() as unknown as { wasm: unknown })) !== null);
  assert.ok(zerosFor(heapMemoryOf(tf.backend() as unknown as { wasm: unknown })) !== null);
});
