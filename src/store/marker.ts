// The file that makes a directory a rethink cache: `CACHEDIR.TAG`, which backup tools that honour
// the cache directory tag convention (https://bford.info/cachedir/) skip, with a line of our own that
// says rethink made it and in which layout. `gc` deletes only where this file is: a cache directory
// that is wrongly the current directory, or a user's own, is never emptied.
import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const MARKER_FILE = 'CACHEDIR.TAG';
/** The layout of the store (objects/, runs/, refs/, leases/, checkpoints/, tmp/). */
export const STORE_FORMAT = 1;

const SIGNATURE = 'Signature: 8a477f597d28d172789f06886806bc55';
const OURS = /^# rethink-store: (\{.*\})$/m;

const markerText = () =>
  `${SIGNATURE}\n` +
  '# This directory is a rethink cache: results that `rethink run` recomputes if they are lost.\n' +
  '# Backup tools that honour cache directory tags skip it; see https://bford.info/cachedir/\n' +
  `# rethink-store: ${JSON.stringify({ format: STORE_FORMAT })}\n`;

/** Why a directory is not a cache gc may delete in; undefined when it is one. */
export type NotACache = 'no-directory' | 'missing' | 'foreign' | { readonly newerFormat: number };

export async function checkMarker(dir: string): Promise<NotACache | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, MARKER_FILE), 'utf8');
  } catch {
    return (await stat(dir).catch(() => undefined))?.isDirectory() ? 'missing' : 'no-directory';
  }
  const line = text.startsWith(SIGNATURE) ? OURS.exec(text) : null;
  if (!line) return 'foreign'; // another tool's cache directory tag
  try {
    const { format } = JSON.parse(line[1]!) as { format?: unknown };
    if (typeof format !== 'number') return 'foreign';
    return format > STORE_FORMAT ? { newerFormat: format } : undefined;
  } catch {
    return 'foreign';
  }
}

/** What a store's directory holds (an older rethink's cache has these and no marker yet). */
const STORE_ENTRIES = new Set(['objects', 'runs', 'refs', 'leases', 'checkpoints', 'progress', 'tmp', 'quarantine', MARKER_FILE]);

/**
 * Writes the marker unless it is there, and only in a directory that holds nothing but a store's
 * entries: a cache dir pointed at a project (`--cache-dir .`) is used, but never marked, so gc
 * refuses it. Written aside in `tmpDir` and renamed, so it is whole or absent. Says whether the
 * directory is marked.
 */
export async function ensureMarker(dir: string, tmpName: string): Promise<boolean> {
  const path = join(dir, MARKER_FILE);
  if ((await readFile(path, 'utf8').catch(() => undefined)) !== undefined) return true;
  if ((await readdir(dir)).some((name) => !STORE_ENTRIES.has(name))) return false;
  await writeFile(tmpName, markerText(), { flag: 'wx' });
  await rename(tmpName, path);
  return true;
}

/** gc was pointed at a directory without the marker; the CLI turns this into a user error. */
export class NotACacheError extends Error {
  override readonly name = 'NotACacheError';

  constructor(
    readonly dir: string,
    readonly why: NotACache,
  ) {
    super(`${dir} is not a rethink cache (${describe(dir, why)}); refusing to delete anything`);
  }
}

function describe(dir: string, why: NotACache): string {
  const file = join(dir, MARKER_FILE);
  if (why === 'no-directory') return 'no such directory';
  if (why === 'missing') return `no marker ${file}`;
  if (why === 'foreign') return `${file} was not written by rethink`;
  return `${file} says store format ${why.newerFormat}, newer than this rethink's ${STORE_FORMAT}`;
}
