// Reads are verified: an object in the local cache whose bytes are not what its name says (a flipped
// byte, a symlink to another object) is never used as good. A stage about to read it gets its
// producer recomputed first; `verify` calls it a difference; `fsck` finds and quarantines it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, lstat, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { project, SWEEP, TEST_PLUGINS, type Project } from '../support/tmp-project.js';

const FILES = { 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP };

const objectFile = (p: Project, hash: string) => join(p.dir, 'cache', 'objects', hash.slice(0, 2), hash.slice(2));
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Rewrites one byte of a stored object in place, as a failing disk or a stray editor would. */
async function flipDigit(path: string): Promise<void> {
  await chmod(path, 0o644);
  const text = await readFile(path, 'utf8');
  await writeFile(path, text.replace(/\d/, (d) => String((Number(d) + 3) % 10)));
}

/** The first run of the sweep; corrupt[p=0.5] writes {value: 10.5}, read by both train[p=0.5,…]. */
async function ranSweep(): Promise<{ p: Project; hash: string; other: string }> {
  const p = await project(FILES);
  const first = await p.run('p.yaml');
  assert.equal(first.code, 0, first.stderr);
  const out = (id: string) => first.doc.stages.find((s) => s.id === id)!.outputs.out!;
  return { p, hash: out('corrupt[p=0.5]'), other: out('train[p=0,seed=1]') };
}

const warnings = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('warning:'));

async function trainValue(p: Project, id: string): Promise<number> {
  const show = await p.cli('show', id, 'p.yaml', '--json', '--set', 'train.with.value=2');
  assert.equal(show.code, 0, show.stderr);
  return (JSON.parse(show.stdout) as { outputs: { out: { value: { value: number } } } }).outputs.out.value.value;
}

test('a flipped byte in an upstream object: the next run recomputes its producer, the downstream reads good bytes', async () => {
  const { p, hash } = await ranSweep();
  await flipDigit(objectFile(p, hash));

  const next = await p.run('p.yaml', '--set', 'train.with.value=2');
  assert.equal(next.code, 0, next.stderr);
  assert.equal(next.status['corrupt[p=0.5]'], 'ran', 'the producer of the corrupt object is recomputed');
  assert.equal(next.doc.stages.find((s) => s.id === 'corrupt[p=0.5]')!.outputs.out, hash, 'with the clean hash');
  assert.equal(next.status['train[p=0.5,seed=1]'], 'ran');
  // 10.5 + 2, not the corrupted digit's value.
  assert.equal(await trainValue(p, 'train[p=0.5,seed=1]'), 12.5);
  assert.equal(await trainValue(p, 'train[p=0.5,seed=2]'), 12.5);
  assert.equal(sha256(await readFile(objectFile(p, hash))), hash, 'the object is replaced by good bytes');

  const lines = warnings(next.stderr);
  assert.equal(lines.length, 1, next.stderr);
  assert.match(lines[0]!, new RegExp(`^warning: cache object ${hash} was corrupt \\(its bytes hash to [0-9a-f]{12}…\\); moved to .*quarantine/${hash}-\\S+, recomputing corrupt\\[p=0\\.5\\]$`));
  const quarantined = await readdir(join(p.dir, 'cache', 'quarantine'));
  assert.equal(quarantined.length, 1);
  assert.ok(quarantined[0]!.startsWith(hash));
});

test('an object replaced by a symlink to another object is corrupt, not the object it points to', async () => {
  const { p, hash, other } = await ranSweep();
  await rm(objectFile(p, hash), { force: true });
  await symlink(objectFile(p, other), objectFile(p, hash));

  const next = await p.run('p.yaml', '--set', 'train.with.value=2');
  assert.equal(next.code, 0, next.stderr);
  assert.equal(next.status['corrupt[p=0.5]'], 'ran');
  assert.equal(await trainValue(p, 'train[p=0.5,seed=1]'), 12.5);
  // The lookup's lstat already sees it is no object: a plain miss, like a missing object.
  assert.deepEqual(warnings(next.stderr), []);
  assert.ok((await lstat(objectFile(p, hash))).isFile(), 'a real file took the symlink’s place');
});

test('verify: a recorded object whose bytes were corrupted differs; it is not "reproduced"', async () => {
  const { p } = await ranSweep();
  const first = await p.run('p.yaml');
  const trained = first.doc.stages.find((s) => s.id === 'train[p=0,seed=1]')!.outputs.out!;
  await flipDigit(objectFile(p, trained));

  const v = await p.cli('verify', 'p.yaml', '--only', 'train[p=0,seed=1]');
  assert.equal(v.code, 1, v.stderr);
  assert.match(v.stderr, /DIFFERS\s+train\[p=0,seed=1\]/);
  assert.match(v.stderr, /out: the recorded result's object is corrupt \(its bytes hash to [0-9a-f]{12}…\); moved to /);
  assert.match(v.stderr, /done: 0 reproduced, 1 differs/);
});

test('fsck finds a flipped byte and a symlink, quarantines them (exit 1); a clean store is exit 0', async () => {
  const { p, hash, other } = await ranSweep();
  const clean = await p.cli('fsck');
  assert.equal(clean.code, 0, clean.stdout + clean.stderr);
  assert.match(clean.stdout, /^fsck .*cache: 5 objects \(.*\), 8 results: all good$/m);

  const agg = (await p.run('p.yaml')).doc.stages.find((s) => s.id === 'aggregate')!.outputs.out!;
  await flipDigit(objectFile(p, hash));
  await rm(objectFile(p, other), { force: true });
  await symlink(objectFile(p, agg), objectFile(p, other));

  const dry = await p.cli('fsck', '--dry-run', '--json');
  assert.equal(dry.code, 1);
  const doc = JSON.parse(dry.stdout) as {
    dryRun: boolean;
    ok: boolean;
    local: { where: string; objects: number; bytes: number; runs: number; problems: { kind: string; hash: string; reason: string; quarantined?: string }[] };
  };
  assert.equal(doc.dryRun, true);
  assert.equal(doc.ok, false);
  assert.deepEqual(
    { objects: doc.local.objects, runs: doc.local.runs },
    { objects: 5, runs: 8 },
  );
  assert.deepEqual(
    doc.local.problems.map((x) => [x.kind, x.hash, x.reason.replace(/[0-9a-f]{12}…/, 'H')]).sort(),
    [
      ['corrupt', hash, 'its bytes hash to H'],
      ['corrupt', other, 'a symbolic link, not a file'],
    ].sort(),
  );
  assert.ok(doc.local.problems.every((x) => x.quarantined === undefined), 'a dry run moves nothing');
  assert.ok((await lstat(objectFile(p, other))).isSymbolicLink());

  const fixed = await p.cli('fsck');
  assert.equal(fixed.code, 1);
  assert.match(fixed.stdout, /2 problems/);
  assert.match(fixed.stdout, /quarantined 2 objects: the next run computes them again/);
  assert.equal((await readdir(join(p.dir, 'cache', 'quarantine'))).length, 2);
  await assert.rejects(lstat(objectFile(p, hash)));

  // The records naming them now miss: the next run recomputes, and the store is clean again.
  const rerun = await p.run('p.yaml');
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.equal(rerun.status['corrupt[p=0.5]'], 'ran');
  const after = await p.cli('fsck');
  assert.equal(after.code, 0, after.stdout);
});

test('fsck: a record naming a missing object is a problem; a pipeline argument is a user error', async () => {
  const { p, hash } = await ranSweep();
  await rm(objectFile(p, hash), { force: true });
  const r = await p.cli('fsck');
  assert.equal(r.code, 1);
  assert.match(r.stdout, new RegExp(`missing  ${hash}: corrupt\\[p=0\\.5\\] \\(output out, key [0-9a-f]{12}\\) names it; not in the store`));
  const bad = await p.cli('fsck', 'p.yaml');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /E_BAD_FLAG/);
});

test('fsck moves nothing in a directory rethink did not mark as its cache', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  // A user's folder whose file happens to sit where an object would, with bytes that do not hash to its name.
  const name = 'ab'.repeat(32);
  const file = join(p.dir, 'objects', name.slice(0, 2), name.slice(2));
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, "the user's data");
  const r = await p.cli('fsck', '--cache-dir', '.');
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /error\[E_NOT_A_CACHE\]/);
  assert.equal(await readFile(file, 'utf8'), "the user's data");
});
