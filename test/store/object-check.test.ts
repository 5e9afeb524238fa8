// The local store's verified reads: an object is hashed against its name once per file version per
// process, a bad one (wrong bytes, a symlink, the wrong size) is quarantined, and publishing over a
// bad object replaces it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalStore } from '../../src/store/local.js';
import { CorruptObjectError, objectVerifier } from '../../src/store/object-check.js';
import { asObjectHash, type ObjectHash } from '../../src/util/brand.js';
import { tempDir } from '../support/temp.js';

const hashOf = (text: string): ObjectHash => asObjectHash(createHash('sha256').update(text).digest('hex'));

/** A store with one object put in place by hand, as another process (or a restore from backup) would. */
async function storeWith(text: string): Promise<{ store: LocalStore; hash: ObjectHash; path: string }> {
  const store = new LocalStore(await tempDir('rethink-objects-'));
  const hash = hashOf(text);
  const path = join(store.location, 'objects', hash.slice(0, 2), hash.slice(2));
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text);
  return { store, hash, path };
}

test('a second read of an untouched object does not hash it again; a touched one is hashed again', async () => {
  const { store, hash, path } = await storeWith('{"value": 1}\n');
  const before = objectVerifier.hashed;
  assert.equal(await store.objectPath(hash), path);
  assert.equal(objectVerifier.hashed, before + 1);
  assert.equal(await store.objectPath(hash), path);
  assert.equal(await store.objectPath(hash, 13), path);
  assert.deepEqual(await store.verifyObject(hash), { ok: true });
  assert.equal(objectVerifier.hashed, before + 1, 'memoised by the file’s identity');
  const later = new Date(Date.now() + 5000);
  await utimes(path, later, later);
  await store.objectPath(hash);
  assert.equal(objectVerifier.hashed, before + 2, 'a new mtime is a new file version');
});

test('an object this process published is not hashed again when read', async () => {
  const store = new LocalStore(await tempDir('rethink-objects-'));
  const obj = await store.createObject();
  await obj.write(Buffer.from('fresh'));
  const ref = await obj.seal('file');
  await obj.publish();
  const before = objectVerifier.hashed;
  await store.objectPath(ref.hash, ref.size);
  assert.equal(objectVerifier.hashed, before);
});

test('a corrupt read throws, names the object and moves it to quarantine/', async () => {
  const { store, hash, path } = await storeWith('{"value": 1}\n');
  await writeFile(path, '{"value": 7}\n');
  const e = await store.objectPath(hash).catch((x: unknown) => x);
  assert.ok(e instanceof CorruptObjectError, String(e));
  assert.equal(e.hash, hash);
  assert.match(e.message, new RegExp(`^cache object ${hash} is corrupt \\(its bytes hash to ${hashOf('{"value": 7}\n').slice(0, 12)}…\\); moved to .*quarantine/${hash}-`));
  await assert.rejects(lstat(path));
  assert.equal(await readFile(e.quarantined!, 'utf8'), '{"value": 7}\n');
  assert.equal(await store.hasObject(hash), false);
});

test('a symlink, a directory or the wrong size is no object, without reading it', async () => {
  const { store, hash, path } = await storeWith('x');
  const other = await storeWith('x'); // the right bytes, elsewhere
  await rm(path);
  await symlink(other.path, path);
  assert.equal(await store.hasObject(hash), false, 'hasObject does not follow symlinks');
  const check = await store.verifyObject(hash);
  assert.equal(check.ok, false);
  assert.equal(!check.ok && check.reason, 'a symbolic link, not a file');
  assert.ok((await lstat(other.path)).isFile(), 'the link’s target is left alone');

  const sized = await storeWith('twelve bytes');
  assert.equal(await sized.store.hasObject(sized.hash, 12), true);
  assert.equal(await sized.store.hasObject(sized.hash, 13), false);
  const before = objectVerifier.hashed;
  const wrong = await sized.store.verifyObject(sized.hash, 13);
  assert.equal(!wrong.ok && wrong.reason, '12 bytes, its run record says 13');
  assert.equal(objectVerifier.hashed, before);

  const dir = await storeWith('d');
  await rm(dir.path);
  await mkdir(dir.path);
  assert.equal(await dir.store.hasObject(dir.hash), false);
  const d = await dir.store.verifyObject(dir.hash);
  assert.equal(!d.ok && d.reason, 'a directory, not a file');
});

test('publishing over a bad object at the destination replaces it; over a good one keeps it', async () => {
  const { store, hash, path } = await storeWith('good bytes');
  await writeFile(path, 'bad bytes!');
  const obj = await store.createObject();
  await obj.write(Buffer.from('good bytes'));
  assert.equal((await obj.seal('file')).hash, hash);
  await obj.publish();
  assert.equal(await readFile(path, 'utf8'), 'good bytes');
  assert.deepEqual(await store.verifyObject(hash), { ok: true });
  assert.deepEqual(await readdir(join(store.location, 'tmp')), [], 'nothing left behind');

  const { ino } = await lstat(path);
  const again = await store.createObject();
  await again.write(Buffer.from('good bytes'));
  await again.seal('file');
  await again.publish();
  assert.equal((await lstat(path)).ino, ino, 'identical content already stored stays');
});

test('quarantine moves only the version found bad: a good copy published since stays', async () => {
  const { store, hash, path } = await storeWith('good bytes');
  await writeFile(path, 'bad bytes!');
  const bad = await objectVerifier.check(path, hash);
  assert.equal(bad.status, 'corrupt');
  // Another process publishes a good copy (a new file renamed into place) after the check.
  const fresh = join(store.location, 'fresh');
  await writeFile(fresh, 'good bytes');
  await rename(fresh, path);
  assert.equal(await store.quarantine(hash, bad.status === 'corrupt' ? bad.identity : undefined), undefined);
  assert.equal(await readFile(path, 'utf8'), 'good bytes');
  assert.deepEqual(await store.verifyObject(hash), { ok: true });
});
