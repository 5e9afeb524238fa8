import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createHarness } from '../../src/testing/harness.js';
import { definePlugin } from '../../src/plugin/types.js';
import { MARKER_FILE } from '../../src/store/marker.js';

const streamer = definePlugin<{ interleave: boolean }>({
  name: 'streamer',
  version: '1',
  description: 'writes two tensors through the streaming writer',
  params: { type: 'object', properties: { interleave: { type: 'boolean', default: false } }, additionalProperties: false },
  inputs: {},
  outputs: { data: { kind: 'tensors' } },
  async run(ctx) {
    const w = await ctx.createTensorWriter('data', { a: { dtype: 'uint8', shape: [4] }, b: { dtype: 'int32', shape: [2] } }, { k: 'v' });
    const b = new Uint8Array(new Int32Array([-1, 5]).buffer);
    if (ctx.params.interleave) {
      await w.write('b', b.subarray(0, 4));
      await w.write('a', new Uint8Array([1, 2]));
      await w.write('b', b.subarray(4));
      await w.write('a', new Uint8Array([3, 4]));
    } else {
      await w.write('a', new Uint8Array([1, 2, 3, 4]));
      await w.write('b', b);
    }
    await w.close();
  },
});

test('streamed tensors hash the same whatever the write order', async () => {
  const h = await createHarness();
  const seq = await h.run(streamer, { params: { interleave: false } });
  const mix = await h.run(streamer, { params: { interleave: true } });
  assert.equal(seq.outputs.data!.hash, mix.outputs.data!.hash);
  const f = await mix.outputs.data!.readTensors();
  assert.deepEqual([...(await f.read('a')).data], [1, 2, 3, 4]);
  assert.deepEqual([...(await f.read('b')).data], [-1, 5]);
  assert.equal(f.metadata.k, 'v');
  await f.close();
  await h.close();
});

test('a stage that throws mid-write leaves nothing in the store', async () => {
  const h = await createHarness();
  const failing = definePlugin({
    name: 'failing',
    version: '1',
    description: 'writes one output then throws while streaming the next',
    params: { type: 'object' },
    inputs: {},
    outputs: { meta: { kind: 'json' }, data: { kind: 'tensors' } },
    async run(ctx) {
      await ctx.writeJson('meta', { ok: true });
      const w = await ctx.createTensorWriter('data', { a: { dtype: 'uint8', shape: [100] } });
      await w.write('a', new Uint8Array(50));
      await ctx.tempDir();
      throw new Error('disk on fire');
    },
  });
  await assert.rejects(h.run(failing), /disk on fire/);
  const entries = await readdir(h.store.location, { recursive: true });
  assert.deepEqual(entries.filter((e) => !['tmp', MARKER_FILE].includes(e)), [], `left behind: ${entries.join(', ')}`);
  assert.deepEqual(await readdir(join(h.store.location, 'tmp')), []);
  await h.close();
});

/** A promise and the function that resolves it. */
function deferred<T>(): { readonly promise: Promise<T>; readonly resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

test('a stage that ignores its signal is left behind: the attempt ends at once, its later writes fail, nothing of it is kept', async () => {
  const h = await createHarness();
  const wroteFirst = deferred<void>();
  const resume = deferred<void>();
  const lateWrite = deferred<unknown>();
  const deaf = definePlugin({
    name: 'deaf',
    version: '1',
    description: 'writes one output, then waits without looking at its signal, then writes another',
    params: { type: 'object' },
    inputs: {},
    outputs: { first: { kind: 'json' }, second: { kind: 'json' } },
    async run(ctx) {
      await ctx.writeJson('first', { n: 1 });
      wroteFirst.resolve();
      await resume.promise;
      await ctx.writeJson('second', { n: 2 }).then(lateWrite.resolve, lateWrite.resolve);
    },
  });
  const abort = new AbortController();
  const attempt = h.run(deaf, { signal: abort.signal });
  await wroteFirst.promise;
  abort.abort(new Error('timed out after 1s'));
  await assert.rejects(attempt, /^Error: timed out after 1s$/);
  assert.deepEqual(await readdir(join(h.store.location, 'tmp')), [], 'its first output is discarded');

  resume.resolve();
  assert.match(String(await lateWrite.promise), /^StageOutputError: stage deaf was stopped: its output "second" is not kept$/);
  const entries = await readdir(h.store.location, { recursive: true });
  assert.deepEqual(entries.filter((e) => e !== 'tmp' && e !== MARKER_FILE), [], `left behind: ${entries.join(', ')}`);
  await h.close();
});

test('missing required outputs, undeclared outputs and short tensors are errors', async () => {
  const h = await createHarness();
  const base = { version: '1', description: 'x', params: { type: 'object' }, inputs: {}, outputs: { out: { kind: 'json' as const } } };
  await assert.rejects(h.run(definePlugin({ ...base, name: 'lazy', run: async () => {} })), /did not write required output\(s\): out/);
  await assert.rejects(
    h.run(definePlugin({ ...base, name: 'typo', run: async (ctx) => ctx.writeJson('outt', 1) })),
    /has no output "outt" \(declared: out\)/,
  );
  const short = definePlugin({
    ...base,
    name: 'short',
    outputs: { t: { kind: 'tensors' as const } },
    async run(ctx) {
      const w = await ctx.createTensorWriter('t', { a: { dtype: 'float32', shape: [2] } });
      await w.write('a', new Uint8Array(4));
      await w.close();
    },
  });
  await assert.rejects(h.run(short), /not fully written: a \(4\/8 bytes\)/);
  await h.close();
});

test('writeJson refuses NaN and Infinity, naming the output and the JSON path, instead of writing null', async () => {
  const h = await createHarness();
  const base = { version: '1', description: 'x', params: { type: 'object' }, inputs: {}, outputs: { out: { kind: 'json' as const } } };
  const writes = (name: string, value: unknown) => definePlugin({ ...base, name, run: async (ctx) => ctx.writeJson('out', value) });
  await assert.rejects(h.run(writes('nan', { history: [{ loss: 1 }, { loss: Number.NaN }] })), /output "out" of nan: NaN at \$\.history\[1\]\.loss cannot be written as JSON/);
  await assert.rejects(h.run(writes('inf', { 'a b': [-Infinity] })), /-Infinity at \$\["a b"\]\[0\]/);
  const ok = await h.run(writes('finite', { loss: null, acc: 0.5 }));
  assert.deepEqual(await ok.outputs.out!.readJson(), { loss: null, acc: 0.5 });
  await h.close();
});

test('params are validated and defaults filled; inputs chain between runs', async () => {
  const h = await createHarness();
  const producer = definePlugin<{ n: number }>({
    name: 'producer',
    version: '1',
    description: 'x',
    params: { type: 'object', properties: { n: { type: 'integer', default: 3 } }, additionalProperties: false },
    inputs: {},
    outputs: { out: { kind: 'json' } },
    run: (ctx) => ctx.writeJson('out', { n: ctx.params.n }),
  });
  const consumer = definePlugin({
    name: 'consumer',
    version: '1',
    description: 'x',
    params: { type: 'object' },
    inputs: { x: { kind: 'json' } },
    outputs: { out: { kind: 'json' } },
    async run(ctx) {
      const x = ctx.inputs.x as { readJson<T>(): Promise<T> };
      await ctx.writeJson('out', { twice: (await x.readJson<{ n: number }>()).n * 2 });
    },
  });
  const p = await h.run(producer);
  assert.deepEqual(await p.outputs.out!.readJson(), { n: 3 });
  const c = await h.run(consumer, { inputs: { x: p.outputs.out! } });
  assert.deepEqual(await c.outputs.out!.readJson(), { twice: 6 });
  await assert.rejects(h.run(producer, { params: { n: 'x' } }), /with\.n must be integer/);
  await assert.rejects(h.run(producer, { params: { m: 1 } }), /must NOT have additional properties "m"/);
  await h.close();
});

test('sweepTmp removes what a killed run left behind, and nothing recent', async () => {
  const { writeFile, utimes, mkdir } = await import('node:fs/promises');
  const h = await createHarness();
  const tmp = join(h.store.location, 'tmp');
  await mkdir(join(tmp, 'scratch-old'), { recursive: true });
  await writeFile(join(tmp, 'obj-old'), 'partial');
  await writeFile(join(tmp, 'obj-new'), 'in flight');
  const old = new Date(Date.now() - 8 * 24 * 3600 * 1000);
  await utimes(join(tmp, 'obj-old'), old, old);
  await utimes(join(tmp, 'scratch-old'), old, old);
  assert.equal(await h.store.sweepTmp(), 2);
  assert.deepEqual(await readdir(tmp), ['obj-new']);
  await h.close();
});
