// One contract for every Remote: the directory on a shared filesystem and S3 (a real S3-protocol
// server on loopback). The tiered store and gc rely on exactly these behaviours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../support/temp.js';
import { s3Server, type S3Server } from '../support/s3.js';
import { DirRemote, type Remote } from '../../src/store/remote.js';
import { S3Remote } from '../../src/store/s3.js';

async function text(remote: Remote, path: string): Promise<string | undefined> {
  const body = await remote.get(path);
  if (!body) return undefined;
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function listed(remote: Remote, folder: string): Promise<[string, number][]> {
  const out: [string, number][] = [];
  for await (const e of remote.list(folder)) {
    assert.ok(Math.abs(e.modifiedMs - Date.now()) < 600_000, `${e.path} has a plausible modification time`);
    out.push([e.path, e.size]);
  }
  return out.sort(([a], [b]) => (a < b ? -1 : 1));
}

function contract(name: string, open: () => Promise<{ remote: Remote; close(): Promise<void> }>): void {
  test(`${name}: what is put can be found, read, listed and removed; what is not there is undefined`, async () => {
    const { remote, close } = await open();
    try {
      assert.equal(await remote.getText('runs/ab/missing.json'), undefined);
      assert.equal(await remote.get('objects/ab/missing'), undefined);
      assert.equal(await remote.has('objects/ab/missing'), false);
      assert.deepEqual(await listed(remote, 'objects'), [], 'an empty or absent folder lists nothing');

      await remote.putText('runs/ab/one.json', '{"a":1}\n');
      const dir = await tempDir('rethink-contract-');
      await writeFile(join(dir, 'f'), 'hello object');
      await remote.putFile('objects/cd/two', join(dir, 'f'), 12);
      await remote.putFile('objects/ef/three', join(dir, 'f'), 12);
      assert.equal(await remote.getText('runs/ab/one.json'), '{"a":1}\n');
      assert.equal(await text(remote, 'objects/cd/two'), 'hello object');
      assert.equal(await remote.has('objects/cd/two'), true);
      assert.equal(await remote.has('objects/cd'), false, 'a folder is not an object');

      await remote.putText('runs/ab/one.json', '{"a":2}\n');
      assert.equal(await remote.getText('runs/ab/one.json'), '{"a":2}\n', 'a put replaces');
      assert.deepEqual(await listed(remote, 'objects'), [['objects/cd/two', 12], ['objects/ef/three', 12]]);
      assert.deepEqual(await listed(remote, 'runs'), [['runs/ab/one.json', 8]], 'a listing stays in its folder');

      await remote.remove(['objects/cd/two', 'objects/cd/never-there']);
      await remote.remove([]);
      assert.equal(await remote.has('objects/cd/two'), false);
      assert.deepEqual(await listed(remote, 'objects'), [['objects/ef/three', 12]]);
    } finally {
      await close();
    }
  });
}

contract('directory remote', async () => {
  const dir = await tempDir('rethink-dir-remote-');
  return { remote: new DirRemote(join(dir, 'shared')), close: async () => {} };
});

contract('S3 remote', async () => {
  const s3: S3Server = await s3Server(['team']);
  return { remote: new S3Remote('team', 'lab/rethink'), close: () => s3.close() };
});
