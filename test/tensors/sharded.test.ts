// Sharded tensors outputs: how they are cut, written by a stage, read back (whole, by rows, gathered),
// and what a damaged shard says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readFile, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { createHarness } from '../../src/testing/harness.js';
import { openTensorArtifact, planShards } from '../../src/tensors/sharded.js';
import { toyImages } from '../train/helpers.js';
import { emitDataset, withShardBytes } from '../support/shards.js';
import { tempDir } from '../support/temp.js';

const train = toyImages(50, 4, 4, 3, 1); // 48 bytes an image
const testSet = toyImages(20, 4, 4, 3, 2);
const emit = emitDataset(train, testSet, ['left', 'right']);

test('planShards: one file when it fits; otherwise row-aligned shards within the bound, covering every row once', () => {
  const specs = { x: { dtype: 'uint8', shape: [10, 4] }, y: { dtype: 'int32', shape: [10] } } as const;
  assert.equal(planShards(specs, 80), null, '80 bytes fit in one');
  const plans = planShards(specs, 12)!;
  // x: 3 rows (12 bytes) a shard; x's last row shares a shard with y's first two rows.
  assert.deepEqual(plans.map((p) => p.rows), [
    { x: [0, 3] },
    { x: [3, 6] },
    { x: [6, 9] },
    { x: [9, 10], y: [0, 2] },
    { y: [2, 5] },
    { y: [5, 8] },
    { y: [8, 10] },
  ]);
  assert.deepEqual(planShards({ big: { dtype: 'uint8', shape: [2, 100] } }, 10)!.map((p) => p.rows), [{ big: [0, 1] }, { big: [1, 2] }], 'a row bigger than the bound is a shard of its own');
});

test('a stage writes a big tensors output as shards and reads it back as one: whole, by rows across shards, gathered in any order', async (t) => {
  const h = await createHarness();
  t.after(() => h.close());
  const one = await h.run(emit, {});
  const sharded = await withShardBytes(500, () => h.run(emit, {}));
  const out = sharded.outputs['dataset']!;
  assert.equal(one.outputs['dataset']!.parts, undefined, 'under the bound: one plain safetensors file, as before shards');
  assert.ok(out.parts !== undefined && out.parts.length >= 3, `several shards (${out.parts?.length})`);
  for (const p of out.parts) assert.ok(p.size <= 500 + 200, `shard of ${p.size} bytes: data within the bound, plus its header`);
  const manifest = JSON.parse(await readFile(out.path, 'utf8')) as { shards: { hash: string }[] };
  assert.deepEqual(manifest.shards.map((s) => s.hash), out.parts.map((p) => p.hash), 'the record names the manifest\'s shards, in order');

  const [a, b] = [await one.outputs['dataset']!.readTensors(), await out.readTensors()];
  try {
    assert.deepEqual(b.tensors, a.tensors);
    assert.deepEqual(b.metadata, a.metadata);
    for (const name of ['x_train', 'y_train', 'x_test', 'y_test']) assert.deepEqual(await b.read(name), await a.read(name), name);
    assert.deepEqual(await b.readRows('x_train', 7, 31), await a.readRows('x_train', 7, 31));
    const rows = [49, 0, 13, 12, 11, 30, 30, 5];
    const gathered = await b.gather('x_train', rows);
    assert.deepEqual(gathered.shape, [8, 4, 4, 3]);
    for (const [i, r] of rows.entries()) assert.deepEqual(gathered.data.subarray(i * 48, (i + 1) * 48), train.images.subarray(r * 48, (r + 1) * 48), `row ${r}`);
    assert.deepEqual(await a.gather('x_train', rows), gathered, 'one file gathers the same');
    await assert.rejects(b.gather('x_train', [50]), /row 50 out of range/);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
  const again = await withShardBytes(500, () => h.run(emit, {}));
  assert.equal(again.outputs['dataset']!.hash, out.hash, 'same data, same shard size: the same manifest and shards');
});

test('a truncated or absent shard is an error that names the shard', async (t) => {
  const h = await createHarness();
  t.after(() => h.close());
  const out = (await withShardBytes(500, () => h.run(emit, {}))).outputs['dataset']!;
  const dir = await tempDir('shards-');
  const paths = new Map<string, string>();
  for (const p of out.parts!) {
    const copy = join(dir, p.hash);
    await copyFile(await h.store.objectPath(p.hash), copy);
    paths.set(p.hash, copy);
  }
  const second = out.parts![1]!.hash;
  await truncate(paths.get(second)!, (await stat(paths.get(second)!)).size - 10);
  const file = await openTensorArtifact(out.path, paths);
  // Shard 2 holds rows of x_test (tensors are laid out in name order).
  await assert.rejects(file.read('x_test'), new RegExp(`shard 2 \\(${second.slice(0, 12)}…\\) at .* cannot be read`));
  await file.close();
  const missing = new Map(paths);
  missing.delete(second);
  await assert.rejects(openTensorArtifact(out.path, missing), new RegExp(`shard ${second} is not among the output's parts`));
});
