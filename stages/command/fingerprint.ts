// What a command stage reads outside the store, as a key field: the content of its `files:` (globs
// expanded with picomatch, sorted) and what `version_cmd` prints. `status` names the entry that moved.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import picomatch from 'picomatch';
import type { JsonValue } from '../../src/plugin/types.js';
import type { CommandParams } from './params.js';
import { splitShellWords } from '../../src/util/shell.js';
import { hermeticEnv } from './env.js';

/** `files.<path>` → SHA-256 (null: a listed file that is not there), `version` → version_cmd's output. */
export async function commandFingerprint(params: Readonly<CommandParams>, baseDir: string): Promise<JsonValue> {
  const files: Record<string, string | null> = {};
  for (const [path, hash] of await hashFiles(params.files, baseDir)) files[path] = hash;
  return { files, ...(params.version_cmd === null ? {} : { version: await versionOf(params.version_cmd, baseDir) }) };
}

/** Every file the patterns name, relative to `baseDir` with `/`, sorted, with its SHA-256 (null: missing). */
export async function hashFiles(patterns: readonly string[], baseDir: string): Promise<[string, string | null][]> {
  const paths = new Set<string>();
  for (const pattern of patterns) for (const p of await expand(pattern, baseDir)) paths.add(p);
  const sorted = [...paths].sort();
  return Promise.all(sorted.map(async (p): Promise<[string, string | null]> => [p, await sha256(join(baseDir, p))]));
}

/** A literal path (a file, or every file under a folder; itself when missing), or a glob's matches. */
async function expand(pattern: string, baseDir: string): Promise<string[]> {
  const scan = picomatch.scan(pattern);
  if (!scan.isGlob) {
    const info = await stat(join(baseDir, pattern)).catch(() => undefined);
    if (info?.isDirectory()) return (await filesUnder(baseDir, pattern)).sort();
    return [posix.normalize(pattern)];
  }
  const isMatch = picomatch(pattern);
  return (await filesUnder(baseDir, scan.base)).filter((p) => isMatch(p));
}

async function filesUnder(baseDir: string, folder: string): Promise<string[]> {
  const root = join(baseDir, folder);
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => relative(baseDir, join(e.parentPath, e.name)).split(sep).join('/'));
}

async function sha256(path: string): Promise<string | null> {
  try {
    return createHash('sha256').update(await readFile(path)).digest('hex');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Asked once per process and folder: status and run look a stage up more than once. */
const versions = new Map<string, Promise<string>>();

function versionOf(command: string, baseDir: string): Promise<string> {
  const id = `${baseDir}\0${command}`;
  let v = versions.get(id);
  if (v === undefined) versions.set(id, (v = askVersion(command, baseDir)));
  return v;
}

/** What the command prints (stdout, then stderr: `python2 --version` writes there), trimmed; or why it failed. */
function askVersion(command: string, baseDir: string): Promise<string> {
  const [file, ...args] = splitShellWords(command);
  return new Promise((resolve) => {
    execFile(file!, args, { cwd: baseDir, env: hermeticEnv({}), timeout: 60_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      const text = `${stdout}${stderr}`.trim();
      // A failure is part of the fingerprint too: installing the tool later changes the key.
      resolve(error ? `version_cmd failed: ${error.message.split('\n')[0]}${text ? `: ${text}` : ''}` : text);
    });
  });
}
