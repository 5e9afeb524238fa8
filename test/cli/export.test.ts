import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
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
