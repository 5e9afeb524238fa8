// What a running stage is doing, for other processes that read the cache (`rethink ui`):
// `progress/<key>.json`, rewritten as the stage reports progress (temp file + rename, so a reader
// never sees half a file), deleted when the stage's result is stored, left saying `failed` when it
// failed (until the key runs again). Not a result: nothing ever reads it to decide what to run. A
// stage is running while its key's lease is held (leases.ts), not while its file exists: a run that
// was killed leaves a file that no lease backs, which readers ignore, and `rethink gc` deletes.
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProgressUpdate } from '../plugin/types.js';
import { tmpName } from './tmp-dir.js';

export const PROGRESS_DIR = 'progress';

export interface ProgressFile {
  readonly format: 1;
  readonly key: string;
  /** The instance id, e.g. `train[model=mlp_1x512,seed=0]`. */
  readonly id: string;
  /** The pipeline file's absolute path. */
  readonly pipeline: string;
  /** When the stage started (ISO 8601). */
  readonly startedAt: string;
  /** When this update was written. */
  readonly at: string;
  readonly update: ProgressUpdate;
  /** When each finished epoch ended (training stages), for an ETA from measured epoch times. */
  readonly epochEndedAt: readonly string[];
  /** Where it runs, when not in the process that writes this (a worker, a Slurm node). */
  readonly where?: string;
  /** Set when the stage failed: why. */
  readonly failed?: string;
}

const KEY = /^[0-9a-f]{64}$/;

export const progressDirOf = (cacheDir: string): string => join(cacheDir, PROGRESS_DIR);
export const progressFileOf = (cacheDir: string, key: string): string => join(progressDirOf(cacheDir), `${key}.json`);

/** The key a `<key>.json` name in progress/ (or leases/) is about; undefined for anything else there (temp files). */
export function keyOfJsonName(name: string): string | undefined {
  const key = name.endsWith('.json') ? name.slice(0, -'.json'.length) : '';
  return KEY.test(key) ? key : undefined;
}

/** Written aside in the cache's tmp/ (named for this process, so a killed one's leftovers are swept), then renamed into place. */
export async function writeProgressFile(cacheDir: string, doc: ProgressFile): Promise<void> {
  const dir = progressDirOf(cacheDir);
  const tmpDir = join(cacheDir, 'tmp');
  await Promise.all([mkdir(dir, { recursive: true }), mkdir(tmpDir, { recursive: true })]);
  const tmp = join(tmpDir, tmpName('w'));
  try {
    await writeFile(tmp, `${JSON.stringify(doc)}\n`);
    await rename(tmp, progressFileOf(cacheDir, doc.key));
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export async function removeProgressFile(cacheDir: string, key: string): Promise<void> {
  await rm(progressFileOf(cacheDir, key), { force: true });
}

/** A progress file's contents, or undefined when it is gone or not one. */
export async function readProgressFile(path: string): Promise<ProgressFile | undefined> {
  try {
    const doc = JSON.parse(await readFile(path, 'utf8')) as Partial<ProgressFile>;
    return doc.format === 1 && typeof doc.key === 'string' && KEY.test(doc.key) && typeof doc.id === 'string' && Array.isArray(doc.epochEndedAt) ? (doc as ProgressFile) : undefined;
  } catch {
    return undefined;
  }
}

export interface ProgressSweep {
  readonly now: number;
  /** A killed run's report older than this goes. */
  readonly graceMs: number;
  /** A failed stage's report (what `rethink ui` shows until the key runs again) older than this goes. */
  readonly failedGraceMs: number;
  /** Whether a live process holds the key's lease: its stage is running, and its report stays. */
  readonly running: (key: string) => Promise<boolean>;
  readonly dryRun: boolean;
}

/**
 * For `rethink gc`: deletes the progress reports no running stage backs any more (a killed run's,
 * past `graceMs`; a failed stage's, past `failedGraceMs`), and returns how many it deleted (or would).
 */
export async function sweepProgressFiles(cacheDir: string, o: ProgressSweep): Promise<number> {
  const dir = progressDirOf(cacheDir);
  let swept = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const key = keyOfJsonName(name);
    if (key === undefined || (await o.running(key))) continue;
    const path = join(dir, name);
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) continue;
    const failed = (await readProgressFile(path))?.failed !== undefined;
    if (o.now - st.mtimeMs < (failed ? o.failedGraceMs : o.graceMs)) continue;
    if (!o.dryRun) await rm(path, { force: true });
    swept++;
  }
  return swept;
}
