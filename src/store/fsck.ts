// `rethink fsck`'s scans: every object of the local store (or of a remote) hashed against its name,
// and every run record checked for the objects it names. A bad local object is quarantined, so the
// records naming it miss and their stages compute it again. On a remote, the records naming a bad or
// missing object go first and then the bad object: uploads skip a result whose record the remote has,
// so only without the record does the next machine that computes the result upload it again.
import { createHash } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import type { CacheKey, ObjectHash } from '../util/brand.js';
import type { LocalStore } from './local.js';
import { objectVerifier } from './object-check.js';
import type { Remote } from './remote.js';
import { isRecordFor, outputObjects, recordObjects, type RunRecord } from './types.js';

export interface FsckProblem {
  /** `corrupt`: an object whose bytes are not what its name says; `missing`: a record names an absent object. */
  readonly kind: 'corrupt' | 'missing';
  readonly hash: ObjectHash;
  /** In words: "its bytes hash to 3f2a…", "a symbolic link, not a file", "not in the store". */
  readonly reason: string;
  /** For `missing`: the result whose record names it. */
  readonly record?: { readonly key: CacheKey; readonly stage: string; readonly output: string };
  /** Where a corrupt local object was moved (not in a dry run). */
  readonly quarantined?: string;
  /** On a remote (not in a dry run): the object, or the record naming it, was deleted. */
  readonly deleted?: true;
}

export interface FsckReport {
  /** The cache directory or the remote's URL. */
  readonly where: string;
  readonly objects: number;
  readonly bytes: number;
  readonly runs: number;
  readonly problems: readonly FsckProblem[];
  /** Remote run records naming a bad or missing object, deleted (or, in a dry run, to delete). */
  readonly badRuns: number;
}

/** Remote objects hashed at once, and remote records read at once. */
const TRANSFERS = 4;
const READS = 16;

export async function fsckLocal(store: LocalStore, options: { readonly dryRun: boolean }): Promise<FsckReport> {
  const problems: FsckProblem[] = [];
  const present = new Set<string>();
  let bytes = 0;
  const objects = await store.listObjects();
  for (const { hash, path } of objects) {
    present.add(hash);
    bytes += (await lstat(path).catch(() => undefined))?.size ?? 0;
    const check = await objectVerifier.check(path, hash);
    if (check.status !== 'corrupt') continue;
    const quarantined = options.dryRun ? undefined : await store.quarantine(hash, check.identity);
    problems.push({ kind: 'corrupt', hash, reason: check.reason, ...(quarantined === undefined ? {} : { quarantined }) });
  }
  const runs = await store.allRuns();
  for (const record of runs) problems.push(...missingObjects(record, present));
  return { where: store.location, objects: objects.length, bytes, runs: runs.length, problems, badRuns: 0 };
}

/**
 * Downloads every remote object (streaming: hashed, never kept) and reads every run record. A
 * remote call that fails throws (a RemoteError): nothing is deleted on the strength of a failed read.
 */
export async function fsckRemote(remote: Remote, options: { readonly dryRun: boolean }): Promise<FsckReport> {
  // Records first: an object is uploaded before the record naming it, so every object a record
  // listed now names is in the object listing that follows (a record uploaded meanwhile is not read).
  const runPaths: string[] = [];
  for await (const e of remote.list('runs')) if (RUN_PATH.test(e.path)) runPaths.push(e.path);
  const entries: { path: string; hash: ObjectHash; size: number }[] = [];
  for await (const e of remote.list('objects')) {
    const m = OBJECT_PATH.exec(e.path);
    if (m) entries.push({ path: e.path, hash: (m[1]! + m[2]!) as ObjectHash, size: e.size });
  }
  const problems: FsckProblem[] = [];
  const bad = new Set<string>();
  const badPaths: string[] = [];
  for (let i = 0; i < entries.length; i += TRANSFERS) {
    await Promise.all(
      entries.slice(i, i + TRANSFERS).map(async ({ path, hash }) => {
        const digest = await remoteHash(remote, path);
        if (digest === undefined || digest === hash) return; // deleted since the listing, or good
        bad.add(hash);
        badPaths.push(path);
        problems.push({ kind: 'corrupt', hash, reason: `its bytes hash to ${digest.slice(0, 12)}…`, ...(options.dryRun ? {} : { deleted: true as const }) });
      }),
    );
  }
  const present = new Set(entries.map((e) => e.hash).filter((h) => !bad.has(h)));
  const doomedRuns: string[] = [];
  for (let i = 0; i < runPaths.length; i += READS) {
    await Promise.all(
      runPaths.slice(i, i + READS).map(async (path) => {
        const record = parseRecord(await remote.getText(path), path);
        if (!record) return; // damaged: it is a miss already, and a rerun's upload replaces it
        const names = recordObjects(record).map((o) => o.hash);
        if (names.some((h) => !present.has(h))) doomedRuns.push(path);
        for (const p of missingObjects(record, present)) {
          if (!bad.has(p.hash)) problems.push(options.dryRun ? p : { ...p, deleted: true as const });
        }
      }),
    );
  }
  if (!options.dryRun) {
    await remote.remove(doomedRuns);
    await remote.remove(badPaths);
  }
  return { where: remote.url, objects: entries.length, bytes: entries.reduce((n, e) => n + e.size, 0), runs: runPaths.length, problems, badRuns: doomedRuns.length };
}

const OBJECT_PATH = /^objects\/([0-9a-f]{2})\/([0-9a-f]{62})$/;
const RUN_PATH = /^runs\/([0-9a-f]{2})\/([0-9a-f]{62})\.json$/;

function missingObjects(record: RunRecord, present: ReadonlySet<string>): FsckProblem[] {
  return Object.entries(record.outputs)
    .flatMap(([output, ref]) => outputObjects(ref).map((o) => [output, o] as const))
    .filter(([, o]) => !present.has(o.hash))
    .map(([output, o]) => ({ kind: 'missing' as const, hash: o.hash, reason: 'not in the store', record: { key: record.key, stage: record.stage.id, output } }));
}

async function remoteHash(remote: Remote, path: string): Promise<string | undefined> {
  const body = await remote.get(path);
  if (!body) return undefined;
  const h = createHash('sha256');
  for await (const chunk of body) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** A remote record, checked as a remote hit's is (for the key its path names), or undefined. */
function parseRecord(text: string | undefined, path: string): RunRecord | undefined {
  const key = RUN_PATH.exec(path);
  try {
    const r: unknown = JSON.parse(text ?? 'null');
    return key && isRecordFor(r, `${key[1]}${key[2]}` as CacheKey) ? r : undefined;
  } catch {
    return undefined;
  }
}
