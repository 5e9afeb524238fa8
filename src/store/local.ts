// The local content-addressed store (`cache/` by default). Every write goes to tmp/ first and is
// renamed into place, so a crash never leaves a partial object or run record where a reader looks.
// The store marks its directory as a rethink cache (store/marker.ts) before it first writes there,
// and garbage collection deletes nothing in a directory without that mark.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, lstatSync, readFileSync, type Stats } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, chmod, writeFile, mkdtemp, type FileHandle } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { asObjectHash, type CacheKey, type ObjectHash } from '../util/brand.js';
import type { ArtifactKind } from '../plugin/types.js';
import { recordObjects, type GcCounts, type OutputRef, type PendingObject, type RunRecord, type Store } from './types.js';
import { Leases, type LeaseOptions } from './leases.js';
import { checkMarker, ensureMarker, NotACacheError } from './marker.js';
import { sweepOwnedTmp, tmpName, tmpPrefix, type TmpSweepContext } from './tmp-dir.js';
import { errorText } from '../util/error-text.js';
import { CorruptObjectError, fileIdentity, objectVerifier, shapeProblem, type ObjectCheck } from './object-check.js';

export class LocalStore implements Store {
  private readonly tmp: string;
  private readonly objects: string;
  private readonly runs: string;
  private ready: Promise<boolean> | undefined;
  readonly leases: Leases;

  constructor(
    readonly location: string,
    leaseOptions: LeaseOptions = {},
  ) {
    this.tmp = join(location, 'tmp');
    this.objects = join(location, 'objects');
    this.runs = join(location, 'runs');
    this.leases = new Leases(join(location, 'leases'), leaseOptions);
  }

  /**
   * Creates the store's directory and marks it as a rethink cache (once per process; every write path
   * calls it). False when the directory holds other files and so was left unmarked (see ensureMarker).
   */
  ensureDirs(): Promise<boolean> {
    this.ready ??= mkdir(this.tmp, { recursive: true }).then(() => ensureMarker(this.location, join(this.tmp, tmpName('w'))));
    return this.ready;
  }

  /** Throws NotACacheError unless this directory carries the marker of a rethink cache this rethink can read. */
  async assertIsCache(): Promise<void> {
    const why = await checkMarker(this.location);
    if (why !== undefined) throw new NotACacheError(this.location, why);
  }

  private objectFile(hash: ObjectHash): string {
    return fannedOut(this.objects, hash, '');
  }

  private runFile(key: CacheKey): string {
    return fannedOut(this.runs, key, '.json');
  }

  private refsFile(pipeline: string): string {
    const slug = pipeline.replace(/[^A-Za-z0-9._-]+/g, '_').slice(-60);
    const h = createHash('sha256').update(pipeline).digest('hex').slice(0, 12);
    return join(this.location, 'refs', `${slug}-${h}.json`);
  }

  /**
   * Deletes what killed processes left in tmp/: entries of a dead (or reused) pid of this host, and
   * entries that name no owner, once an hour old; never those of a process that still runs. Returns
   * how many went; never fails.
   */
  async sweepTmp(context: TmpSweepContext = { now: Date.now() }): Promise<number> {
    return sweepOwnedTmp(this.tmp, context);
  }

  /** The object's path once its bytes are checked (see Store.objectPath); a missing one's path as is. */
  async objectPath(hash: ObjectHash, size?: number): Promise<string> {
    const check = await this.verifyObject(hash, size);
    if (!check.ok && !check.missing) throw new CorruptObjectError(hash, check.reason, check.quarantined);
    return this.objectFile(hash);
  }

  // Lookups use sync calls on purpose: a no-op rerun of a big sweep is hundreds of tiny reads, and
  // the thread-pool round trip of each async call costs more than the read itself. lstat, not stat:
  // a symlink in objects/ is never an object.
  async hasObject(hash: ObjectHash, size?: number): Promise<boolean> {
    const st = lstatSync(this.objectFile(hash), { throwIfNoEntry: false });
    return st !== undefined && shapeProblem(st, size) === undefined;
  }

  verifyObject(hash: ObjectHash, size?: number): Promise<ObjectCheck> {
    return this.checkObject(hash, size, true);
  }

  private async checkObject(hash: ObjectHash, size: number | undefined, again: boolean): Promise<ObjectCheck> {
    const path = this.objectFile(hash);
    const check = await objectVerifier.check(path, hash, size);
    if (check.status === 'ok') return { ok: true };
    if (check.status === 'missing') return { ok: false, reason: 'missing', missing: true };
    let quarantined: string | undefined;
    try {
      quarantined = await this.quarantine(hash, check.identity);
    } catch (e) {
      // A read-only cache: still never read as good, though it stays where it is.
      return { ok: false, reason: `${check.reason}; it could not be moved to quarantine: ${errorText(e)}` };
    }
    // Replaced while it was hashed (another process published a good copy): look at the new one.
    if (quarantined === undefined) return again ? this.checkObject(hash, size, false) : { ok: false, reason: check.reason };
    return { ok: false, reason: check.reason, quarantined };
  }

  /**
   * Moves an object out of objects/ into quarantine/ (kept for a post-mortem, never read): every run
   * record naming it misses from now on, and the stage that produced it computes it again. With
   * `identity`, only that version of the file is moved: undefined when another has taken its place.
   */
  async quarantine(hash: ObjectHash, identity?: string): Promise<string | undefined> {
    const from = this.objectFile(hash);
    const dir = join(this.location, 'quarantine');
    const to = join(dir, `${hash}-${Date.now()}-${randomBytes(3).toString('hex')}`);
    await mkdir(dir, { recursive: true });
    if (identity !== undefined && fileIdentity(from) !== identity) return undefined;
    objectVerifier.forget(from);
    try {
      await rename(from, to);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // another process moved it first
    }
    return to;
  }

  async createObject(): Promise<PendingObject> {
    await this.ensureDirs();
    const path = join(this.tmp, tmpName('obj'));
    const fh = await open(path, 'wx');
    return new LocalPendingObject(path, fh, (hash) => this.objectFile(hash));
  }

  async createScratch(): Promise<string> {
    await this.ensureDirs();
    return mkdtemp(join(this.tmp, tmpPrefix('scratch')));
  }

  async checkpointDir(key: CacheKey): Promise<string> {
    await this.ensureDirs();
    const dir = join(this.location, 'checkpoints', key);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  async dropCheckpoints(key: CacheKey): Promise<void> {
    await rm(join(this.location, 'checkpoints', key), { recursive: true, force: true });
  }

  async readRun(key: CacheKey): Promise<RunRecord | undefined> {
    let text: string;
    try {
      text = readFileSync(this.runFile(key), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const record = JSON.parse(text) as RunRecord;
      return record.format === 1 && record.key === key ? record : undefined;
    } catch {
      return undefined; // unreadable record: treat as a miss, the rerun overwrites it
    }
  }

  async writeRun(record: RunRecord): Promise<void> {
    await this.atomicWrite(this.runFile(record.key), `${JSON.stringify(record, null, 1)}\n`);
  }

  async readRefs(pipeline: string): Promise<Readonly<Record<string, CacheKey>>> {
    try {
      return JSON.parse(await readFile(this.refsFile(pipeline), 'utf8')) as Record<string, CacheKey>;
    } catch {
      return {};
    }
  }

  async updateRefs(pipeline: string, refs: Readonly<Record<string, CacheKey>>): Promise<void> {
    const before = await this.readRefs(pipeline);
    if (Object.entries(refs).every(([id, key]) => before[id] === key)) return;
    const merged = { ...before, ...refs };
    await this.atomicWrite(this.refsFile(pipeline), `${JSON.stringify(merged, null, 1)}\n`);
  }

  /**
   * Every entry under objects/ whose name is an object's (a hash), whatever it is: a file, a symlink,
   * a directory. `fsck` checks them all; lookups never list.
   */
  async listObjects(): Promise<{ readonly hash: ObjectHash; readonly path: string }[]> {
    const root = join(this.location, 'objects');
    const out: { hash: ObjectHash; path: string }[] = [];
    for (const a of (await readdir(root).catch(() => [] as string[])).sort()) {
      if (!FANOUT.test(a)) continue;
      for (const b of (await readdir(join(root, a)).catch(() => [] as string[])).sort()) {
        if (REST_OF_ID.test(b)) out.push({ hash: asObjectHash(a + b), path: join(root, a, b) });
      }
    }
    return out;
  }

  /** Every run record in the store (unreadable ones left out), in no particular order. */
  async allRuns(): Promise<RunRecord[]> {
    const out: RunRecord[] = [];
    for (const { name } of await listTwoLevels(join(this.location, 'runs'), '.json')) {
      const record = await this.readRun(name as CacheKey);
      if (record) out.push(record);
    }
    return out;
  }

  /** The keys of the run records here that start with `prefix` (hex, at least 2 characters). */
  async keysStartingWith(prefix: string): Promise<CacheKey[]> {
    const dir = join(this.location, 'runs', prefix.slice(0, 2));
    const rest = prefix.slice(2);
    const names = await readdir(dir).catch(() => [] as string[]);
    return names.filter((n) => n.endsWith('.json') && n.startsWith(rest)).map((n) => (prefix.slice(0, 2) + n.slice(0, -'.json'.length)) as CacheKey);
  }

  /** Every key named by a refs file: the last result of each stage id of every pipeline run here. */
  async allRefKeys(): Promise<Set<CacheKey>> {
    const keys = new Set<CacheKey>();
    for (const name of await readdir(join(this.location, 'refs')).catch(() => [] as string[])) {
      try {
        for (const key of Object.values(JSON.parse(await readFile(join(this.location, 'refs', name), 'utf8')) as Record<string, CacheKey>)) keys.add(key);
      } catch {
        // an unreadable refs file roots nothing
      }
    }
    return keys;
  }

  /**
   * Deletes the run records that are not roots and the objects no kept record names. Anything written
   * in the last `graceMs` stays whatever it is: a running stage publishes its objects a moment before
   * its record, and a concurrent run may be between the two.
   */
  async collectGarbage(
    roots: ReadonlySet<CacheKey>,
    options: { readonly dryRun: boolean; readonly graceMs: number; readonly checkpointGraceMs: number; readonly now?: number },
  ): Promise<GcReport> {
    await this.assertIsCache(); // the CLI has said so already, as a user error; this is the last line
    const now = options.now ?? Date.now();
    const fresh = (mtimeMs: number) => now - mtimeMs < options.graceMs;
    const report = { keptRuns: 0, deletedRuns: 0, keptObjects: 0, keptBytes: 0, deletedObjects: 0, deletedBytes: 0, deletedCheckpoints: 0, deletedQuarantined: 0 };
    // Corrupt objects kept for a post-mortem, as long as unfinished checkpoints: a name says when it
    // was quarantined (a rename keeps the object's own, older, mtime).
    const quarantine = join(this.location, 'quarantine');
    for (const name of await readdir(quarantine).catch(() => [] as string[])) {
      const when = quarantinedAt(name) ?? (await stat(join(quarantine, name)).catch(() => undefined))?.ctimeMs ?? now;
      if (now - when < options.checkpointGraceMs) continue;
      report.deletedQuarantined++;
      if (!options.dryRun) await rm(join(quarantine, name), { recursive: true, force: true });
    }
    // Checkpoints of attempts nobody resumed: their stage's next attempt would have deleted them.
    const checkpoints = join(this.location, 'checkpoints');
    for (const key of await readdir(checkpoints).catch(() => [] as string[])) {
      const dir = join(checkpoints, key);
      const files = await readdir(dir).catch(() => [] as string[]);
      const times = await Promise.all([dir, ...files.map((f) => join(dir, f))].map(async (f) => (await stat(f).catch(() => undefined))?.mtimeMs ?? 0));
      if (now - Math.max(...times) < options.checkpointGraceMs) continue;
      report.deletedCheckpoints++;
      if (!options.dryRun) await rm(dir, { recursive: true, force: true });
    }
    const live = new Set<string>();
    for (const { name: key, path, info } of await listTwoLevels(join(this.location, 'runs'), '.json')) {
      if (roots.has(key as CacheKey) || fresh(info.mtimeMs)) {
        report.keptRuns++;
        const record = await this.readRun(key as CacheKey);
        for (const o of record === undefined ? [] : recordObjects(record)) live.add(o.hash);
        continue;
      }
      report.deletedRuns++;
      if (!options.dryRun) await rm(path, { force: true });
    }
    for (const { name: hash, path, info } of await listTwoLevels(join(this.location, 'objects'), '')) {
      if (live.has(hash) || fresh(info.mtimeMs)) {
        report.keptObjects++;
        report.keptBytes += info.size;
        continue;
      }
      report.deletedObjects++;
      report.deletedBytes += info.size;
      if (!options.dryRun) await rm(path, { force: true });
    }
    return report;
  }

  private async atomicWrite(dest: string, text: string): Promise<void> {
    await this.ensureDirs();
    const tmp = join(this.tmp, tmpName('w'));
    await writeFile(tmp, text);
    await mkdir(join(dest, '..'), { recursive: true });
    await rename(tmp, dest);
  }
}

class LocalPendingObject implements PendingObject {
  private readonly hasher = createHash('sha256');
  private sequential = true;
  private size = 0;
  private closed = false;
  private sealed: OutputRef | undefined;

  constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    private readonly destFor: (hash: ObjectHash) => string,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    if (!this.sequential) return this.writeAt(chunk, this.size);
    await writeFully(this.fh, chunk, this.size);
    this.hasher.update(chunk);
    this.size += chunk.byteLength;
  }

  async writeAt(chunk: Uint8Array, position: number): Promise<void> {
    if (position !== this.size) this.sequential = false;
    await writeFully(this.fh, chunk, position);
    if (this.sequential) this.hasher.update(chunk);
    this.size = Math.max(this.size, position + chunk.byteLength);
  }

  async seal(kind: ArtifactKind): Promise<OutputRef> {
    if (this.sealed) throw new Error('object already sealed');
    await this.close();
    const hash = asObjectHash(this.sequential ? this.hasher.digest('hex') : await hashFile(this.path));
    this.sealed = { hash, kind, size: this.size };
    return this.sealed;
  }

  async publish(): Promise<void> {
    if (!this.sealed) throw new Error('publish before seal');
    const dest = this.destFor(this.sealed.hash);
    const there = await objectVerifier.check(dest, this.sealed.hash, this.sealed.size);
    if (there.status === 'ok') {
      await rm(this.path, { force: true }); // identical content already stored
      return;
    }
    // Nothing there, or something that is not this object (a flipped byte, a symlink, a directory):
    // this file takes its place. rename replaces a file or a link; a directory must go first.
    if (there.status === 'corrupt' && lstatSync(dest, { throwIfNoEntry: false })?.isDirectory()) await rm(dest, { recursive: true, force: true });
    await chmod(this.path, 0o444);
    await mkdir(join(dest, '..'), { recursive: true });
    await rename(this.path, dest);
    objectVerifier.remember(dest);
  }

  async discard(): Promise<void> {
    await this.close();
    await rm(this.path, { force: true });
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}

async function writeFully(fh: FileHandle, chunk: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < chunk.byteLength) {
    const { bytesWritten } = await fh.write(chunk, done, chunk.byteLength - done, position + done);
    done += bytesWritten;
  }
}

export interface GcReport extends GcCounts {
  /** Checkpoint directories of unfinished attempts, untouched for the checkpoint grace. */
  readonly deletedCheckpoints: number;
  /** Objects found corrupt and quarantined longer ago than the checkpoint grace. */
  readonly deletedQuarantined: number;
}

/** A SHA-256 (an object's hash, a run's key) split as the store files it: `ab/` + the other 62 hex digits. */
const FANOUT = /^[0-9a-f]{2}$/;
const REST_OF_ID = /^[0-9a-f]{62}$/;
const ID = /^[0-9a-f]{64}$/;

/**
 * Where `dir` files `id` (`dir/ab/cdef…` + `suffix`). A hash or key is joined by concatenation: a
 * no-op rerun looks up two paths per stage, and path.join's normalising was a measurable part of it;
 * anything else (a damaged record's hash) goes through join, as every id did before.
 */
function fannedOut(dir: string, id: string, suffix: string): string {
  return ID.test(id) ? `${dir}${sep}${id.slice(0, 2)}${sep}${id.slice(2)}${suffix}` : join(dir, id.slice(0, 2), `${id.slice(2)}${suffix}`);
}

/** The files of a `ab/cdef…` fan-out directory, named by their full id (`abcdef…`, `suffix` dropped). */
async function listTwoLevels(root: string, suffix: string): Promise<{ name: string; path: string; info: Stats }[]> {
  const out: { name: string; path: string; info: Stats }[] = [];
  for (const a of await readdir(root).catch(() => [] as string[])) {
    if (!FANOUT.test(a)) continue;
    for (const b of await readdir(join(root, a)).catch(() => [] as string[])) {
      // Only what the store names: gc deletes what this lists, never a file someone else put there.
      if (!b.endsWith(suffix) || !REST_OF_ID.test(b.slice(0, b.length - suffix.length))) continue;
      const path = join(root, a, b);
      const info = await stat(path).catch(() => undefined);
      if (info?.isFile()) out.push({ name: a + b.slice(0, b.length - suffix.length), path, info });
    }
  }
  return out;
}

export async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** When a quarantined object was moved there, from its name (`<hash>-<ms since the epoch>-<random>`). */
function quarantinedAt(name: string): number | undefined {
  const ms = Number(/^[0-9a-f]{64}-(\d+)-[0-9a-f]+$/.exec(name)?.[1]);
  return Number.isSafeInteger(ms) ? ms : undefined;
}
