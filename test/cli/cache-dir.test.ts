import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { project, SWEEP, TEST_PLUGINS } from '../support/tmp-project.js';

test('an empty --cache-dir or RETHINK_CACHE_DIR is a user error that names it, for every command that takes it', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  for (const command of [['run', 'p.yaml'], ['status', 'p.yaml'], ['show', 'download', 'p.yaml'], ['verify', 'p.yaml'], ['runs'], ['gc']]) {
    for (const value of ['', '  ']) {
      const r = await p.cli(...command, '--cache-dir', value);
      assert.equal(r.code, 2, `${command[0]} --cache-dir '${value}': ${r.stderr}`);
      assert.match(r.stderr, /error\[E_BAD_CACHE_DIR\]: --cache-dir is empty: that would put the cache in the current directory/);
    }
  }
  const env = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP }, { RETHINK_CACHE_DIR: '' });
  for (const command of [['run', 'p.yaml'], ['gc']]) {
    const r = await env.cli(...command);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /error\[E_BAD_CACHE_DIR\]: RETHINK_CACHE_DIR is set but empty/);
    assert.match(r.stderr, /unset RETHINK_CACHE_DIR for the default \.\/cache/);
  }
  assert.equal((await env.cli('run', 'p.yaml', '--cache-dir', 'c')).code, 0, 'the flag overrides the empty variable');
  for (const dir of [p.dir, env.dir]) assert.deepEqual((await readdir(dir)).sort(), dir === env.dir ? ['c', 'p.yaml', 'plugins.mjs'] : ['p.yaml', 'plugins.mjs']);
});

test('gc refuses a directory rethink did not mark as its cache, and deletes nothing in it', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  // The case: gc pointed at the project itself, which holds the user's own objects/ab/cdef.
  const old = new Date(Date.now() - 30 * 24 * 3600 * 1000);
  await mkdir(join(p.dir, 'objects', 'ab'), { recursive: true });
  await writeFile(join(p.dir, 'objects', 'ab', 'cdef'), 'the user\'s data');
  await utimes(join(p.dir, 'objects', 'ab', 'cdef'), old, old);
  for (const argv of [['--cache-dir', '.'], ['--cache-dir', p.dir], ['p.yaml', '--cache-dir', '.']]) {
    const r = await p.cli('gc', ...argv);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /error\[E_NOT_A_CACHE\]: .* is not a rethink cache \(no marker .*CACHEDIR\.TAG\); refusing to delete anything/);
    assert.match(r.stderr, /its next `rethink run` adds it/);
  }
  assert.equal(await readFile(join(p.dir, 'objects', 'ab', 'cdef'), 'utf8'), "the user's data");

  // Another tool's cache directory tag is not ours either.
  await writeFile(join(p.dir, 'CACHEDIR.TAG'), 'Signature: 8a477f597d28d172789f06886806bc55\n# made by another tool\n');
  const foreign = await p.cli('gc', '--cache-dir', '.');
  assert.equal(foreign.code, 2);
  assert.match(foreign.stderr, /CACHEDIR\.TAG was not written by rethink\); refusing to delete anything/);
  assert.equal(await readFile(join(p.dir, 'objects', 'ab', 'cdef'), 'utf8'), "the user's data");

  const nowhere = await p.cli('gc', '--cache-dir', 'cahce');
  assert.equal(nowhere.code, 2);
  assert.match(nowhere.stderr, /cahce is not a rethink cache \(no such directory\); refusing to delete anything/);
});

test('run marks its cache (a cache directory tag backup tools skip); gc works there, and in an older cache once run marks it', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  assert.equal((await p.run('p.yaml')).code, 0);
  const marker = join(p.dir, 'cache', 'CACHEDIR.TAG');
  const text = await readFile(marker, 'utf8');
  assert.match(text, /^Signature: 8a477f597d28d172789f06886806bc55\n/);
  assert.match(text, /^# rethink-store: \{"format":1\}$/m);
  assert.equal((await p.cli('gc')).code, 0);

  // A cache an older rethink made: runs/ and objects/, no marker. gc refuses until a run (all cached) marks it.
  await rm(marker);
  assert.equal((await p.cli('gc')).code, 2);
  const again = await p.run('p.yaml');
  assert.ok(Object.values(again.status).every((s) => s === 'cached'));
  assert.equal(await readFile(marker, 'utf8'), text);
  const r = await p.cli('gc', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { keptRuns: number }).keptRuns, 8);
});

test('run with the project as its cache uses it but never marks it, so gc still refuses; gc in a marked cache deletes only what the store named', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  const old = new Date(Date.now() - 30 * 24 * 3600 * 1000);
  await mkdir(join(p.dir, 'objects', 'ab'), { recursive: true });
  await writeFile(join(p.dir, 'objects', 'ab', 'cdef'), "the user's data");
  const r = await p.cli('run', 'p.yaml', '--cache-dir', '.');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /holds files that are not rethink's: it is used as the cache but not marked as one/);
  assert.equal((await readdir(p.dir)).includes('CACHEDIR.TAG'), false);
  const refused = await p.cli('gc', '--cache-dir', '.');
  assert.equal(refused.code, 2, refused.stderr);
  assert.equal(await readFile(join(p.dir, 'objects', 'ab', 'cdef'), 'utf8'), "the user's data");

  // A marked cache: a stray file under objects/ that no store would name survives gc.
  assert.equal((await p.run('p.yaml')).code, 0);
  await mkdir(join(p.dir, 'cache', 'objects', 'ab'), { recursive: true });
  await writeFile(join(p.dir, 'cache', 'objects', 'ab', 'notes.txt'), 'mine');
  await utimes(join(p.dir, 'cache', 'objects', 'ab', 'notes.txt'), old, old);
  assert.equal((await p.cli('gc')).code, 0);
  assert.equal(await readFile(join(p.dir, 'cache', 'objects', 'ab', 'notes.txt'), 'utf8'), 'mine');
});
