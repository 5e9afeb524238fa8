// A sharded output's shards are objects its run record names (OutputRef.parts): garbage collection,
// local and remote, keeps them with the record and drops them with it; records with malformed parts
// are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createHarness } from '../../src/testing/harness.js';
import { LocalStore } from '../../src/store/local.js';
import { shardPaths } from '../../src/store/parts.js';
import { DirRemote, objectPathOf, runPathOf } from '../../src/store/remote.js';
import { TieredStore } from '../../src/store/tiered.js';
import { openTensorArtifact } from '../../src/tensors/sharded.js';
import { collectRemoteGarbage } from '../../src/store/remote-gc.js';
import { isRecordFor, recordObjects, type OutputRef, type RunRecord } from '../../src/store/types.js';
import type { CacheKey, StageId } from '../../src/util/brand.js';
import { emitDataset, withShardBytes } from '../support/shards.js';
import { tempDir } from '../support/temp.js';
import { toyImages } from '../train/helpers.js';

const key = 'a'.repeat(64) as CacheKey;
const emit = emitDataset(toyImages(30, 4, 4, 3, 1), toyImages(10, 4, 4, 3, 2), ['l', 'r']);

function recordOf(dataset: OutputRef): RunRecord {
  return {
    format: 1,
    key,
    keyRecord: {} as RunRecord['keyRecord'],
    stage: { id: 'emit' as StageId, name: 'emit-dataset', pipeline: 'p' },
    outputs: { dataset },
    startedAt: new Date(0).toISOString(),
    seconds: 0,
    provenance: {},
  };
}

test('local gc keeps the shards of a kept record, and deletes them with the record', async (t) => {
  const h = await createHarness();
  t.after(() => h.close());
  const out = (await withShardBytes(400, () => h.run(emit, {}))).outputs['dataset']!;
  const record = recordOf({ hash: out.hash, kind: out.kind, size: out.size, parts: out.parts! });
  assert.ok(record.outputs['dataset']!.parts!.length >= 3);
  assert.equal(recordObjects(record).length, 1 + out.parts!.length);
  await h.store.writeRun(record);
  const gc = { dryRun: false, graceMs: 0, checkpointGraceMs: 0 };
  await h.store.collectGarbage(new Set([key]), gc);
  for (const o of recordObjects(record)) assert.ok(await h.store.hasObject(o.hash, o.size), `${o.hash} kept`);
  await h.store.collectGarbage(new Set(), gc);
  for (const o of recordObjects(record)) assert.equal(await h.store.hasObject(o.hash, o.size), false, `${o.hash} deleted`);
});

test('push uploads the shards before the record; another machine pulls and reads the sharded dataset', async (t) => {
  const h = await createHarness();
  t.after(() => h.close());
  const out = (await withShardBytes(400, () => h.run(emit, {}))).outputs['dataset']!;
  const record = recordOf({ hash: out.hash, kind: out.kind, size: out.size, parts: out.parts! });
  await h.store.writeRun(record);
  const dir = await tempDir('rethink-parts-');
  const remote = new DirRemote(join(dir, 'bucket'));
  assert.equal(await new TieredStore(h.store, remote).upload(record), true);
  for (const o of recordObjects(record)) assert.ok(await remote.has(objectPathOf(o.hash)), `${o.hash} on the remote`);

  const other = new TieredStore(new LocalStore(join(dir, 'other')), remote);
  const pulled = (await other.readRun(key))!.outputs['dataset']!;
  const file = await openTensorArtifact(await other.objectPath(pulled.hash), await shardPaths(other, pulled));
  const local = await out.readTensors();
  try {
    assert.deepEqual(await file.read('x_train'), await local.read('x_train'));
  } finally {
    await Promise.all([file.close(), local.close()]);
  }
});

test('remote gc keeps the objects a root names as parts', async () => {
  const remote = new DirRemote(join(await tempDir('rethink-parts-'), 'bucket'));
  const h = (c: string) => c.repeat(64);
  for (const c of '1234') await remote.putText(objectPathOf(h(c)), `obj ${c}`);
  const parts = [h('2'), h('3')].map((hash) => ({ hash, size: 5 }));
  await remote.putText(runPathOf(key), JSON.stringify({ format: 1, key, outputs: { dataset: { hash: h('1'), kind: 'tensors', size: 5, parts } } }));
  const report = await collectRemoteGarbage(remote, new Set([key]), { dryRun: false, graceMs: 0 });
  assert.equal(report.deletedObjects, 1, 'only object 4, which nothing names');
  assert.ok(await remote.has(objectPathOf(h('3'))));
});

test('a record whose parts are not objects named by SHA-256 is not taken', () => {
  const ok = { format: 1, key, outputs: { d: { hash: 'b'.repeat(64), kind: 'tensors', size: 1, parts: [{ hash: 'c'.repeat(64), size: 2 }] } } };
  assert.equal(isRecordFor(ok, key), true);
  assert.equal(isRecordFor({ ...ok, outputs: { d: { ...ok.outputs.d, parts: [{ hash: '../../etc', size: 2 }] } } }, key), false);
  assert.equal(isRecordFor({ ...ok, outputs: { d: { ...ok.outputs.d, parts: 'x' } } }, key), false);
});
