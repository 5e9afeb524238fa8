#!/usr/bin/env node
// Bundles the CLI that `npx rethink` runs (package.json "bin") into a few ES-module files, after tsc
// has compiled dist/. Part of `npm run build`.
//
// Why: a no-op rerun is mostly Node's start-up and module loading. Unbundled, the CLI's first
// command loads ~77 of our modules, each resolved, read (an asynchronous file read each), linked and
// compiled by Node's ES-module loader; bundled, the same code is the entry file and the chunks its
// lazy `import()`s need. Measured on the 512-stage sweep of `npm run bench:dag`:
// - unbundled → esbuild's bundle (35 files loaded): 267 → 251 ms median wall clock (−6%), quiet machine;
// - esbuild's → rolldown's (22 files; 23 with the compile-cache entry, main.ts): 0.580 → 0.557 G
//   instructions (−4%, callgrind, three runs each). esbuild puts every module shared by two lazy
//   entries in a chunk of its own; rolldown merges the chunks that are always loaded together.
// A V8 code cache on top was measured too (scripts/profile/code-cache.mjs) and is not used; see
// README "Performance".
//
// - rolldown: Vite's bundler (vite 8 builds the web app with it), well kept, a dev dependency only
//   (the published package ships the bundle).
// - npm packages and Node's builtins stay external (resolved from node_modules at run time, as before).
// - Code splitting keeps each lazy `import()` lazy: the heavy parts (a stage's session, the backends,
//   the remote tier, the UI server) are chunks loaded only by the commands that use them.
// - The entry and its chunks sit in dist/src/bin/, at the same depth as dist/src/<room>/, so the
//   paths our modules find relative to their own file (the package root, the CLI entry a subprocess
//   runner spawns) resolve the same bundled or not.
// - Source maps lead to the TypeScript sources: tsc's maps are read with each module and chained.
// - The library entry points (`rethink-ml`, `rethink-ml/testing`) and the tests use tsc's modules as
//   they are; test/cli/bundled-bin.test.ts runs this bundle as a user does.
import { rolldown } from 'rolldown';
import { chmodSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, 'dist/src/bin');

/** Hands rolldown each module with tsc's source map, so that the bundle's maps point at the .ts files. */
const tscSourceMaps = {
  name: 'tsc-source-maps',
  load(id) {
    if (!id.endsWith('.js')) return null;
    const code = readFileSync(id, 'utf8');
    const url = /\n\/\/# sourceMappingURL=([^\s]+)\s*$/.exec(code)?.[1];
    if (url === undefined || url.startsWith('data:')) return null;
    return { code, map: readFileSync(join(dirname(id), url), 'utf8') };
  },
};

rmSync(outdir, { recursive: true, force: true });
const bundle = await rolldown({
  cwd: root,
  input: { start: 'dist/src/cli/start.js' },
  platform: 'node',
  // Everything that is not one of our files: npm packages and node: builtins.
  external: (id) => !id.startsWith('.') && !isAbsolute(id),
  plugins: [tscSourceMaps],
  logLevel: 'warn',
});
const { output } = await bundle.write({
  dir: outdir,
  format: 'es',
  entryFileNames: '[name].js',
  chunkFileNames: '[name]-[hash].js',
  sourcemap: true,
  sourcemapExcludeSources: true, // the maps point at tsc's sources, which ship beside them
});
await bundle.close();
// The executable is tsc's main.js as it is: it turns on Node's compile cache, then imports ./start.js,
// which is the bundle's entry here as it is tsc's module beside it. (Bundled as a second entry, it
// would make start.js a dynamic import inside the graph, and rolldown would split what a rerun loads
// into 36 files instead of 23.)
const main = readFileSync(join(root, 'dist/src/cli/main.js'), 'utf8');
writeFileSync(join(outdir, 'rethink.js'), main.replace(/sourceMappingURL=main\.js\.map\s*$/, 'sourceMappingURL=rethink.js.map\n'));
copyFileSync(join(root, 'dist/src/cli/main.js.map'), join(outdir, 'rethink.js.map'));
chmodSync(join(outdir, 'rethink.js'), 0o755);
const chunks = output.filter((o) => o.type === 'chunk');
console.log(`bundled the CLI: dist/src/bin/rethink.js, start.js and ${chunks.length - 1} chunks`);
