// What a plugin loaded from a path runs: its module, every local module it imports (static imports,
// re-exports, and dynamic imports of a literal path), transitively, and the version of every npm
// package they import. The key holds a hash of all of it, so editing a helper a plugin imports, or
// upgrading a package it uses, reruns its stages. Hashing the plugin's own file alone would not.
// Imports are found by es-module-lexer (the lexer Vite uses), not by evaluating anything, and
// remembered per file content (util/file-memo.ts): planning an unchanged plugin again reads them back
// instead of loading the lexer and its WebAssembly (about 10 ms of a no-op rerun).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { dirname, extname, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { canonicalJson } from '../util/canonical-json.js';
import { FileMemo } from '../util/file-memo.js';
import { installedVersion } from '../util/installed-version.js';

export interface CodeClosure {
  /** SHA-256 of the canonical JSON of `files`. */
  readonly hash: string;
  /**
   * Local files by path relative to the plugin's folder → the first 16 hex digits of their SHA-256,
   * and `npm:<package>` → its version (`?` where it cannot be found).
   */
  readonly files: Readonly<Record<string, string>>;
}

const BUILTIN = new Set(builtinModules);
/** Files whose imports are followed; others (JSON, WebAssembly…) are hashed only. */
const SCRIPT = new Set(['.js', '.mjs', '.cjs']);

/** The closure of `entry` (an absolute path). Throws if the entry itself cannot be read. */
export async function codeClosure(entry: string): Promise<CodeClosure> {
  const root = dirname(entry);
  const files: Record<string, string> = {};
  const seen = new Set<string>();
  const visit = async (file: string, required: boolean): Promise<void> => {
    if (seen.has(file)) return;
    seen.add(file);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (e) {
      if (required) throw e;
      return; // an import that does not resolve fails when the plugin loads, not here
    }
    const sha = createHash('sha256').update(bytes).digest('hex');
    files[relative(root, file).split(sep).join('/')] = sha.slice(0, 16);
    if (!SCRIPT.has(extname(file))) return;
    for (const specifier of (await importsOf(sha, bytes)) ?? []) {
      if (specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('/') || specifier.startsWith('file:')) {
        const target = specifier.startsWith('file:') ? fileURLToPath(specifier) : fileURLToPath(new URL(specifier, pathToFileURL(file)));
        await visit(target, false);
      } else if (!specifier.startsWith('node:') && !BUILTIN.has(specifier)) {
        const name = packageName(specifier);
        files[`npm:${name}`] ??= installedVersion(name, file) ?? '?';
      }
    }
  };
  await visit(entry, true);
  const sorted = Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1)));
  return { hash: createHash('sha256').update(canonicalJson(sorted)).digest('hex'), files: sorted };
}

/** What an answer of importsOf depends on besides the bytes: these rules (bump on a change) and the lexer's version. */
const RULES = 'imports-1';
let memo: FileMemo<readonly string[] | null> | undefined;
let lexerVersion: string | undefined;

/**
 * The literal specifiers a module's static imports, re-exports and dynamic imports name (an
 * `import(expression)` cannot be known without running it; `import.meta` is no import), in source
 * order; null for a file the lexer cannot read as ESM (CommonJS: hashed, not followed).
 */
async function importsOf(sha: string, bytes: Buffer): Promise<readonly string[] | null> {
  memo ??= new FileMemo('imports');
  lexerVersion ??= installedVersion('es-module-lexer', fileURLToPath(import.meta.url)) ?? '?';
  const key = FileMemo.key(RULES, lexerVersion, sha);
  const known = memo.get(key);
  if (known !== undefined) return known.value;
  const { init, parse } = await import('es-module-lexer');
  await init;
  let specifiers: string[] | null;
  try {
    const imports = parse(bytes.toString('utf8'))[0] as readonly { readonly specifier?: string | null | undefined }[];
    specifiers = imports.flatMap(({ specifier }) => (typeof specifier === 'string' ? [specifier] : []));
  } catch {
    specifiers = null;
  }
  memo.set(key, specifiers);
  return specifiers;
}

/** `lodash/fp` → `lodash`; `@scope/pkg/x` → `@scope/pkg`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}
