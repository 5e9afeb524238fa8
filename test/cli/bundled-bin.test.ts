// The bundled CLI (dist/src/bin/rethink.js, package.json's "bin"; scripts/build-cli.mjs) as a user
// runs it: the other CLI tests import tsc's modules in-process, so this file is what proves that the
// bundle computes what they compute, finds the package's files from its own location and starts
// itself, not tsc's modules, in the processes it spawns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compiledBin, project, SWEEP, TEST_PLUGINS } from '../support/tmp-project.js';

const root = join(compiledBin(), '..', '..', '..', '..');
const bin = join(root, 'dist', 'src', 'bin', 'rethink.js');

function rethink(cwd: string, ...argv: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...argv], { cwd, encoding: 'utf8', env: { ...process.env, RETHINK_CACHE_DIR: join(cwd, 'cache') } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('package.json names the bundle as the rethink executable', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  assert.equal(join(root, pkg.bin['rethink']!), bin);
});

test('the bundled CLI keys and finds the results the in-process CLI computed, and reruns nothing', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  const first = await p.run('p.yaml');
  assert.equal(first.code, 0, first.stderr);
  assert.ok(first.doc.stages.every((s) => s.status === 'ran'));
  const r = rethink(p.dir, 'run', 'p.yaml', '--json');
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as typeof first.doc;
  assert.deepEqual(doc.stages.map((s) => [s.id, s.key, s.status]), first.doc.stages.map((s) => [s.id, s.key, 'cached']));
});

test('the bundled CLI finds the package root from its own location', async () => {
  const p = await project({});
  const r = rethink(p.dir, 'doctor', '--json');
  const report = JSON.parse(r.stdout) as { rethink: { package: string; root: string } };
  assert.equal(report.rethink.package, 'rethink-ml');
  assert.equal(report.rethink.root.replace(/\/$/, ''), root.replace(/\/$/, ''));
});

test('the bundled CLI starts the bundled CLI for a subprocess stage', async () => {
  const argv1 = `export const plugin = {
    name: 'argv1', version: '1', description: 'records the script its process runs',
    params: { type: 'object', properties: {} }, inputs: {}, outputs: { out: { kind: 'json' } },
    run: (ctx) => ctx.writeJson('out', { script: process.argv[1] }),
  };\n`;
  const p = await project({ 'argv1.mjs': argv1, 'p.yaml': 'stages:\n  who: { uses: ./argv1.mjs }\n' });
  const r = rethink(p.dir, 'run', 'p.yaml', '--executor', 'subprocess', '--json');
  assert.equal(r.code, 0, r.stderr);
  const hash = (JSON.parse(r.stdout) as { stages: { outputs: Record<string, string> }[] }).stages[0]!.outputs['out']!;
  const out = JSON.parse(readFileSync(join(p.dir, 'cache', 'objects', hash.slice(0, 2), hash.slice(2)), 'utf8')) as { script: string };
  assert.equal(out.script, bin);
});

test('a user error from the bundled CLI exits 2 and names the file and field', async () => {
  const p = await project({ 'p.yaml': 'stages:\n  a: { uses: ./nowhere.mjs, wiht: {} }\n' });
  const r = rethink(p.dir, 'validate', 'p.yaml');
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /p\.yaml/);
  assert.match(r.stderr, /wiht/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace for a user error');
});

// A bundle merges modules into chunks, and a chunk loads every package any of its modules imports at
// the top: a merge that put a module importing tfjs (or the S3 SDK, or BullMQ) beside one the no-op
// rerun needs would load it on every rerun. This watches the bundle itself load.
test('a no-op rerun through the bundled CLI loads no npm package and only a few of its chunks', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  assert.equal((await p.run('p.yaml')).code, 0);
  const log = join(p.dir, 'loaded.txt');
  const hook = `import { appendFileSync } from 'node:fs';
    export async function load(url, context, next) { appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, context); }`;
  const setup = `import { register, createRequire } from 'node:module'; import { appendFileSync } from 'node:fs';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
    process.on('exit', () => appendFileSync(${JSON.stringify(log)}, Object.keys(createRequire(import.meta.url).cache).join('\\n') + '\\n'));`;
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(setup)}`, bin, 'run', 'p.yaml', '--json'], {
    cwd: p.dir,
    encoding: 'utf8',
    env: { ...process.env, RETHINK_CACHE_DIR: join(p.dir, 'cache') },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.ok((JSON.parse(r.stdout) as { stages: { status: string }[] }).stages.every((s) => s.status === 'cached'));
  const loaded = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  const ours = loaded.filter((u) => u.includes('/dist/src/bin/'));
  assert.ok(ours.some((u) => u.endsWith('/dist/src/bin/rethink.js')), 'the hook saw the bundle load');
  assert.deepEqual(loaded.filter((u) => u.includes('/node_modules/')), [], 'no npm package is loaded');
  assert.deepEqual(loaded.filter((u) => u.includes('/dist/src/') && !u.includes('/dist/src/bin/')), [], 'no tsc module is loaded beside the bundle');
  // 23 files today (36 with esbuild's chunking): a regression to one file per module would show here.
  assert.ok(new Set(ours).size <= 30, `the bundle loaded ${new Set(ours).size} of its files`);
});
