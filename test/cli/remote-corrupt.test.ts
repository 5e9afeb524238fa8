// A corrupt object on the shared remote is a miss, never a failed run: the machine that downloads it
// recomputes its producer, whose upload replaces the bad copy, and the next machine gets good bytes.
// Against a directory remote and a real S3-protocol server on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { project, SWEEP, TEST_PLUGINS, type Project } from '../support/tmp-project.js';
import { s3Server } from '../support/s3.js';
import { tempDir } from '../support/temp.js';

const FILES = { 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP };
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const objectKey = (hash: string) => `objects/${hash.slice(0, 2)}/${hash.slice(2)}`;

interface SharedRemote {
  readonly flag: string;
  corrupt(hash: string): Promise<void>;
  bytes(hash: string): Promise<Uint8Array>;
  close(): Promise<void>;
}

async function dirRemote(): Promise<SharedRemote> {
  const dir = await tempDir('rethink-remote-');
  return {
    flag: dir,
    corrupt: (hash) => writeFile(join(dir, objectKey(hash)), '{\n "value": 99\n}\n'),
    bytes: (hash) => readFile(join(dir, objectKey(hash))),
    close: async () => {},
  };
}

async function s3Remote(): Promise<SharedRemote> {
  const s3 = await s3Server(['team']);
  const url = (hash: string) => `${s3.endpoint}/team/exp1/${objectKey(hash)}`;
  return {
    flag: 's3://team/exp1',
    corrupt: (hash) => s3.put('team', `exp1/${objectKey(hash)}`, '{\n "value": 99\n}\n'),
    bytes: async (hash) => new Uint8Array(await (await fetch(url(hash))).arrayBuffer()),
    close: () => s3.close(),
  };
}

async function trainValue(p: Project, flags: readonly string[]): Promise<number> {
  const show = await p.cli('show', 'train[p=0.5,seed=1]', 'p.yaml', '--json', ...flags);
  assert.equal(show.code, 0, show.stderr);
  return (JSON.parse(show.stdout) as { outputs: { out: { value: { value: number } } } }).outputs.out.value.value;
}

/** A first machine runs the sweep with the remote behind it; then corrupt[p=0.5]'s object on the remote is corrupted. */
async function uploadThenCorrupt(shared: { readonly flag: string; corrupt(hash: string): Promise<void> }): Promise<{ remote: string[]; alice: Project; hash: string }> {
  const remote = ['--remote', shared.flag];
  const alice = await project(FILES);
  const first = await alice.run('p.yaml', ...remote);
  assert.equal(first.code, 0, first.stderr);
  const hash = first.doc.stages.find((s) => s.id === 'corrupt[p=0.5]')!.outputs.out!;
  await shared.corrupt(hash);
  return { remote, alice, hash };
}

for (const [kind, open] of [['a directory', dirRemote], ['S3', s3Remote]] as const) {
  test(`a corrupt object on ${kind} remote is a miss: recomputed, re-uploaded, good for the next machine`, async () => {
    const shared = await open();
    try {
      const { remote, hash } = await uploadThenCorrupt(shared);

      // Bob's cache is empty: corrupt[p=0.5] is a remote hit, and the changed train downloads its output.
      const bob = await project(FILES);
      const two = [...remote, '--set', 'train.with.value=2'];
      const next = await bob.run('p.yaml', ...two);
      assert.equal(next.code, 0, next.stderr);
      assert.equal(next.status['corrupt[p=0.5]'], 'ran', JSON.stringify(next.doc.stages));
      assert.equal(next.status['train[p=0.5,seed=1]'], 'ran');
      assert.equal(await trainValue(bob, two), 12.5);
      const lines = next.stderr.split('\n').filter((l) => l.startsWith('warning:'));
      assert.equal(lines.length, 1, next.stderr);
      assert.match(lines[0]!, new RegExp(`^warning: remote object ${hash} was corrupt \\(the remote's copy .* hashes to [0-9a-f]{12}…\\); recomputing corrupt\\[p=0\\.5\\], whose upload replaces it on `));
      assert.equal(next.doc.remote?.error, undefined);
      assert.equal(sha256(await shared.bytes(hash)), hash, 'the remote copy is replaced by good bytes');

      // Carol, a third machine, downloads the good copy: a hit, no warning.
      const carol = await project(FILES);
      const three = [...remote, '--set', 'train.with.value=3'];
      const last = await carol.run('p.yaml', ...three);
      assert.equal(last.code, 0, last.stderr);
      assert.equal(last.status['corrupt[p=0.5]'], 'cached');
      assert.equal(last.doc.stages.find((s) => s.id === 'corrupt[p=0.5]')!.remote, true);
      assert.doesNotMatch(last.stderr, /warning:/);
      assert.equal(await trainValue(carol, three), 13.5);
    } finally {
      await shared.close();
    }
  });
}

test('fsck --remote: a corrupt remote object is reported and deleted with the results naming it; the next machine uploads them again', async () => {
  const shared = await dirRemote();
  const { remote, alice, hash } = await uploadThenCorrupt(shared);

  const dry = await alice.cli('fsck', ...remote, '--dry-run', '--json');
  assert.equal(dry.code, 1, dry.stderr);
  const doc = JSON.parse(dry.stdout) as { ok: boolean; local: { problems: unknown[] }; remote: { where: string; objects: number; runs: number; badRuns: number; problems: { kind: string; hash: string; deleted?: true }[] } };
  assert.equal(doc.ok, false);
  assert.deepEqual(doc.local.problems, []);
  assert.deepEqual({ objects: doc.remote.objects, runs: doc.remote.runs, badRuns: doc.remote.badRuns }, { objects: 5, runs: 8, badRuns: 1 });
  assert.deepEqual(doc.remote.problems.map((x) => [x.kind, x.hash, x.deleted]), [['corrupt', hash, undefined]]);

  const fixed = await alice.cli('fsck', ...remote);
  assert.equal(fixed.code, 1);
  assert.match(fixed.stdout, /deleted 1 corrupt object and the 1 result naming a bad or missing object from the remote: the next machine that computes them uploads them again/);
  const clean = await alice.cli('fsck', ...remote);
  assert.equal(clean.code, 0, clean.stdout);

  const bob = await project(FILES);
  const next = await bob.run('p.yaml', ...remote);
  assert.equal(next.code, 0, next.stderr);
  assert.equal(next.status['corrupt[p=0.5]'], 'ran');
  assert.equal(sha256(await shared.bytes(hash)), hash);
});

test('fsck --remote takes a record only as a remote hit would: a forged one naming paths, not hashes, deletes nothing', async () => {
  const shared = await dirRemote();
  const alice = await project(FILES);
  assert.equal((await alice.run('p.yaml', '--remote', shared.flag)).code, 0);
  const key = 'ab'.repeat(32);
  const forged = { format: 1, key, stage: { id: 'x', name: 'x', pipeline: 'p.yaml' }, outputs: { out: { hash: '../../p', kind: 'json', size: 1 } } };
  await mkdir(join(shared.flag, 'runs', 'ab'), { recursive: true });
  await writeFile(join(shared.flag, 'runs', 'ab', `${key.slice(2)}.json`), JSON.stringify(forged));
  const r = await alice.cli('fsck', '--remote', shared.flag, '--json');
  assert.equal(r.code, 0, r.stdout);
  const doc = JSON.parse(r.stdout) as { remote: { problems: unknown[]; badRuns: number } };
  assert.deepEqual([doc.remote.problems, doc.remote.badRuns], [[], 0]);
});
