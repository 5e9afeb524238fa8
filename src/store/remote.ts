// A remote tier for the store: a place a team shares results through, beside each user's local
// cache. Two kinds: an S3 bucket (`s3://bucket/prefix`, any S3-compatible server) and a directory
// (a shared filesystem, `file:///path` or a plain path). Both hold the local store's layout:
// `objects/ab/cdef…` (immutable, named by their SHA-256) and `runs/ab/cdef….json` (one record per
// cache key, uploaded after every object it names, so its presence is the commit marker).
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile, readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { UserError } from '../util/user-error.js';
import type { S3Timeouts } from '../util/s3.js';
import { sweepByAge, TMP_GRACE_MS } from './tmp-dir.js';

/** Paths are relative to the remote's root, always with forward slashes. */
export interface Remote {
  /** As the user wrote it, normalised (shown in messages and summaries). */
  readonly url: string;
  /** The object's bytes, or undefined when there is no such object. */
  get(path: string): Promise<Readable | undefined>;
  getText(path: string): Promise<string | undefined>;
  has(path: string): Promise<boolean>;
  putFile(path: string, file: string, size: number): Promise<void>;
  putText(path: string, text: string): Promise<void>;
  /** Every file under a folder (`runs`, `objects`), with its size and when it was last written. */
  list(folder: string): AsyncIterable<RemoteEntry>;
  /** Deletes these files; one that is already gone is no error. */
  remove(paths: readonly string[]): Promise<void>;
  /**
   * Deletes what writers that are gone left in the remote's tmp/, and says how many (directory
   * remotes; an S3 upload is never visible before it completes). Never fails.
   */
  sweepTmp?(now?: number): Promise<number>;
}

export interface RemoteEntry {
  /** Relative to the remote's root, like the paths the other methods take. */
  readonly path: string;
  readonly size: number;
  readonly modifiedMs: number;
}

const FORMS = 's3://bucket[/prefix] (any S3-compatible server; AWS_ENDPOINT_URL_S3 names a non-AWS one), file:///dir, or a directory path';

export interface OpenRemoteOptions {
  /** For an S3 remote (default: DEFAULT_S3_TIMEOUTS); a directory remote has none (see remote-timeouts.ts). */
  readonly timeouts?: S3Timeouts;
  /** The command's: an S3 remote abandons its calls in flight when it aborts. */
  readonly signal?: AbortSignal;
}

/** Parses `--remote` / RETHINK_REMOTE; a bad value is a user error that names the valid forms. */
export async function openRemote(spec: string, cwd: string, origin: string, options: OpenRemoteOptions = {}): Promise<Remote> {
  const value = spec.trim();
  if (/^s3:\/\//i.test(value)) {
    const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/i.exec(value);
    if (!m) throw UserError.of('E_BAD_REMOTE', `${origin} "${spec}" is not a valid S3 location`, `expected ${FORMS}`);
    const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
    const { S3Remote } = await import('./s3.js');
    return new S3Remote(m[1]!, prefix, options);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !/^file:\/\//i.test(value)) {
    throw UserError.of('E_BAD_REMOTE', `${origin} "${spec}": unsupported scheme`, `expected ${FORMS}`);
  }
  if (value === '') throw UserError.of('E_BAD_REMOTE', `${origin} is empty`, `expected ${FORMS}`);
  const dir = /^file:\/\//i.test(value) ? fileURLToPath(value) : isAbsolute(value) ? value : resolve(cwd, value);
  return new DirRemote(dir);
}

/**
 * A directory on a shared filesystem; writes go through a temp file and a rename. No timeouts and no
 * signal: a hung NFS mount is the kernel's to time out (mount options), and Node cannot cancel a
 * filesystem call in flight.
 */
export class DirRemote implements Remote {
  readonly url: string;

  constructor(private readonly root: string) {
    this.url = root;
  }

  private file(path: string): string {
    return join(this.root, ...path.split('/'));
  }

  async get(path: string): Promise<Readable | undefined> {
    const file = this.file(path);
    const info = await stat(file).catch(() => undefined);
    return info?.isFile() ? createReadStream(file, { highWaterMark: 1 << 20 }) : undefined;
  }

  async getText(path: string): Promise<string | undefined> {
    return readFile(this.file(path), 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
  }

  async has(path: string): Promise<boolean> {
    return (await stat(this.file(path)).catch(() => undefined))?.isFile() === true;
  }

  async putFile(path: string, file: string): Promise<void> {
    await this.atomically(path, (tmp) => pipeline(createReadStream(file), createWriteStream(tmp, { flags: 'wx' })));
  }

  async putText(path: string, text: string): Promise<void> {
    await this.atomically(path, (tmp) => writeFile(tmp, text, { flag: 'wx' }));
  }

  async *list(folder: string): AsyncIterable<RemoteEntry> {
    // Walked by hand: Dirent.parentPath (for readdir's recursive mode) is newer than Node 20.0.
    const walk = async function* (dir: string, rel: string): AsyncIterable<RemoteEntry> {
      for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const file = join(dir, entry.name);
        if (entry.isDirectory()) yield* walk(file, `${rel}/${entry.name}`);
        else if (entry.isFile()) {
          const info = await stat(file).catch(() => undefined);
          if (info) yield { path: `${rel}/${entry.name}`, size: info.size, modifiedMs: info.mtimeMs };
        }
      }
    };
    yield* walk(this.file(folder), folder);
  }

  async remove(paths: readonly string[]): Promise<void> {
    for (const path of paths) await rm(this.file(path), { force: true });
  }

  /**
   * Hosts share this directory and cannot see each other's processes, so a tmp/ file's age alone
   * says its writer is gone: an upload in progress writes its file continuously, and one not written
   * for an hour was killed.
   */
  async sweepTmp(now = Date.now()): Promise<number> {
    return sweepByAge(join(this.root, 'tmp'), TMP_GRACE_MS, now);
  }

  private async atomically(path: string, write: (tmp: string) => Promise<void>): Promise<void> {
    const dest = this.file(path);
    const tmpDir = join(this.root, 'tmp');
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, `put-${randomBytes(8).toString('hex')}`);
    try {
      await write(tmp);
      await mkdir(join(dest, '..'), { recursive: true });
      await rename(tmp, dest);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }
}

/** A remote call failed for a reason other than "no such object" (credentials, network, a full disk). */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';
}

/** Where the store keeps an object or a run record, locally and remotely alike. */
export const objectPathOf = (hash: string) => `objects/${hash.slice(0, 2)}/${hash.slice(2)}`;
export const runPathOf = (key: string) => `runs/${key.slice(0, 2)}/${key.slice(2)}.json`;
// What distributed executors keep on the remote beside results, all under a stage key and deleted
// once its run record is written (or by `gc --remote` when left behind):
/** The job spec a coordinator publishes for `rethink exec --key` on another machine. */
export const jobFolderOf = (key: string) => `jobs/${key}`;
export const jobSpecPathOf = (key: string) => `${jobFolderOf(key)}/spec.json`;
/** The stage's last progress update, written by the job (throttled), read by the coordinator. */
export const jobProgressPathOf = (key: string) => `${jobFolderOf(key)}/progress.json`;
/** One file per attempt that started: where it ran (host, worker, engine job id) and when. */
export const jobAttemptPathOf = (key: string, attempt: string) => `${jobFolderOf(key)}/attempts/${attempt}.json`;
/** A training's checkpoint files, copied up after each save so that another machine can resume. */
export const checkpointFolderOf = (key: string) => `checkpoints/${key}`;
