// `rethink doctor`'s checks of everything around the backends: Node and the platform, the local cache
// (where, whether it can be written, how big), the shared remote when one is configured (reachable,
// read-only), and the executor settings (Slurm, queue). Each check reports; none changes anything.
import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { arch, availableParallelism, platform, release } from 'node:os';
import { dirname, join } from 'node:path';
import type { CliIO } from '../io.js';
import { openLocalStore, remoteReadOnly } from '../workspace.js';
import { ENV } from '../../util/env.js';

export interface NodeCheck {
  readonly version: string;
  readonly platform: string;
  readonly cores: number;
}

export interface CacheCheck {
  readonly dir: string;
  /** Where the directory came from: --cache-dir, RETHINK_CACHE_DIR or the default ./cache. */
  readonly source: string;
  readonly exists: boolean;
  /** It, or the folder that would hold it, can be written. */
  readonly writable: boolean;
  readonly files: number;
  readonly bytes: number;
}

export interface RemoteCheck {
  readonly url: string;
  readonly source: string;
  readonly readOnly: boolean;
  readonly reachable: boolean;
  readonly error?: string;
}

export interface ExecutorCheck {
  readonly name: string;
  readonly source: string;
  readonly queue?: string;
  readonly slurmArgs?: string;
}

export function checkNode(): NodeCheck {
  return { version: process.versions.node, platform: `${platform()}-${arch()} ${release()}`, cores: availableParallelism() };
}

export async function checkCache(io: CliIO, cacheDir: string | undefined): Promise<CacheCheck> {
  const dir = openLocalStore(io, cacheDir).location;
  const source = cacheDir !== undefined ? '--cache-dir' : ENV.cacheDir.read(io.env) !== undefined ? ENV.cacheDir.name : 'default';
  const exists = await isDirectory(dir);
  const writable = await canWrite(exists ? dir : await nearestExisting(dir));
  const { files, bytes } = exists ? await usage(dir) : { files: 0, bytes: 0 };
  return { dir, source, exists, writable, files, bytes };
}

/** Opens the remote and asks it for one path: an answer, found or not, means it is reachable. */
export async function checkRemote(io: CliIO, flags: { readonly remote?: string | undefined; readonly 'remote-read-only'?: boolean | undefined }): Promise<RemoteCheck | undefined> {
  const spec = flags.remote ?? ENV.remote.read(io.env);
  if (spec === undefined || spec.trim() === '') return undefined;
  const source = flags.remote !== undefined ? '--remote' : ENV.remote.name;
  const readOnly = remoteReadOnly(io, flags);
  try {
    const { openSharedRemote } = await import('../remote-store.js');
    const { remote } = await openSharedRemote(io, spec, source);
    await remote.has('runs');
    return { url: remote.url, source, readOnly, reachable: true };
  } catch (e) {
    return { url: spec, source, readOnly, reachable: false, error: (e instanceof Error ? e.message : String(e)).split('\n')[0]! };
  }
}

export function checkExecutor(env: Readonly<Record<string, string | undefined>>): ExecutorCheck {
  const set = (v: { read(env: Readonly<Record<string, string | undefined>>): string | undefined }): string | undefined => v.read(env)?.trim() || undefined;
  const name = set(ENV.executor);
  const queue = set(ENV.queue);
  const slurmArgs = set(ENV.slurmArgs);
  return { name: name ?? 'local', source: name === undefined ? 'default' : ENV.executor.name, ...(queue ? { queue } : {}), ...(slurmArgs ? { slurmArgs } : {}) };
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function canWrite(path: string): Promise<boolean> {
  try {
    await access(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The closest folder above `path` that exists: where creating the cache would start. */
async function nearestExisting(path: string): Promise<string> {
  let p = dirname(path);
  while (!(await isDirectory(p)) && dirname(p) !== p) p = dirname(p);
  return p;
}

/** Files and bytes under `dir` (symbolic links are counted, not followed). */
async function usage(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const pending = [dir];
  while (pending.length > 0) {
    const d = pending.pop()!;
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      continue; // removed meanwhile, or unreadable: counted as empty
    }
    for (const e of entries) {
      const path = join(d, e.name);
      if (e.isDirectory()) pending.push(path);
      else if (e.isFile()) {
        files += 1;
        bytes += (await stat(path).catch(() => ({ size: 0 }))).size;
      }
    }
  }
  return { files, bytes };
}
