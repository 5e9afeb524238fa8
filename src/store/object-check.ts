// Whether a file in the local store holds the bytes its name promises. An object is named by the
// SHA-256 of its content, so a reader can check it; this does, once per file version per process:
// a file's identity (device, inode, size, modification and change times) is remembered after it
// hashed right, and the next read of the same, untouched file costs one lstat.
import { createHash } from 'node:crypto';
import { constants, createReadStream, lstatSync, openSync, type Stats } from 'node:fs';
import type { ObjectHash } from '../util/brand.js';
import { errorText } from '../util/error-text.js';

/** What a check found: the right bytes, no file at all, or a file that must not be read. */
export type FileCheck =
  | { readonly status: 'ok' }
  | { readonly status: 'missing' }
  /** `identity`: of the file version found bad, so that a copy published since is not moved away. */
  | { readonly status: 'corrupt'; readonly reason: string; readonly identity: string };

/** What `Store.verifyObject` found; a bad object has been moved out of the way where it was local. */
export type ObjectCheck =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** Why, in words: "its bytes hash to 3f2a…", "a symbolic link, not a file", "missing". */
      readonly reason: string;
      /** Nothing there: not corrupt, just gone (deleted by hand, or quarantined by another reader). */
      readonly missing?: true;
      /** Where a corrupt local object was moved (under the store's quarantine/). */
      readonly quarantined?: string;
      /** Set when the bad copy was the shared remote's. */
      readonly remote?: string;
      /** The remote's bad copy is replaced when its producer's recomputed result is uploaded. */
      readonly reupload?: true;
    };

/** A read found an object whose bytes are not what its name says; it is no longer in the store. */
export class CorruptObjectError extends Error {
  override readonly name = 'CorruptObjectError';

  constructor(
    readonly hash: ObjectHash,
    readonly reason: string,
    readonly quarantined?: string,
  ) {
    super(`cache object ${hash} is corrupt (${reason})${quarantined ? `; moved to ${quarantined}` : ''}: run the pipeline again to recompute it`);
  }
}

export class ObjectVerifier {
  /** Path → identity of the file version that last hashed right. */
  private readonly good = new Map<string, string>();
  /** How many files were hashed (a test seam: a memoised read must not hash). */
  hashed = 0;

  /** Checks `path` against `hash` (and the size a run record gives, where known). */
  async check(path: string, hash: ObjectHash, size?: number): Promise<FileCheck> {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) return { status: 'missing' };
    const id = identity(st);
    const shape = shapeProblem(st, size);
    if (shape !== undefined) return { status: 'corrupt', reason: shape, identity: id };
    if (this.good.get(path) === id) return { status: 'ok' };
    let digest: string;
    try {
      digest = await this.hash(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' };
      return { status: 'corrupt', reason: `unreadable: ${errorText(e)}`, identity: id };
    }
    if (digest !== hash) return { status: 'corrupt', reason: `its bytes hash to ${digest.slice(0, 12)}…`, identity: id };
    this.good.set(path, id);
    return { status: 'ok' };
  }

  /** A file this process has just written and hashed itself: its first read need not hash it again. */
  remember(path: string): void {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (st?.isFile()) this.good.set(path, identity(st));
  }

  /** Forgets a path (its file was moved away or replaced). */
  forget(path: string): void {
    this.good.delete(path);
  }

  private async hash(path: string): Promise<string> {
    this.hashed++;
    const h = createHash('sha256');
    // O_NOFOLLOW: a symlink swapped in after the lstat is refused, not followed.
    const stream = createReadStream(path, { fd: openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW), highWaterMark: 1 << 20 });
    for await (const chunk of stream) h.update(chunk as Buffer);
    return h.digest('hex');
  }
}

/** Why a file cannot be an object without reading it: not a plain file, or the wrong size. */
export function shapeProblem(st: Stats, size?: number): string | undefined {
  if (st.isSymbolicLink()) return 'a symbolic link, not a file';
  if (!st.isFile()) return st.isDirectory() ? 'a directory, not a file' : 'not a regular file';
  if (size !== undefined && st.size !== size) return `${st.size} bytes, its run record says ${size}`;
  return undefined;
}

/** The identity of whatever is at `path` now (not following a symlink), or undefined when nothing is. */
export function fileIdentity(path: string): string | undefined {
  const st = lstatSync(path, { throwIfNoEntry: false });
  return st && identity(st);
}

function identity(st: Stats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

/** One per process: every LocalStore shares what has been verified (a path is one store's object). */
export const objectVerifier = new ObjectVerifier();
