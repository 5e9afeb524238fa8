import { tempDir } from '../support/temp.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { layout, openSafetensors, tensorBytes } from '../../src/tensors/safetensors.js';

async function writeSt(tensors: Record<string, { dtype: 'float32' | 'int32' | 'uint8'; shape: number[]; data: Float32Array | Int32Array | Uint8Array }>, meta?: Record<string, string>) {
  const specs = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape }]));
  const plan = layout(specs, meta);
  const parts = [plan.prefix, ...plan.order.map((n) => tensorBytes(tensors[n]!))];
  const path = join(await tempDir('st-'), 'x.safetensors');
  await writeFile(path, Buffer.concat(parts));
  return path;
}

test('layout is independent of insertion order and 8-byte aligned', () => {
  const a = layout({ b: { dtype: 'uint8', shape: [3] }, a: { dtype: 'float32', shape: [2, 2] } }, { z: '1', y: '2' });
  const b = layout({ a: { dtype: 'float32', shape: [2, 2] }, b: { dtype: 'uint8', shape: [3] } }, { y: '2', z: '1' });
  assert.deepEqual(a.prefix, b.prefix);
  assert.equal(a.prefix.length % 8, 0);
  assert.deepEqual(a.order, ['a', 'b']);
  assert.deepEqual(a.offsets.b, [16, 19]);
});

test('round trip: whole tensors, row slices and metadata', async () => {
  const x = new Float32Array([1, 2, 3, 4, 5, 6]);
  const path = await writeSt(
    { x: { dtype: 'float32', shape: [3, 2], data: x }, y: { dtype: 'int32', shape: [3], data: new Int32Array([7, 8, 9]) } },
    { classes: '["a","b"]' },
  );
  const f = await openSafetensors(path);
  assert.deepEqual(f.metadata, { classes: '["a","b"]' });
  assert.deepEqual(f.tensors.x, { dtype: 'float32', shape: [3, 2] });
  assert.deepEqual([...(await f.read('x')).data], [1, 2, 3, 4, 5, 6]);
  const rows = await f.readRows('x', 1, 3);
  assert.deepEqual(rows.shape, [2, 2]);
  assert.deepEqual([...rows.data], [3, 4, 5, 6]);
  await assert.rejects(f.readRows('y', 2, 4), /out of range/);
  await assert.rejects(f.read('nope'), /no tensor "nope"/);
  await f.close();
});

test('the header matches the reference format (python safetensors reads this)', async () => {
  const path = await writeSt({ t: { dtype: 'uint8', shape: [2], data: new Uint8Array([1, 2]) } });
  const buf = await readFile(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString());
  assert.deepEqual(header, { t: { dtype: 'U8', shape: [2], data_offsets: [0, 2] } });
  assert.deepEqual([...buf.subarray(8 + n)], [1, 2]);
});

test('tensorBytes rejects data of the wrong size or type', () => {
  assert.throws(() => tensorBytes({ dtype: 'float32', shape: [3], data: new Float32Array(2) }), /needs 12/);
  assert.throws(() => tensorBytes({ dtype: 'float32', shape: [2], data: new Int32Array(2) }), /needs a Float32Array/);
});
