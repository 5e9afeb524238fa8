// A plugin loaded from a path, carried to the machines that run its jobs by hash. The coordinator
// uploads the plugin's code closure (plan/code-closure.ts: its module and every local module it
// imports) as one JSON bundle, `code/<closure-hash>.json`; a worker downloads it, writes it under its
// cache (`code/<hash>/…`), recomputes the closure there and imports the plugin only if the hash is
// the one the job's key holds. So a worker runs exactly the code the key names, or nothing; whether
// it runs path plugins at all is its own choice (`--allow-plugin-code`, or a spec signed by a trusted
// key: see run-spec.ts and spec-signing.ts).
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { codeClosure } from '../plan/code-closure.js';
import type { Remote } from '../store/remote.js';
import { errorText } from '../util/error-text.js';

export const PLUGIN_CODE_FORMAT = 'rethink-plugin-code/1';

/** Where the remote keeps a plugin's code bundle. */
export const pluginCodePathOf = (hash: string) => `code/${hash}.json`;

/** The bundle: the closure's files by path relative to their common folder, base64, and which is the plugin. */
interface CodeBundle {
  readonly format: typeof PLUGIN_CODE_FORMAT;
  readonly hash: string;
  readonly entry: string;
  readonly files: Readonly<Record<string, string>>;
}

/**
 * Uploads the code closure of the plugin `uses` (a path relative to `baseDir`, as in `uses:`) unless
 * the remote has it, and returns its hash (the `plugin.code` of its job specs).
 */
export async function publishPluginCode(remote: Remote, baseDir: string, uses: string): Promise<string> {
  const entry = resolve(baseDir, uses);
  const closure = await codeClosure(entry);
  const path = pluginCodePathOf(closure.hash);
  if (await remote.has(path)) return closure.hash;
  const local = Object.keys(closure.files)
    .filter((f) => !f.startsWith('npm:'))
    .map((f) => resolve(dirname(entry), f));
  const root = commonFolder(local);
  const files: Record<string, string> = {};
  for (const file of local) files[slash(relative(root, file))] = (await readFile(file)).toString('base64');
  const bundle: CodeBundle = { format: PLUGIN_CODE_FORMAT, hash: closure.hash, entry: slash(relative(root, entry)), files };
  await remote.putText(path, JSON.stringify(bundle));
  return closure.hash;
}

/** Why a bundle could not be used; run-spec.ts turns it into a refusal. */
export class PluginCodeError extends Error {
  override readonly name = 'PluginCodeError';

  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

/**
 * The plugin of code closure `hash`, written under `cacheDir/code/<hash>/` (downloaded from the
 * remote the first time, checked against the hash): `uses` and `baseDir` for the registry.
 */
export async function fetchPluginCode(remote: Remote, cacheDir: string, hash: string): Promise<{ readonly uses: string; readonly baseDir: string }> {
  const dir = join(cacheDir, 'code', hash);
  const known = await readFile(join(dir, INDEX), 'utf8').then((t) => (JSON.parse(t) as { entry: string }).entry, () => undefined);
  if (known !== undefined) return { uses: `./${known}`, baseDir: dir };
  const where = `${remote.url}/${pluginCodePathOf(hash)}`;
  let text: string | undefined;
  try {
    text = await remote.getText(pluginCodePathOf(hash));
  } catch (e) {
    throw new PluginCodeError(`cannot read the plugin's code from ${where}: ${errorText(e)}`, 'check the remote and this machine\'s access to it');
  }
  if (text === undefined) throw new PluginCodeError(`the plugin's code is not on the remote: no ${where}`, 'the coordinator uploads it before it starts the job (rethink run --executor queue|slurm); run the pipeline again with this rethink version');
  const bundle = parseBundle(text, where);
  await mkdir(join(cacheDir, 'code'), { recursive: true });
  const staging = join(cacheDir, 'code', `.tmp-${hash.slice(0, 12)}-${randomBytes(6).toString('hex')}`);
  try {
    for (const [path, content] of Object.entries(bundle.files)) {
      const file = join(staging, ...path.split('/'));
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, Buffer.from(content, 'base64'), { flag: 'wx' });
    }
    await check(bundle, staging, hash, where);
    await writeFile(join(staging, INDEX), JSON.stringify({ entry: bundle.entry }));
    try {
      await rename(staging, dir);
    } catch (e) {
      // Another job on this cache wrote it first: the same bytes, by their hash.
      if (!(await stat(join(dir, INDEX)).then(() => true, () => false))) throw e;
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return { uses: `./${bundle.entry}`, baseDir: dir };
}

/** Written last into a plugin's folder: which file is the plugin (its presence says the folder is complete). */
const INDEX = '.rethink-code.json';

function parseBundle(text: string, where: string): CodeBundle {
  const bad = (why: string) => new PluginCodeError(`the plugin code bundle ${where} ${why}`, 'delete it; the coordinator uploads it again on its next run');
  let raw: Partial<CodeBundle>;
  try {
    raw = JSON.parse(text) as Partial<CodeBundle>;
  } catch {
    throw bad('is not JSON');
  }
  if (raw.format !== PLUGIN_CODE_FORMAT || typeof raw.entry !== 'string' || raw.files === null || typeof raw.files !== 'object') throw bad(`is not a ${PLUGIN_CODE_FORMAT} bundle`);
  for (const [path, content] of Object.entries(raw.files)) {
    // Paths stay inside the plugin's folder: no absolute ones, no `..`, nothing hidden that would pass for the index.
    if (isAbsolute(path) || path.split('/').some((s) => s === '' || s === '.' || s === '..' || s.startsWith('.rethink')) || path.includes('\\')) throw bad(`names a file outside its folder: ${JSON.stringify(path)}`);
    if (typeof content !== 'string') throw bad(`has a file that is not base64 text: ${path}`);
  }
  if (!(raw.entry in raw.files)) throw bad(`does not hold its entry ${raw.entry}`);
  return raw as CodeBundle;
}

/** The written copy is the closure `hash` names, and holds nothing else. */
async function check(bundle: CodeBundle, folder: string, hash: string, where: string): Promise<void> {
  const entry = join(folder, ...bundle.entry.split('/'));
  const closure = await codeClosure(entry);
  const expected = new Set(Object.keys(bundle.files).map((f) => slash(relative(dirname(entry), join(folder, ...f.split('/'))))));
  const reached = Object.keys(closure.files).filter((f) => !f.startsWith('npm:'));
  const extra = [...expected].filter((f) => !reached.includes(f));
  if (closure.hash === hash && extra.length === 0) return;
  const unresolved = Object.entries(closure.files).filter(([f, v]) => f.startsWith('npm:') && v === '?').map(([f]) => f.slice(4));
  throw new PluginCodeError(
    `the plugin code ${where} is not the code the job's key names: it hashes to ${closure.hash} here, not ${hash}${extra.length > 0 ? ` (it holds files the plugin does not import: ${extra.join(', ')})` : ''}`,
    unresolved.length > 0
      ? `it imports npm packages this machine cannot resolve from its cache: ${unresolved.join(', ')}; install them where rethink is installed (same versions as the coordinator's)`
      : 'someone changed it on the remote: delete it, and the coordinator uploads it again on its next run',
  );
}

function commonFolder(files: readonly string[]): string {
  let root = dirname(files[0]!);
  while (!files.every((f) => f.startsWith(root.endsWith(sep) ? root : `${root}${sep}`))) {
    const up = dirname(root);
    if (up === root) break;
    root = up;
  }
  return root;
}

const slash = (p: string) => p.split(sep).join('/');
