// The remote tier's ordering guarantees, with faults injected into a real directory remote.
import { tempDir } from '../support/temp.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalStore } from '../../src/store/local.js';
import { DirRemote, runPathOf, type Remote } from '../../src/store/remote.js';
import { TieredStore } from '../../src/store/tiered.js';
import type { RunRecord } from '../../src/store/types.js';
import type { CacheKey, StageId } from '../../src/util/brand.js';

/** Stores the two objects of the test result (the same bytes, so the same hashes, in any store). */
async function writePayloads(local: LocalStore): Promise<Record<string, RunRecord['outputs'][string]>> {
  const outputs: Record<string, RunRecord['outputs'][string]> = {};
  for (const name of ['a', 'b']) {
    const obj = await local.createObject();
    await obj.write(new TextEncoder().encode(`payload ${name}`));
    outputs[name] = await obj.seal('file');
    await obj.publish();
  }
  return outputs;
}

async function storeWithResult(dir: string): Promise<{ local: LocalStore; record: RunRecord }> {
  const local = new LocalStore(join(dir, 'cache'));
  const outputs = await writePayloads(local);
  const record: RunRecord = {
    format: 1,
    key: 'ab'.repeat(32) as CacheKey,
    keyRecord: { plugin: 't', version: '1', params: {}, inputs: {} } as unknown as RunRecord['keyRecord'],
    stage: { id: 's' as StageId, name: 's', pipeline: 'p.yaml' },
    outputs,
    startedAt: new Date(0).toISOString(),
    seconds: 0,
    provenance: {},
  };
  return { local, record };
}

test('a result whose object upload fails never gets its run record on the remote', async () => {
  const dir = await tempDir('rethink-tiered-');
  const { local, record } = await storeWithResult(dir);
  const remote: Remote = new DirRemote(join(dir, 'remote'));
  let puts = 0;
  const flaky = Object.assign(Object.create(remote) as DirRemote, {
    putFile: async (path: string, file: string, size: number) => {
      if (++puts === 2) throw new Error('connection reset');
      return remote.putFile(path, file, size);
    },
  });
  const store = new TieredStore(local, flaky);
  await store.writeRun(record);
  const report = await store.flush();
  assert.match(report.error!, /connection reset/);
  assert.equal(await remote.has(runPathOf(record.key)), false);
  assert.equal(report.pushed.records, 0);
  // The local result is whole regardless, and a later push completes the upload.
  assert.deepEqual(await local.readRun(record.key), record);
  const retry = new TieredStore(local, remote);
  assert.equal(await retry.upload(record), true);
  assert.equal(await remote.has(runPathOf(record.key)), true);
  assert.equal((await retry.flush()).pushed.objects, 1); // the object that made it the first time is not sent again
});

test('concurrent reads of one remote object download it once', async () => {
  const dir = await tempDir('rethink-tiered-');
  const { local, record } = await storeWithResult(dir);
  const remote = new DirRemote(join(dir, 'remote'));
  await new TieredStore(local, remote).upload(record);

  const fresh = new LocalStore(join(dir, 'other'));
  let gets = 0;
  const counting = Object.assign(Object.create(remote) as DirRemote, {
    get: (path: string) => (gets++, remote.get(path)),
  });
  const store = new TieredStore(fresh, counting);
  assert.deepEqual(await store.readRun(record.key), record);
  assert.equal(store.originOf(record.key), 'remote');
  const hash = record.outputs['a']!.hash;
  const paths = await Promise.all([store.objectPath(hash), store.objectPath(hash), store.objectPath(hash)]);
  assert.equal(new Set(paths).size, 1);
  assert.equal(gets, 1);
  // One of two outputs is local: the record stays remote-only, so an offline run would not take it as a hit.
  await store.flush();
  assert.equal(await fresh.readRun(record.key), undefined);
  await store.objectPath(record.outputs['b']!.hash);
  await store.flush();
  assert.deepEqual(await fresh.readRun(record.key), record);
  assert.deepEqual((await readdir(join(dir, 'other', 'tmp'))).filter((n) => n.startsWith('obj-')), []);
});

test('a remote run record that is not well formed is a miss, never a path to follow, and a rerun replaces it', async () => {
  const dir = await tempDir('rethink-tiered-');
  const { record } = await storeWithResult(dir);
  const remote = new DirRemote(join(dir, 'remote'));
  const bLocal = new LocalStore(join(dir, 'other'));
  const store = new TieredStore(bLocal, remote);
  const put = (r: unknown) => remote.putText(runPathOf(record.key), JSON.stringify(r));
  await put({ ...record, outputs: { a: { ...record.outputs['a']!, hash: '../../../../tmp/x' } } });
  assert.equal(await store.readRun(record.key), undefined);
  await put({ ...record, key: 'cd'.repeat(32) });
  assert.equal(await store.readRun(record.key), undefined);
  await put('not a record');
  assert.equal(await store.readRun(record.key), undefined);
  // The stage reruns on this machine, and its result replaces the damaged record.
  await writePayloads(bLocal);
  await store.writeRun(record);
  assert.equal((await store.flush()).pushed.records, 1);
  assert.deepEqual(await new TieredStore(new LocalStore(join(dir, 'third')), remote).readRun(record.key), record);
  // An intact record is never replaced: a second upload of the key sends nothing.
  assert.equal(await new TieredStore(bLocal, remote).upload(record), false);
});

test("checkpoints travel through the remote: saved up, fetched into another machine's empty directory (never over a local one), gone with the record", async () => {
  const dir = await tempDir('rethink-tiered-');
  const remote = new DirRemote(join(dir, 'remote'));
  const { local, record } = await storeWithResult(join(dir, 'a'));
  const a = new TieredStore(local, remote);
  const key = record.key;
  await writeFile(join(await a.checkpointDir(key), 'state.bin'), 'epoch 3');
  await mkdir(join(await a.checkpointDir(key), 'opt'), { recursive: true });
  await writeFile(join(await a.checkpointDir(key), 'opt', 'v.bin'), 'velocities');
  await a.saveCheckpoints(key);

  // Machine B: its own empty cache finds A's checkpoints.
  const b = new TieredStore(new LocalStore(join(dir, 'b')), remote);
  const there = await b.checkpointDir(key);
  assert.equal(await readFile(join(there, 'state.bin'), 'utf8'), 'epoch 3');
  assert.equal(await readFile(join(there, 'opt', 'v.bin'), 'utf8'), 'velocities');
  // Machine C already has checkpoints of its own for the key: they are kept, not replaced.
  const cLocal = new LocalStore(join(dir, 'c'));
  await writeFile(join(await cLocal.checkpointDir(key), 'state.bin'), 'epoch 5');
  assert.deepEqual(await readdir(await new TieredStore(cLocal, remote).checkpointDir(key)), ['state.bin']);
  assert.equal(await readFile(join(await cLocal.checkpointDir(key), 'state.bin'), 'utf8'), 'epoch 5');

  // A's stage ends: its checkpoints go locally at once, from the remote once its record is up.
  await a.dropCheckpoints(key);
  assert.deepEqual((await readdir(join(dir, 'remote', 'checkpoints', key), { recursive: true })).sort(), ['opt', 'opt/v.bin', 'state.bin']);
  await a.writeRun(record);
  assert.equal((await a.flush()).error, undefined);
  assert.ok(await remote.has(runPathOf(key)));
  const left = (await readdir(join(dir, 'remote', 'checkpoints'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  assert.deepEqual(left, []);
});
