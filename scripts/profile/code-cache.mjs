// An experiment, not part of the build: does a V8 code cache make the CLI start faster on Node 20?
// Node 20 has no `module.enableCompileCache` (Node 22.1 has), so the only way is a CommonJS bundle
// run through `vm.Script` with `cachedData` (what the v8-compile-cache package does). This bundles
// dist/src/cli/start.js (esbuild, npm packages external) and runs the same no-op rerun with the
// ES-module CLI as built, the bundle without a cache, and the bundle through a code cache from a
// CommonJS loader and from an ES-module loader, in alternating rounds: median CPU time (perf stat
// task-clock) and, with --callgrind, one instruction count per variant. Run by hand:
//   KEEP=1 node scripts/bench-dag.mjs 1 --no-snakemake   # keeps /tmp/rethink-bench-dag-XXXX: the sweep, its cache
//   node scripts/profile/code-cache.mjs /tmp/rethink-bench-dag-XXXX [rounds=9] [--callgrind]
// Under valgrind V8 sees other CPU features and rejects a cache written by a native run, so the
// callgrind pass writes its own first. esbuild is not a dependency of ours: it comes with vite.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { init, parse } from 'es-module-lexer';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { callgrind: { type: 'boolean', default: false } } });
const [benchDir, roundsArg = '9'] = positionals;
if (benchDir === undefined) throw new Error('usage: node scripts/profile/code-cache.mjs BENCH_DIR [rounds=9] [--callgrind]');
const rounds = Number(roundsArg);

const root = fileURLToPath(new URL('../../', import.meta.url));
// Two levels under dist/src, as every module that finds a path relative to `import.meta.url` is,
// and inside the package, so that npm packages resolve from the same node_modules.
const outDir = join(root, 'dist/src/code-cache-experiment');
const bundle = join(outDir, 'cli.cjs');
const cacheFile = join(outDir, 'cli.v8cache');

/** A loader: reads the bundle and its cache, compiles, runs, and writes the cache at exit if it had none. */
const loaderBody = `const file = ${JSON.stringify(bundle)}, cacheFile = ${JSON.stringify(cacheFile)};
const useCache = process.env.CODE_CACHE === '1';
let cachedData;
if (useCache) try { cachedData = readFileSync(cacheFile); } catch {}
const script = new Script('(function (exports, require, module, __filename, __dirname, __import) {' + readFileSync(file, 'utf8') + '\\n})', { filename: file, ...(cachedData ? { cachedData } : {}) });
if (useCache && (cachedData === undefined || script.cachedDataRejected)) process.on('exit', () => {
  writeFileSync(cacheFile + '.tmp', script.createCachedData());
  renameSync(cacheFile + '.tmp', cacheFile);
});
const bundled = { exports: {} };
script.runInThisContext().call(bundled.exports, bundled.exports, createRequire(file), bundled, file, ${JSON.stringify(outDir)}, (s) => import(s));
`;

mkdirSync(outDir, { recursive: true });
try {
  const built = await build({
    entryPoints: [join(root, 'dist/src/cli/start.js')], bundle: true, platform: 'node', format: 'cjs', packages: 'external',
    write: false, logLevel: 'error',
    define: { 'import.meta.url': '__importMetaUrl' },
    banner: { js: 'const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  });
  // V8 refuses a dynamic import() in a script compiled from a code cache (without
  // --experimental-vm-modules): each one (found by a lexer, so never one in a string or a comment)
  // calls the loader's import() instead, which resolves from the same directory.
  let source = built.outputFiles[0].text.replace(/^#!.*\n/, '');
  await init;
  const [imports] = parse(source);
  for (const { importStart } of imports.filter((i) => i.type === 'dynamic').sort((a, b) => b.importStart - a.importStart)) {
    source = `${source.slice(0, importStart)}__import${source.slice(importStart + 'import'.length)}`;
  }
  writeFileSync(bundle, source);
  writeFileSync(join(outDir, 'loader.cjs'), `const { readFileSync, writeFileSync, renameSync } = require('node:fs');
const { Script } = require('node:vm');
const { createRequire } = require('node:module');
${loaderBody}`);
  writeFileSync(join(outDir, 'loader.mjs'), `import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { Script } from 'node:vm';
import { createRequire } from 'node:module';
${loaderBody}`);

  const env = { ...process.env, RETHINK_CACHE_DIR: join(benchDir, 'cache') };
  delete env.NODE_EXTRA_CA_CERTS; // as bench:dag does: parsing it costs every process ≈ 0.4 G instructions
  const variants = {
    'ES modules (as built)': { entry: join(root, 'dist/src/cli/main.js'), env },
    'bundle, no cache': { entry: join(outDir, 'loader.cjs'), env: { ...env, CODE_CACHE: '0' } },
    'bundle+cache, CJS loader': { entry: join(outDir, 'loader.cjs'), env: { ...env, CODE_CACHE: '1' } },
    'bundle+cache, ESM loader': { entry: join(outDir, 'loader.mjs'), env: { ...env, CODE_CACHE: '1' } },
  };
  const args = (entry) => ['--no-warnings', entry, 'run', 'sweep.yaml', '--json'];
  const check = (stdout, name) => {
    if (JSON.parse(stdout).stages.some((s) => s.status !== 'cached')) throw new Error(`${name}: a no-op rerun ran a stage`);
  };

  rmSync(cacheFile, { force: true });
  for (const [name, v] of Object.entries(variants)) check(execFileSync(process.execPath, args(v.entry), { cwd: benchDir, env: v.env, encoding: 'utf8', maxBuffer: 1 << 26 }), name);

  const cpu = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, v] of Object.entries(variants)) {
      const p = spawnSync('perf', ['stat', '-x,', '-e', 'task-clock', process.execPath, ...args(v.entry)], { cwd: benchDir, env: v.env, encoding: 'utf8', maxBuffer: 1 << 26 });
      if (p.status !== 0) throw new Error(`${name}: perf stat failed: ${p.stderr}`);
      check(p.stdout, name);
      cpu[name].push(Number(p.stderr.trim().split('\n').at(-1).split(',')[0]));
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const [name, xs] of Object.entries(cpu)) console.log(`${name.padEnd(26)} CPU ${median(xs).toFixed(0)} ms median of ${rounds} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`);
  console.log(`load average ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}; bundle ${(source.length / 1024).toFixed(0)} KiB, code cache ${(readFileSync(cacheFile).length / 1024).toFixed(0)} KiB`);

  if (values.callgrind) {
    const count = (name, v) => {
      const p = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, ...args(v.entry)], { cwd: benchDir, env: v.env, encoding: 'utf8', maxBuffer: 1 << 26 });
      const m = /Collected : (\d+)/.exec(p.stderr);
      if (m === null) throw new Error(`${name}: callgrind failed: ${p.stderr.slice(-2000)}`);
      return Number(m[1]);
    };
    rmSync(cacheFile, { force: true });
    count('write the cache under valgrind', variants['bundle+cache, CJS loader']);
    for (const [name, v] of Object.entries(variants)) console.log(`${name.padEnd(26)} ${(count(name, v) / 1e9).toFixed(3)} G instructions`);
  }
} finally {
  rmSync(outDir, { recursive: true, force: true });
}
