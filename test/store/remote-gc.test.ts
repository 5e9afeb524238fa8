// Garbage collection on a shared remote, on a real S3-protocol server and on a directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../support/temp.js';
import { s3Server } from '../support/s3.js';
import { S3Remote } from '../../src/store/s3.js';
import { DirRemote, objectPathOf, runPathOf, type Remote } from '../../src/store/remote.js';
import { collectRemoteGarbage } from '../../src/store/remote-gc.js';
import type { CacheKey } from '../../src/util/brand.js';

const key = (c: string) => c.repeat(64) as CacheKey;
const hash = (c: string) => c.repeat(64);
const record = (k: CacheKey, objects: string[]) => JSON.stringify({ format: 1, key: k, outputs: Object.fromEntries(objects.map((o, i) => [`out${i}`, { hash: o, kind: 'file', size: 5 }])) });

/** Records A (a root: objects 1, 2), B (3 and 2) and C (4), plus an object no record names (5). */
async function fill(remote: Remote): Promise<void> {
  for (const c of '12345') await remote.putText(objectPathOf(hash(c)), `obj ${c}`);
  await remote.putText(runPathOf(key('a')), record(key('a'), [hash('1'), hash('2')]));
  await remote.putText(runPathOf(key('b')), record(key('b'), [hash('3'), hash('2')]));
  await remote.putText(runPathOf(key('c')), record(key('c'), [hash('4')]));
}

async function paths(remote: Remote): Promise<string[]> {
  const out: string[] = [];
  for (const folder of ['runs', 'objects']) for await (const e of remote.list(folder)) out.push(e.path);
  return out.sort();
}

test('on S3: the roots and the objects they name stay, the rest goes, records before objects; a dry run deletes nothing', async () => {
  const s3 = await s3Server(['lab']);
  try {
    const remote = new S3Remote('lab', 'team/rethink', { pageSize: 2 }); // two keys a LIST page
    await fill(remote);
    await s3.put('lab', 'elsewhere/runs/aa/not-ours.json', '{}');
    const all = await paths(remote);
    assert.equal(all.length, 8, 'listing crosses pages and stays under the prefix');
    const later = Date.now() + 2 * 3600_000; // everything is older than the grace period by then
    const dry = await collectRemoteGarbage(remote, new Set([key('a')]), { dryRun: true, graceMs: 3600_000, now: later });
    assert.deepEqual(dry, { keptRuns: 1, deletedRuns: 2, keptObjects: 2, keptBytes: 10, deletedObjects: 3, deletedBytes: 15, deletedCheckpoints: 0, deletedJobs: 0 });
    assert.deepEqual(await paths(remote), all);

    const real = await collectRemoteGarbage(remote, new Set([key('a')]), { dryRun: false, graceMs: 3600_000, now: later });
    assert.deepEqual(real, dry);
    assert.deepEqual(await paths(remote), [objectPathOf(hash('1')), objectPathOf(hash('2')), runPathOf(key('a'))].sort());
    assert.ok((await s3.keys('lab')).includes('elsewhere/runs/aa/not-ours.json'), 'nothing outside the prefix is touched');
    // Without the time shift everything is fresh, so nothing goes.
    await fill(remote);
    const now = await collectRemoteGarbage(remote, new Set(), { dryRun: false, graceMs: 3600_000 });
    assert.equal(now.deletedRuns + now.deletedObjects, 0);
  } finally {
    await s3.close();
  }
});

test('a record uploaded while gc runs keeps the objects it names', async () => {
  const dir = await tempDir('rethink-remote-gc-');
  const inner = new DirRemote(join(dir, 'bucket'));
  await fill(inner);
  let uploaded = false;
  // Another machine publishes a result naming object 5 just as the records are being deleted.
  const racing: Remote = Object.assign(Object.create(inner) as Remote, {
    remove: async (ps: readonly string[]) => {
      if (!uploaded) {
        uploaded = true;
        await inner.putText(runPathOf(key('d')), record(key('d'), [hash('5')]));
      }
      return inner.remove(ps);
    },
  });
  const report = await collectRemoteGarbage(racing, new Set([key('a')]), { dryRun: false, graceMs: 3600_000, now: Date.now() + 2 * 3600_000 });
  assert.equal(report.keptRuns, 2);
  assert.deepEqual(await paths(inner), [objectPathOf(hash('1')), objectPathOf(hash('2')), objectPathOf(hash('5')), runPathOf(key('a')), runPathOf(key('d'))].sort());
});

test('on a directory: what was written within the grace period stays, root or not', async () => {
  const dir = await tempDir('rethink-remote-gc-');
  const remote = new DirRemote(join(dir, 'bucket'));
  await fill(remote);
  const old = new Date(Date.now() - 2 * 3600_000);
  // B and its object 3 are old; C, object 4 and object 5 were just written.
  for (const p of [runPathOf(key('b')), objectPathOf(hash('3'))]) await utimes(join(dir, 'bucket', p), old, old);
  const report = await collectRemoteGarbage(remote, new Set([key('a')]), { dryRun: false, graceMs: 3600_000 });
  assert.deepEqual([report.deletedRuns, report.deletedObjects], [1, 1]);
  assert.deepEqual(await paths(remote), [objectPathOf(hash('1')), objectPathOf(hash('2')), objectPathOf(hash('4')), objectPathOf(hash('5')), runPathOf(key('a')), runPathOf(key('c'))].sort());
});
