import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { userCacheDir } from '../../src/util/cache-home.js';
import { compiledBin, project, TEST_PLUGINS } from '../support/tmp-project.js';

test('machine-level caches live under $XDG_CACHE_HOME/rethink, else ~/.cache/rethink', () => {
  assert.equal(userCacheDir({ XDG_CACHE_HOME: '/var/cache/me' }), '/var/cache/me/rethink');
  assert.equal(userCacheDir({}), join(homedir(), '.cache', 'rethink'));
  assert.equal(userCacheDir({ XDG_CACHE_HOME: '' }), join(homedir(), '.cache', 'rethink'));
  // The XDG spec: a relative path is invalid and is ignored.
  assert.equal(userCacheDir({ XDG_CACHE_HOME: 'relative/cache' }), join(homedir(), '.cache', 'rethink'));
});

test('compiled schema validators are cached under $XDG_CACHE_HOME/rethink/validators, not inside the package', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': 'stages:\n  a: { uses: ./plugins.mjs, with: { value: 1 } }\n' });
  const xdg = await mkdtemp(join(tmpdir(), 'rethink-xdg-'));
  const { RETHINK_VALIDATOR_CACHE: _unset, ...env } = process.env;
  const code = await new Promise<number | null>((done, fail) => {
    const child = spawn(process.execPath, [compiledBin(), 'validate', 'p.yaml'], { cwd: p.dir, env: { ...env, XDG_CACHE_HOME: xdg }, stdio: 'ignore' });
    child.on('error', fail);
    child.on('exit', done);
  });
  assert.equal(code, 0);
  // Compiled validators, and the stamp of their directory's last trim (util/trim-stale.ts).
  const cached = (await readdir(join(xdg, 'rethink', 'validators'))).filter((f) => f !== '.trimmed');
  assert.ok(cached.length > 0 && cached.every((f) => f.endsWith('.cjs')), cached.join(', '));
});
