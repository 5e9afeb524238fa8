// Outputs written in place (ort_runtime.ts): with the pinned binding a run hands back no copy of its
// outputs, every preallocated output is written, a real ORT error still surfaces, and a binding
// that behaves otherwise gets the copying runtime.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OrtModules, OrtRuntime } from '../../../src/backends/native/ort_runtime.js';
import { defaultOrtLoader, DISCARD_MESSAGE, loadOrtRuntime } from '../../../src/backends/native/ort_runtime.js';
import { OnnxType, type OnnxGraph } from '../../../src/util/onnx-proto.js';

type RawRun = (feeds: object, fetches: object, options: object) => Record<string, unknown>;
interface Seen {
  /** Output names the real binding handed back as copies, per run. */
  copied: string[][];
  /** Messages the real binding threw, per run. */
  threw: string[];
}

/** The real binding, its runs observed: what each returned (copies) or threw. */
async function observedLoader(seen: Seen, replaceRun?: (real: RawRun) => RawRun): Promise<OrtModules> {
  const mods = await defaultOrtLoader();
  const binding = mods.bindingModule as { binding: { InferenceSession: new () => { run(feeds: object, fetches: object, options: object): Record<string, unknown> } }; initOrt: () => void };
  const Real = binding.binding.InferenceSession;
  class Observed extends Real {
    override run(feeds: object, fetches: object, options: object): Record<string, unknown> {
      const real: RawRun = (f, g, o) => super.run(f, g, o);
      try {
        const out = (replaceRun?.(real) ?? real)(feeds, fetches, options);
        seen.copied.push(Object.keys(out));
        return out;
      } catch (e) {
        seen.threw.push(e instanceof Error ? e.message : String(e));
        throw e;
      }
    }
  }
  return { ...mods, bindingModule: { ...binding, binding: { ...binding.binding, InferenceSession: Observed } } };
}

async function runtimeWith(seen: Seen, replaceRun?: (real: RawRun) => RawRun): Promise<OrtRuntime> {
  const r = await loadOrtRuntime(1, false, () => observedLoader(seen, replaceRun));
  assert.ok(r.ok, r.ok ? '' : `${r.reason}: ${r.detail}`);
  return r.runtime;
}

const f = OnnxType.float;
/** y = x·2 and z = x + 1 over n floats: two outputs. */
const twoOutputs = (n: number): OnnxGraph => ({
  nodes: [
    { op: 'Add', inputs: ['x', 'x'], outputs: ['y'] },
    { op: 'Add', inputs: ['x', 'one'], outputs: ['z'] },
  ],
  initializers: [{ name: 'one', dims: [], values: [1], type: f }],
  inputs: [{ name: 'x', type: f, shape: [n] }],
  outputs: [{ name: 'y', type: f, shape: [n] }, { name: 'z', type: f, shape: [n] }],
});

test('the pinned binding writes every preallocated output and hands back no copy', async () => {
  const seen: Seen = { copied: [], threw: [] };
  const rt = await runtimeWith(seen);
  assert.equal(rt.outputsInPlace, true);
  const n = 1 << 18;
  const session = rt.createSession(twoOutputs(n), 'basic');
  try {
    const heap = new ArrayBuffer(4 * (3 * n + 8));
    const x = new Float32Array(heap, 16, n).map((_, i) => (i % 97) - 48);
    const y = new Float32Array(heap, 16 + 4 * n, n).fill(Number.NaN);
    const z = new Float32Array(heap, 16 + 8 * n, n).fill(Number.NaN);
    const [copied, threw] = [seen.copied.length, seen.threw.length];
    session.run({ x: { data: x, dims: [n] } }, { y: { data: y, dims: [n] }, z: { data: z, dims: [n] } });
    assert.equal(seen.copied.length, copied, 'the binding returned copies of the outputs');
    assert.deepEqual(seen.threw.slice(threw), [DISCARD_MESSAGE]);
    assert.ok(y.every((v, i) => v === 2 * (x[i] as number)), 'y not written');
    assert.ok(z.every((v, i) => v === (x[i] as number) + 1), 'z not written');
  } finally {
    session.dispose();
  }
});

test('an ORT error in a run still surfaces with its own message', async () => {
  const rt = await runtimeWith({ copied: [], threw: [] });
  const session = rt.createSession(twoOutputs(4), 'basic');
  try {
    const wrong = new Float32Array(5);
    assert.throws(
      () => session.run({ x: { data: wrong, dims: [5] } }, { y: { data: new Float32Array(5), dims: [5] }, z: { data: new Float32Array(5), dims: [5] } }),
      (e: unknown) => e instanceof Error && e.message !== DISCARD_MESSAGE && /dimension|shape|index/i.test(e.message),
    );
  } finally {
    session.dispose();
  }
});

test('a binding that fails the discard before running gets the copying runtime, which still works', async () => {
  const seen: Seen = { copied: [], threw: [] };
  // A binding that rejects the discard output up front, before running anything.
  const rejecting = (real: RawRun): RawRun => (feeds, fetches, options) => {
    if ('rethink_discard' in fetches) throw new Error(DISCARD_MESSAGE);
    return real(feeds, fetches, options);
  };
  const rt = await runtimeWith(seen, rejecting);
  assert.equal(rt.outputsInPlace, false);
  const session = rt.createSession(twoOutputs(3), 'basic');
  try {
    const [y, z] = [new Float32Array(3), new Float32Array(3)];
    session.run({ x: { data: new Float32Array([1, 2, 3]), dims: [3] } }, { y: { data: y, dims: [3] }, z: { data: z, dims: [3] } });
    assert.deepEqual([Array.from(y), Array.from(z)], [[2, 4, 6], [2, 3, 4]]);
    assert.deepEqual(seen.copied.at(-1), ['y', 'z'], 'the copying runtime asked for its outputs only');
  } finally {
    session.dispose();
  }
});

test('RETHINK_NATIVE_OUTPUT_COPIES=1 keeps the binding copying', async () => {
  const before = process.env['RETHINK_NATIVE_OUTPUT_COPIES'];
  process.env['RETHINK_NATIVE_OUTPUT_COPIES'] = '1';
  try {
    const rt = await runtimeWith({ copied: [], threw: [] });
    assert.equal(rt.outputsInPlace, false);
  } finally {
    if (before === undefined) delete process.env['RETHINK_NATIVE_OUTPUT_COPIES'];
    else process.env['RETHINK_NATIVE_OUTPUT_COPIES'] = before;
  }
});
