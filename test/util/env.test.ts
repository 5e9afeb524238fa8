import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { checkEnvironment, ENV, ENVIRONMENT } from '../../src/util/env.js';
import { envMarkdownTable } from '../../src/util/env-table.js';
import { UserError } from '../../src/util/user-error.js';
import { compiledBin, project } from '../support/tmp-project.js';

const ROOT = join(compiledBin(), '..', '..', '..', '..');
const BEGIN = /<!-- env-table:begin[^>]*-->\n/;
const END = '<!-- env-table:end -->';

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sources(path)));
    else if (/\.(ts|mjs|sh|py)$/.test(e.name)) out.push(path);
  }
  return out;
}

test("the README's environment table is exactly the declared variables, as `rethink help env --markdown` renders them", async () => {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const begin = BEGIN.exec(readme);
  assert.ok(begin, 'the README has an env-table:begin marker');
  const table = readme.slice(begin.index + begin[0].length, readme.indexOf(END)).trimEnd();
  assert.equal(table, envMarkdownTable(), 'regenerate it: node dist/src/cli/main.js help env --markdown');
  const listed = [...table.matchAll(/^\| `([A-Z_0-9]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual(listed, ENVIRONMENT.map((v) => v.name));
  for (const name of ['RETHINK_NATIVE_ARENA', 'RETHINK_NATIVE_SPIN', 'RETHINK_NATIVE_THREADS', 'RETHINK_VALIDATOR_CACHE']) assert.ok(listed.includes(name), name);
});

test('every RETHINK_* variable the code names is declared in util/env.ts, and every declared one is used', async () => {
  const named = new Map<string, string>();
  for (const dir of ['src', 'stages', 'scripts']) {
    for (const file of await sources(join(ROOT, dir))) {
      if (file.endsWith(join('util', 'env.ts'))) continue;
      for (const m of (await readFile(file, 'utf8')).matchAll(/\bRETHINK_[A-Z0-9_]*[A-Z0-9]\b/g)) named.set(m[0], relative(ROOT, file));
    }
  }
  const declared = new Set(ENVIRONMENT.map((v) => v.name));
  const undeclared = [...named].filter(([name]) => !declared.has(name)).map(([name, file]) => `${name} (${file})`);
  assert.deepEqual(undeclared, [], 'declare these in src/util/env.ts');
  // And no stale declaration: each of rethink's own is read (or set) through its getter somewhere.
  const code = (await Promise.all([...(await sources(join(ROOT, 'src'))), ...(await sources(join(ROOT, 'stages')))].map((f) => readFile(f, 'utf8')))).join('\n');
  const unused = Object.entries(ENV).filter(([key, v]) => v.name.startsWith('RETHINK_') && !code.includes(`ENV.${key}.`)).map(([key, v]) => `${key} (${v.name})`);
  assert.deepEqual(unused, [], 'declared but never read through ENV');
});

test('typed getters: defaults when unset or empty, parsed values, and a malformed value names the variable and what is valid', () => {
  assert.equal(ENV.nativeThreads.read({}), undefined);
  assert.equal(ENV.nativeThreads.read({ RETHINK_NATIVE_THREADS: ' 3 ' }), 3);
  assert.equal(ENV.fusedSgd.read({}), true);
  assert.equal(ENV.fusedSgd.read({ RETHINK_FUSED_SGD: '0' }), false);
  assert.equal(ENV.fusedBn.read({ RETHINK_FUSED_BN: 'off' }), false);
  assert.equal(ENV.nativeArena.read({ RETHINK_NATIVE_ARENA: 'yes' }), true);
  assert.equal(ENV.remoteIdleTimeout.read({ RETHINK_REMOTE_IDLE_TIMEOUT: '2m' }), 120_000);
  assert.equal(ENV.remoteIdleTimeout.read({ RETHINK_REMOTE_IDLE_TIMEOUT: '' }), 30_000);
  assert.equal(ENV.checkpointSeconds.read({ RETHINK_CHECKPOINT_SECONDS: 'off' }), null);
  assert.equal(ENV.cacheDir.read({ RETHINK_CACHE_DIR: '' }), '', 'text is taken as written: the caller refuses an empty cache dir itself');
  assert.throws(
    () => ENV.nativeThreads.read({ RETHINK_NATIVE_THREADS: 'many' }),
    (e: unknown) => e instanceof UserError && e.diagnostics[0]?.code === 'E_BAD_ENV' && /^RETHINK_NATIVE_THREADS=many: expected a whole number ≥ 1$/.test(e.message) && /all cores/.test(e.diagnostics[0]?.hint ?? ''),
  );
  assert.throws(() => ENV.nativeSpin.read({ RETHINK_NATIVE_SPIN: 'maybe' }), /RETHINK_NATIVE_SPIN=maybe: expected on \(1, true, yes\) or off \(0, false, no\)/);
  // All the bad ones at once.
  assert.throws(
    () => checkEnvironment({ RETHINK_NATIVE_THREADS: '0', RETHINK_WEBGPU_TUNE: 'yes', RETHINK_BACKEND: 'anything' }),
    (e: unknown) => e instanceof UserError && e.diagnostics.map((d) => d.message.split(':')[0]).join(' ') === 'RETHINK_NATIVE_THREADS=0 RETHINK_WEBGPU_TUNE=yes',
  );
});

test('a malformed variable stops a command with exit code 2 before it does anything; rethink help env lists every variable', async () => {
  const p = await project({ 'p.yaml': 'stages: {}\n' }, { RETHINK_NATIVE_THREADS: 'many', RETHINK_CHECKPOINT_SECONDS: '-1' });
  const r = await p.cli('status', 'p.yaml');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /error\[E_BAD_ENV\]: RETHINK_CHECKPOINT_SECONDS=-1: expected a number of seconds ≥ 0, or off/);
  assert.match(r.stderr, /error\[E_BAD_ENV\]: RETHINK_NATIVE_THREADS=many: expected a whole number ≥ 1\n {2}= unset RETHINK_NATIVE_THREADS for the default \(all cores\)/);
  const help = await p.cli('help', 'env');
  assert.equal(help.code, 0);
  assert.deepEqual([...help.stdout.matchAll(/^([A-Z][A-Z_0-9]+)$/gm)].map((m) => m[1]), ENVIRONMENT.map((v) => v.name));
});
