// TypeScript plugins without a loader flag. Before a `.ts` plugin module is imported: where Node runs
// TypeScript itself (type stripping, Node 22.6+ when enabled, on by default from 23.6) nothing is
// needed; otherwise rethink registers tsx's hooks in this process, once, taking tsx from the
// plugin's own project (`npm install -D tsx` there), so that every command (run, status, show,
// results, a worker's exec) imports it the same way. Without either, the caller gets what to do.
// The hooks come from importing tsx's main entry, which is what `node --import tsx` does: its
// `tsx/esm/api` register() reached through require-resolution is the CommonJS build, whose
// module.register() looks for its worker beside itself and fails (tsx 4.23).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const TS_FILE = /\.[cm]?ts$/;

/** Ready: the module can be imported; otherwise why not and what to do. */
export type TypeScriptSupport = { readonly ok: true } | { readonly ok: false; readonly message: string; readonly hint: string };

/** Whether this Node imports TypeScript by itself (process.features.typescript: 'strip' | 'transform'). */
export function nodeRunsTypeScript(features: object = process.features): boolean {
  const ts = (features as { typescript?: unknown }).typescript;
  return ts === 'strip' || ts === 'transform';
}

/** tsx's hooks, being registered or registered: once per process. */
let registered: Promise<void> | undefined;

/**
 * Makes `file` importable when it is TypeScript. `resolveFrom` finds a package as the plugin's own
 * imports would (injectable for tests); tsx's hooks, once registered, serve every later .ts import.
 */
export async function prepareTypeScript(
  file: string,
  resolveFrom: (pkg: string, from: string) => string = (pkg, from) => createRequire(from).resolve(pkg),
  features: object = process.features,
): Promise<TypeScriptSupport> {
  if (!TS_FILE.test(file) || nodeRunsTypeScript(features)) return { ok: true };
  if (registered === undefined) {
    let entry: string;
    try {
      entry = resolveFrom('tsx', file);
    } catch {
      return {
        ok: false,
        message: `it is TypeScript, which Node ${process.versions.node} does not run by itself, and tsx is not installed in its project`,
        hint: 'install tsx there (npm install -D tsx) and rethink loads it by itself; or use Node 23.6+, or compile the plugin and name the .js in `uses:`',
      };
    }
    registered = import(pathToFileURL(entry).href).then(() => undefined);
  }
  try {
    await registered;
  } catch (e) {
    registered = undefined; // a later plugin tries again
    return { ok: false, message: `tsx did not start: ${(e as Error).message}`, hint: 'reinstall tsx in the project (npm install -D tsx)' };
  }
  return { ok: true };
}
