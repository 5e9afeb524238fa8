// What goes in a store's tmp/ and when it may go. Every entry's name says which process made it
// (`obj-<pid>-<host tag>-<start tag>-<random>`), so a sweep can tell a killed run's leftovers from
// the files of a run that is still writing: a training may fill its scratch directory for hours.
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { processStart, systemProcesses, type ProcessProbe } from '../util/process-start.js';

const HOUR_MS = 3600 * 1000;
/** A dead owner's entries, and entries that name no owner (older rethinks), stay this long. */
export const TMP_GRACE_MS = HOUR_MS;
/**
 * Entries of another host's process (a cache on a shared filesystem) stay a week: this host cannot
 * ask whether that process still runs, and its scratch directory's time says nothing of the writes
 * inside it.
 */
export const TMP_FOREIGN_GRACE_MS = 7 * 24 * HOUR_MS;

/** Object files being written, scratch directories of running stages, records being written. */
export type TmpKind = 'obj' | 'scratch' | 'w';

/** Who made a tmp/ entry, as its name says (tags, not the values). */
interface TmpOwner {
  readonly pid: number;
  readonly host: string;
  /** Tag of the process's start stamp; `x` where it was unknown. */
  readonly start: string;
}

const tagOf = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 8);
const UNKNOWN_START = 'x';
const hostTag = (host: string) => tagOf(host);
const startTag = (start: string | undefined) => (start === undefined ? UNKNOWN_START : tagOf(start));

/** A process that writes in tmp/: by default this one. */
export interface TmpWriter {
  readonly pid: number;
  readonly host: string;
  /** Its start stamp (see util/process-start.ts); undefined where unknown. */
  readonly start: string | undefined;
}

let self: TmpWriter | undefined;
const thisProcess = (): TmpWriter => (self ??= { pid: process.pid, host: hostname(), start: processStart(process.pid) });

/** `<kind>-<pid>-<host tag>-<start tag>-`: what the writer's tmp/ entries start with. */
export function tmpPrefix(kind: TmpKind, writer: TmpWriter = thisProcess()): string {
  return `${kind}-${writer.pid}-${hostTag(writer.host)}-${startTag(writer.start)}-`;
}

/** A fresh name for a tmp/ file of the writer. */
export function tmpName(kind: TmpKind, writer?: TmpWriter): string {
  return `${tmpPrefix(kind, writer)}${randomBytes(8).toString('hex')}`;
}

function ownerOf(name: string): TmpOwner | undefined {
  const m = /^[a-z]+-(\d+)-([0-9a-f]{8})-([0-9a-f]{8}|x)-/.exec(name);
  return m ? { pid: Number(m[1]), host: m[2]!, start: m[3]! } : undefined;
}

export interface TmpSweepContext {
  readonly now: number;
  readonly host?: string;
  readonly processes?: ProcessProbe;
}

/**
 * Whether a tmp/ entry last written at `mtimeMs` is a leftover: an entry of a live process of this
 * host (same start) never is, whatever its age; a dead owner's, or one that names no owner, is once
 * it is an hour old; another host's once it is a week old.
 */
export function isLeftover(name: string, mtimeMs: number, context: TmpSweepContext): boolean {
  const age = context.now - mtimeMs;
  const owner = ownerOf(name);
  if (owner === undefined) return age > TMP_GRACE_MS;
  if (owner.host !== hostTag(context.host ?? hostname())) return age > TMP_FOREIGN_GRACE_MS;
  const processes = context.processes ?? systemProcesses;
  if (processes.isAlive(owner.pid)) {
    // The same pid and, where both are known, the same start (tags of the stamps): its owner still runs.
    const start = owner.start === UNKNOWN_START ? undefined : processes.startOf(owner.pid);
    if (start === undefined || tagOf(start) === owner.start) return false;
  }
  return age > TMP_GRACE_MS;
}

/** Deletes the leftovers in a local store's tmp/; how many went. A missing or unreadable tmp/ has none. */
export async function sweepOwnedTmp(dir: string, context: TmpSweepContext): Promise<number> {
  return sweep(dir, (name, mtimeMs) => isLeftover(name, mtimeMs, context));
}

/** Deletes what is in `dir` and was last written over `maxAgeMs` ago (a directory remote's tmp/). */
export async function sweepByAge(dir: string, maxAgeMs: number, now: number): Promise<number> {
  return sweep(dir, (_name, mtimeMs) => now - mtimeMs > maxAgeMs);
}

async function sweep(dir: string, leftover: (name: string, mtimeMs: number) => boolean): Promise<number> {
  let swept = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const path = join(dir, name);
    const info = await lstat(path).catch(() => undefined);
    if (!info || !leftover(name, info.mtimeMs)) continue;
    try {
      await rm(path, { recursive: true, force: true });
      swept++;
    } catch {
      // unwritable, or taken by another sweeper: a sweep never fails the command that makes it
    }
  }
  return swept;
}

