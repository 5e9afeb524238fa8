import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { compiledBin, project, SWEEP, TEST_PLUGINS } from '../support/tmp-project.js';

// Planning, status and no-op reruns must never load the heavy libraries: they cost seconds.
test('validate, status and dag of the quick-start load no tfjs, onnxruntime, sharp or S3 SDK', () => {
  const cli = join(compiledBin(), '..', 'cli.js');
  const root = join(compiledBin(), '..', '..', '..', '..');
  const script = `
    import { createRequire } from 'node:module';
    const { main } = await import(${JSON.stringify(cli)});
    const io = { stdout() {}, stderr(t) { process.stderr.write(t); }, isTTY: false, cwd: ${JSON.stringify(root)}, env: { RETHINK_CACHE_DIR: '/nonexistent-rethink-cache' } };
    for (const cmd of ['validate', 'status', 'dag']) if ((await main([cmd], io)) !== 0) process.exit(3);
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    console.log(JSON.stringify(loaded.filter((f) => /@tensorflow|onnxruntime|sharp|@aws-sdk|webgpu/.test(f))));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), []);
});

// A no-op rerun is mostly Node's start-up and imports: the yaml package (a valid pipeline is read by
// the fast parser), js-yaml and es-module-lexer (what they found in the unchanged pipeline and plugin
// is remembered: util/file-memo.ts), graphology (a run walks its instances' inputs; the graph is for dag and validate),
// child_process (git is asked only when a stage runs), a stage's session (exec/context.js, imported
// when one runs), the diagnostics' formatter and the environment table (for errors and `help env`)
// and the remote tier's modules (no remote is set) stay unloaded.
test('a no-op rerun on the local cache loads neither the yaml package, js-yaml, es-module-lexer, graphology, child_process, a stage session nor the remote tier', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  assert.equal((await p.run('p.yaml')).code, 0);
  const cli = join(compiledBin(), '..', 'cli.js');
  const log = join(p.dir, 'loaded.txt');
  // A load hook appends every module's URL to a file before the module runs, so the file is complete
  // once the run has returned.
  const hook = `import { appendFileSync } from 'node:fs';
    export async function load(url, context, next) { appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, context); }`;
  const script = `
    import { createRequire, register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
    const { main } = await import(${JSON.stringify(cli)});
    const io = { stdout() {}, stderr(t) { process.stderr.write(t); }, isTTY: false, cwd: ${JSON.stringify(p.dir)}, env: { RETHINK_CACHE_DIR: ${JSON.stringify(join(p.dir, 'cache'))} } };
    if ((await main(['run', 'p.yaml', '--json'], io)) !== 0) process.exit(3);
    const required = Object.keys(createRequire(import.meta.url).cache).filter((f) => /node_modules\\/(yaml|js-yaml|es-module-lexer|graphology)\\//.test(f));
    console.log(JSON.stringify([...required, ...process.moduleLoadList.filter((m) => m === 'NativeModule child_process')]));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: p.dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), []);
  const loaded = readFileSync(log, 'utf8').split('\n');
  assert.ok(loaded.some((u) => u.endsWith('/exec/executor.js')), 'the hook saw the run load its modules');
  assert.deepEqual(loaded.filter((u) => /node_modules\/(yaml|js-yaml|es-module-lexer|graphology)\/|\/exec\/context\.js$|\/config\/diagnostic\.js$|\/util\/env-table\.js$|\/store\/(tiered|signing|s3)\.js$|\/cli\/remote-store\.js$/.test(u)), []);
});
