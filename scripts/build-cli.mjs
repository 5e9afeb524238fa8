#!/usr/bin/env node
// Bundles the CLI that `npx rethink` runs (package.json "bin") into a few ES-module files, after tsc
// has compiled dist/. Part of `npm run build`.
//
// Why: a no-op rerun is mostly Node's start-up and module loading. Unbundled, the CLI's first
// command loads ~77 of our modules, each resolved, read (an asynchronous file read each), linked and
// compiled by Node's ES-module loader; bundled, the same code is one entry file and the chunks its
// lazy `import()`s need. Measured on the 512-stage sweep of `npm run bench:dag`, quiet machine,
// alternating runs: 267 → 251 ms median wall clock (−6%). A V8 code cache on top was measured too
// (scripts/profile/code-cache.mjs) and is not used; see README "Performance".
//
// - esbuild: fast, well kept, and already installed for tsx and vite; a dev dependency only (the
//   published package ships the bundle).
// - npm packages stay external (resolved from node_modules at run time, as before).
// - Code splitting keeps each lazy `import()` lazy: the heavy parts (a stage's session, the backends,
//   the remote tier, the UI server) are chunks loaded only by the commands that use them.
// - The entry and its chunks sit in dist/src/bin/, at the same depth as dist/src/<room>/, so the
//   paths our modules find relative to their own file (the package root, the CLI entry a subprocess
//   runner spawns) resolve the same bundled or not.
// - The library entry points (`rethink-ml`, `rethink-ml/testing`) and the tests use tsc's modules as
//   they are; test/cli/bundled-bin.test.ts runs this bundle as a user does.
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/src/bin`;
rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { rethink: 'dist/src/cli/main.js' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: '[name]-[hash]',
  sourcemap: 'linked',
  sourcesContent: false, // the maps point at tsc's modules, which ship beside them
  logLevel: 'warning',
  metafile: true,
});
chmodSync(`${outdir}/rethink.js`, 0o755);
const files = Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js'));
console.log(`bundled the CLI: dist/src/bin/rethink.js and ${files.length - 1} chunks`);
