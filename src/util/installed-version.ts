// The version of an npm package as a given file would import it, read from the package's
// package.json without loading the package. Memo keys name the version of the library an answer came
// from (js-yaml, es-module-lexer, ajv), and a plugin's code closure names each package it imports.
//
// Why not only `createRequire(from).resolve('<name>/package.json')`: Node's CommonJS resolver costs
// ≈ 10 M instructions a lookup here (exports maps, a stat and a realpath per candidate, its first
// call's setup), ≈ 5% of a no-op rerun for the three a rerun asks. The common layouts (npm, yarn's
// node-modules linker, pnpm's symlinks) put the package at `<ancestor>/node_modules/<name>`, the
// first place Node's own node_modules walk looks, so that walk is done here with one read per
// ancestor (≈ 1 M instructions). Anything else (NODE_PATH, Yarn Plug'n'Play, a package.json that
// is not where the walk looks) falls back to Node's resolver.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';

interface PackageJson {
  readonly name?: unknown;
  readonly version?: unknown;
}

/**
 * The `version` of package `name` as the module at absolute path `fromFile` would resolve it, or
 * undefined where it is not installed (or its package.json names no version).
 */
export function installedVersion(name: string, fromFile: string): string | undefined {
  for (let dir = dirname(fromFile); ; ) {
    // Node does not look in node_modules/node_modules.
    if (basename(dir) !== 'node_modules') {
      const pkg = readPackageJson(join(dir, 'node_modules', name, 'package.json'));
      if (pkg !== undefined) return pkg.name === name && typeof pkg.version === 'string' ? pkg.version : resolvedVersion(name, fromFile);
    }
    const up = dirname(dir);
    if (up === dir) return resolvedVersion(name, fromFile);
    dir = up;
  }
}

function readPackageJson(path: string): PackageJson | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined; // not here (ENOENT, ENOTDIR); an unreadable one is left to Node's resolver
  }
  try {
    return JSON.parse(text) as PackageJson;
  } catch {
    return {}; // found but unreadable as JSON: Node's resolver decides
  }
}

/** Node's resolver: the package's entry, then up to the package.json that names the package. */
function resolvedVersion(name: string, fromFile: string): string | undefined {
  const require = createRequire(fromFile);
  let dir: string;
  try {
    dir = dirname(require.resolve(name));
  } catch {
    try {
      dir = dirname(require.resolve(`${name}/package.json`)); // a package without a CommonJS entry
    } catch {
      return undefined;
    }
  }
  for (;;) {
    const pkg = readPackageJson(join(dir, 'package.json'));
    if (pkg?.name === name) return typeof pkg.version === 'string' ? pkg.version : undefined;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
