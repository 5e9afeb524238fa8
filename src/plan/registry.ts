// Where plugins come from: the built-ins in stages/, or a module path given in `uses:`.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Plugin } from '../plugin/types.js';
import { codeClosure, type CodeClosure } from './code-closure.js';
import { GPU_NEEDS } from './resources.js';
import { prepareTypeScript } from './typescript.js';

export type Resolved =
  | { readonly ok: true; readonly plugin: Plugin<never>; readonly code?: CodeClosure }
  | { readonly ok: false; readonly message: string; readonly hint: string };

export interface PluginRegistry {
  resolve(uses: string, baseDir: string): Promise<Resolved>;
  /** Built-in names, for hints and `rethink plugins`. */
  names(): readonly string[];
}

export type PluginLoader = () => Promise<Plugin<never>>;

/** A loader from a dynamic import of a descriptor module: `lazy(async () => (await import('./x.js')).x)`. */
export const lazy =
  <T>(get: () => Promise<T>): PluginLoader =>
  async () =>
    (await get()) as unknown as Plugin<never>;

export function isPathRef(uses: string): boolean {
  return uses.startsWith('./') || uses.startsWith('../') || isAbsolute(uses);
}

/** A registry over named lazy loaders (the built-ins) plus module paths. Rejects duplicate names. */
export function createRegistry(...sources: readonly Readonly<Record<string, PluginLoader>>[]): PluginRegistry {
  const loaders = new Map<string, PluginLoader>();
  for (const source of sources) {
    for (const [name, load] of Object.entries(source)) {
      if (loaders.has(name)) throw new Error(`plugin "${name}" is registered twice`);
      loaders.set(name, load);
    }
  }
  const cache = new Map<string, Promise<Resolved>>();
  return {
    names: () => [...loaders.keys()].sort(),
    resolve(uses, baseDir) {
      const id = isPathRef(uses) ? resolve(baseDir, uses) : uses;
      let r = cache.get(id);
      if (!r) {
        r = isPathRef(uses) ? loadModule(id, uses) : loadNamed(uses, loaders);
        cache.set(id, r);
      }
      return r;
    },
  };
}

async function loadNamed(name: string, loaders: ReadonlyMap<string, PluginLoader>): Promise<Resolved> {
  const load = loaders.get(name);
  if (!load) return { ok: false, message: `unknown plugin "${name}"`, hint: `built-in plugins: ${[...loaders.keys()].sort().join(', ')}; or a path like ./my-plugin.js` };
  const plugin = await load();
  if (plugin.name !== name) throw new Error(`built-in plugin registered as "${name}" names itself "${plugin.name}"`);
  return { ok: true, plugin };
}

async function loadModule(file: string, uses: string): Promise<Resolved> {
  let code: CodeClosure;
  try {
    code = await codeClosure(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, message: `plugin module ${uses} not found (${file})`, hint: 'paths in `uses:` are relative to the pipeline file' };
    return { ok: false, message: `plugin module ${uses} cannot be read (${(e as Error).message})`, hint: 'it must be a readable ES module file' };
  }
  const ts = await prepareTypeScript(file);
  if (!ts.ok) return { ok: false, message: `plugin module ${uses} cannot be loaded: ${ts.message}`, hint: ts.hint };
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const missing = code === 'ERR_MODULE_NOT_FOUND' ? /Cannot find package '([^']+)'/.exec((e as Error).message)?.[1] : undefined;
    const hint = missing !== undefined ? `it imports the package ${missing}: npm install ${missing} in the project` : 'it must be an ES module exporting `plugin`';
    return { ok: false, message: `plugin module ${uses} failed to load: ${(e as Error).message}`, hint };
  }
  // A .ts plugin in a CommonJS project (npm init's "type": "commonjs") comes through tsx as one
  // CommonJS module: its exports are the default export's properties.
  const cjs = mod.default !== null && typeof mod.default === 'object' ? (mod.default as Record<string, unknown>).plugin : undefined;
  const candidate = mod.plugin ?? cjs ?? mod.default;
  const problem = describeProblem(candidate);
  if (problem) return { ok: false, message: `plugin module ${uses} ${problem}`, hint: 'export const plugin = { name, version, description, params, inputs, outputs, run }' };
  return { ok: true, plugin: candidate as Plugin<never>, code };
}

function describeProblem(p: unknown): string | undefined {
  if (p === null || typeof p !== 'object') return 'exports no `plugin` (or default) object';
  const o = p as Record<string, unknown>;
  for (const [k, t] of [['name', 'string'], ['version', 'string'], ['run', 'function'], ['params', 'object'], ['inputs', 'object'], ['outputs', 'object']] as const) {
    if (typeof o[k] !== t) return `exports a plugin whose "${k}" is not a ${t}`;
  }
  // What the executors route by: a typo here would silently send a GPU training to a CPU worker.
  if (o.cores !== undefined && o.cores !== 'all' && !(Number.isInteger(o.cores) && (o.cores as number) >= 1)) {
    return `exports a plugin whose "cores" is ${JSON.stringify(o.cores)}, not a whole number ≥ 1 or "all"`;
  }
  if (o.gpu !== undefined && !(GPU_NEEDS as readonly unknown[]).includes(o.gpu)) {
    return `exports a plugin whose "gpu" is ${JSON.stringify(o.gpu)}, not one of ${GPU_NEEDS.map((g) => `"${g}"`).join(', ')}`;
  }
  return undefined;
}
