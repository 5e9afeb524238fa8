import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { project, SWEEP, TEST_PLUGINS } from '../support/tmp-project.js';

test('export copies the current outputs of the selected instances into named, writable files', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  assert.equal((await p.run('p.yaml')).code, 0);
  const r = await p.cli('export', 'train[p=0.5,*]', 'p.yaml', '--to', 'out');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['out/train[p=0.5,seed=1]/out.json', 'out/train[p=0.5,seed=2]/out.json']);
  const file = join(p.dir, 'out', 'train[p=0.5,seed=1]', 'out.json');
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { value: 11.5 });
  assert.equal((await stat(file)).mode & 0o777, 0o644);
  // Again, after a change: the copy is replaced by the new result.
  assert.equal((await p.run('p.yaml', '--set', 'train.with.value=2')).code, 0);
  const again = await p.cli('export', 'train[p=0.5,seed=1]', 'p.yaml', '--to', 'out', '--set', 'train.with.value=2');
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { value: 12.5 });
});

test('export says which instances are not up to date and exits 1; a bad selection is a user error', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  assert.equal((await p.run('p.yaml', '--only', 'download')).code, 0);
  const r = await p.cli('export', 'download', 'p.yaml', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as { exported: { id: string; output: string; path: string }[] }).exported.map((e) => [e.id, e.output, e.path]), [['download', 'out', join(p.dir, 'results', 'download', 'out.json')]]);
  const partial = await p.cli('export', 'corrupt', 'p.yaml');
  assert.equal(partial.code, 1);
  assert.match(partial.stderr, /2 not up to date, not exported \(run `rethink run p.yaml` first\):\n {2}corrupt\[p=0\]: never run\n {2}corrupt\[p=0\.5\]: never run/);
  const bad = await p.cli('export', 'nope', 'p.yaml');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /"nope" matches no stage/);
});

test('export --to an existing file, or a path through one, or onto a directory in the way, is a user error (exit 2)', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP, 'notes.txt': 'mine\n' });
  assert.equal((await p.run('p.yaml', '--only', 'download')).code, 0);
  const file = await p.cli('export', 'download', 'p.yaml', '--to', 'notes.txt');
  assert.equal(file.code, 2, file.stderr);
  assert.equal(file.stderr, 'error[E_EXPORT_TO]: --to notes.txt: it is a file, not a directory\n  = pass a directory to export into (it is created if missing), e.g. --to results\n');
  assert.equal(await readFile(join(p.dir, 'notes.txt'), 'utf8'), 'mine\n', 'the file is left alone');
  const through = await p.cli('export', 'download', 'p.yaml', '--to', 'notes.txt/out');
  assert.equal(through.code, 2, through.stderr);
  assert.match(through.stderr, /^error\[E_EXPORT_TO\]: cannot export to notes\.txt\/out: a part of the path is a file, not a directory \(ENOTDIR\)\n/);
  await mkdir(join(p.dir, 'out', 'download', 'out.json'), { recursive: true });
  const inTheWay = await p.cli('export', 'download', 'p.yaml', '--to', 'out');
  assert.equal(inTheWay.code, 2, inTheWay.stderr);
  assert.match(inTheWay.stderr, /^error\[E_EXPORT_TO\]: cannot export to out\/download\/out\.json: a directory is in the way/);
});
