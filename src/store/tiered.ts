// The local store with a shared remote behind it. Lookups try the local cache first and touch the
// remote only on a local miss, so a no-op rerun costs what it costs without a remote. A remote hit
// downloads nothing but its run record: an object comes down only when a stage (or `show`, `pull`)
// reads it, verified against its SHA-256 on the way. Results a run produces are uploaded in the
// background, objects first and the run record last, so another machine never takes a half-uploaded
// result as a hit. The remote never fails a run: if it cannot be reached, the run goes on with the
// local cache alone and says why at the end.
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { CacheKey, ObjectHash } from '../util/brand.js';
import { CoreSemaphore } from '../util/semaphore.js';
import type { LocalStore } from './local.js';
import type { Leases } from './leases.js';
import { distrust, signRecord, type RecordTrust } from './signing.js';
import { checkpointFolderOf, objectPathOf, RemoteError, runPathOf, type Remote, type RemoteEntry } from './remote.js';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { errorText } from '../util/error-text.js';
import { isRecordFor, recordObjects, type ObjectRef, type OutputRef, type PendingObject, type RunRecord, type Store } from './types.js';
import { CorruptObjectError, type ObjectCheck } from './object-check.js';

export interface RemoteOptions {
  /** Read from the remote, never write to it (e.g. CI jobs without write credentials). */
  readonly readOnly?: boolean;
  /** Transfers in flight at once. */
  readonly transfers?: number;
  /** Signing of uploaded records, and which signers' records to take (see signing.ts). */
  readonly trust?: RecordTrust;
  /**
   * The command's (Ctrl-C): once it aborts, no remote call starts and each one asked for is a miss.
   * The remote itself takes the same signal to abandon the calls in flight (see openRemote).
   */
  readonly signal?: AbortSignal;
}

/** What the remote tier did during one command; `run --json` and the run's last line report it. */
export interface RemoteReport {
  readonly url: string;
  readonly readOnly: boolean;
  readonly pulled: { readonly records: number; readonly objects: number; readonly bytes: number };
  readonly pushed: { readonly records: number; readonly objects: number; readonly bytes: number };
  /** Set when a remote call failed; the command went on with the local cache alone. */
  readonly error?: string;
  /** Remote records passed over because no trusted key signed them, and why the first was. */
  readonly untrusted?: { readonly records: number; readonly first: string };
}

export class TieredStore implements Store {
  readonly location: string;
  private readonly pulledRecords = new Map<CacheKey, RunRecord>();
  private readonly downloads = new Map<ObjectHash, Promise<string>>();
  /** Keys whose remote run record was damaged or not ours: uploads replace them. */
  private readonly unusable = new Set<CacheKey>();
  /** One upload per object, however many results name it (seeds that agree, shared inputs). */
  private readonly objectUploads = new Map<ObjectHash, Promise<void>>();
  /**
   * Objects whose remote copy did not hash to its name: a miss from then on (the stage that produces
   * it computes it again), and the upload of that result replaces the bad copy instead of skipping it.
   */
  private readonly badRemote = new Set<ObjectHash>();
  private readonly uploads: Promise<void>[] = [];
  private readonly transfers: CoreSemaphore;
  private readonly counts = { pulled: { records: 0, objects: 0, bytes: 0 }, pushed: { records: 0, objects: 0, bytes: 0 } };
  /** Remote records passed over as untrusted, and why: asked again, they are still misses. */
  private readonly untrusted = new Map<CacheKey, string>();
  /** Keys whose checkpoints were dropped locally: their remote copies go once their record is up. */
  private readonly finishedCheckpoints = new Set<CacheKey>();
  /** The first remote failure; from then on the remote is left alone for the rest of the command. */
  private failure: string | undefined;

  constructor(
    readonly local: LocalStore,
    readonly remote: Remote,
    private readonly options: RemoteOptions = {},
  ) {
    this.location = `${local.location} (remote ${remote.url})`;
    this.transfers = new CoreSemaphore(options.transfers ?? 8);
  }

  /** Leases are per machine (or per shared cache directory): the local cache's. */
  get leases(): Leases {
    return this.local.leases;
  }

  /** Whether readRun found this key's record on the remote rather than in the local cache. */
  originOf(key: CacheKey): 'local' | 'remote' {
    return this.pulledRecords.has(key) ? 'remote' : 'local';
  }

  async objectPath(hash: ObjectHash, size?: number): Promise<string> {
    if (await this.local.hasObject(hash, size)) {
      try {
        return await this.local.objectPath(hash, size);
      } catch (e) {
        if (!(e instanceof CorruptObjectError)) throw e;
        // Quarantined locally: the remote's copy, if good, takes its place.
      }
    }
    if (this.badRemote.has(hash)) throw new CorruptObjectError(hash, `its copy on the remote ${this.remote.url} is corrupt`);
    let p = this.downloads.get(hash);
    if (!p) {
      p = this.download(hash);
      this.downloads.set(hash, p);
      p.catch(() => this.downloads.delete(hash)); // a later read may try again
    }
    return p;
  }

  async hasObject(hash: ObjectHash, size?: number): Promise<boolean> {
    if (await this.local.hasObject(hash, size)) return true;
    if (this.badRemote.has(hash)) return false;
    return (await this.guard(() => this.remote.has(objectPathOf(hash)))) === true;
  }

  async verifyObject(hash: ObjectHash, size?: number): Promise<ObjectCheck> {
    if (await this.local.hasObject(hash)) {
      // A corrupt local copy is reported (and quarantined), not replaced from the remote here: the
      // caller settles its producer again, which finds the remote's result if it is good.
      return this.local.verifyObject(hash, size);
    }
    const remote = { remote: this.remote.url, ...(this.options.readOnly ? {} : { reupload: true as const }) };
    if (this.badRemote.has(hash)) return { ok: false, reason: 'its bytes hash to something else', ...remote };
    if ((await this.guard(() => this.remote.has(objectPathOf(hash)))) === false) return { ok: false, reason: 'missing', missing: true };
    try {
      await this.objectPath(hash, size);
      return { ok: true };
    } catch (e) {
      if (this.badRemote.has(hash)) return { ok: false, reason: e instanceof CorruptObjectError ? e.reason : errorText(e), ...remote };
      throw e;
    }
  }

  createObject(): Promise<PendingObject> {
    return this.local.createObject();
  }

  createScratch(): Promise<string> {
    return this.local.createScratch();
  }

  /**
   * The local checkpoint directory; when it is empty, filled first with the remote's checkpoints of
   * the key (an attempt on another machine saved them), all or nothing: they are downloaded beside
   * it, checked against the sizes the remote lists, and renamed into place at once. A remote that
   * fails here costs the resume, not the stage: the attempt starts over.
   */
  async checkpointDir(key: CacheKey): Promise<string> {
    const dir = await this.local.checkpointDir(key);
    if (this.failure || this.options.signal?.aborted || (await readdir(dir)).length > 0) return dir;
    let staging: string | undefined;
    try {
      const folder = checkpointFolderOf(key);
      const entries: RemoteEntry[] = [];
      for await (const e of this.remote.list(folder)) entries.push(e);
      if (entries.length === 0) return dir;
      staging = await this.local.createScratch();
      for (const e of entries) {
        const file = join(staging, ...e.path.slice(folder.length + 1).split('/'));
        const body = await this.remote.get(e.path);
        if (!body) throw new Error(`${e.path} vanished while it was read`);
        await mkdir(dirname(file), { recursive: true });
        await pipeline(body, createWriteStream(file, { flags: 'wx' }));
        const size = (await stat(file)).size;
        if (size !== e.size) throw new Error(`${e.path} came down as ${size} bytes, not ${e.size}`);
      }
      // An empty directory is replaced by rename(2); one an attempt wrote to meanwhile is kept.
      await rename(staging, dir);
      staging = undefined;
    } catch {
      // Starting over is always correct; only slower.
    } finally {
      if (staging !== undefined) await rm(staging, { recursive: true, force: true });
    }
    return dir;
  }

  /** Copies each file of the key's local checkpoint directory to the remote (a put is atomic there). */
  async saveCheckpoints(key: CacheKey): Promise<void> {
    if (this.options.readOnly) return;
    const dir = await this.local.checkpointDir(key);
    const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    for (const e of files) {
      const file = join(e.parentPath ?? e.path, e.name);
      const rel = relative(dir, file).split(sep).join('/');
      await this.remote.putFile(`${checkpointFolderOf(key)}/${rel}`, file, (await stat(file)).size);
    }
  }

  /** Drops the local checkpoints now, the remote's once the key's record is on the remote (see upload). */
  async dropCheckpoints(key: CacheKey): Promise<void> {
    await this.local.dropCheckpoints(key);
    if (!this.options.readOnly) this.finishedCheckpoints.add(key);
  }

  async readRun(key: CacheKey): Promise<RunRecord | undefined> {
    const local = await this.local.readRun(key);
    if (local) return local;
    const known = this.pulledRecords.get(key);
    if (known) return known;
    if (this.untrusted.has(key)) return undefined;
    const text = await this.guard(() => this.remote.getText(runPathOf(key)));
    if (text === undefined) return undefined;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      record = undefined;
    }
    if (!isRecordFor(record, key)) {
      this.unusable.add(key); // a miss; the rerun's upload replaces it
      return undefined;
    }
    const trusted = this.options.trust?.trusted;
    const why = trusted ? distrust(record, trusted) : undefined;
    if (why !== undefined) {
      // A miss. A signer's upload replaces it; without a key this machine leaves it to whoever trusts it.
      this.untrusted.set(key, `${runPathOf(key)}: ${why}`);
      if (this.options.trust?.signer) this.unusable.add(key);
      return undefined;
    }
    this.pulledRecords.set(key, record);
    this.counts.pulled.records++;
    return record;
  }

  async writeRun(record: RunRecord): Promise<void> {
    await this.local.writeRun(record);
    if (!this.options.readOnly) this.uploads.push(this.upload(record).then(() => undefined));
  }

  async adoptRun(record: RunRecord): Promise<void> {
    this.pulledRecords.set(record.key, record);
  }

  async pushObject(ref: OutputRef): Promise<void> {
    if (this.options.readOnly) throw new Error(`cannot hand object ${ref.hash} to a job elsewhere: the remote ${this.remote.url} is read-only here`);
    await this.uploadObject(ref);
  }

  readRefs(pipeline: string): Promise<Readonly<Record<string, CacheKey>>> {
    return this.local.readRefs(pipeline);
  }

  updateRefs(pipeline: string, refs: Readonly<Record<string, CacheKey>>): Promise<void> {
    return this.local.updateRefs(pipeline, refs);
  }

  /**
   * Uploads one locally stored result unless the remote has it: every output object it lacks, then
   * the run record. Returns whether anything was uploaded. `rethink push` calls this directly.
   */
  async upload(record: RunRecord): Promise<boolean> {
    const done = await this.guard(async () => {
      // A result whose remote object was corrupt is uploaded again, whatever the remote has.
      const repairs = recordObjects(record).some((o) => this.badRemote.has(o.hash));
      if (!repairs && !this.unusable.has(record.key) && (await this.remote.has(runPathOf(record.key)))) return false;
      // Settle every transfer before giving up on one, so none is still writing when the command ends.
      const settled = await Promise.allSettled(recordObjects(record).map((o) => this.uploadObject(o)));
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      const signer = this.options.trust?.signer;
      await this.remote.putText(runPathOf(record.key), `${JSON.stringify(signer ? signRecord(record, signer) : record, null, 1)}\n`);
      this.counts.pushed.records++;
      if (this.finishedCheckpoints.delete(record.key)) await this.removeCheckpoints(record.key);
      return true;
    });
    return done === true;
  }

  private uploadObject(o: ObjectRef): Promise<void> {
    let p = this.objectUploads.get(o.hash);
    if (!p) {
      p = (async () => {
        const repair = this.badRemote.has(o.hash);
        if (!repair && (await this.remote.has(objectPathOf(o.hash)))) return;
        const release = await this.transfers.acquire(1);
        try {
          await this.remote.putFile(objectPathOf(o.hash), await this.local.objectPath(o.hash, o.size), o.size);
        } finally {
          release();
        }
        if (repair) this.badRemote.delete(o.hash); // the remote's copy is good again
        this.counts.pushed.objects++;
        this.counts.pushed.bytes += o.size;
      })();
      this.objectUploads.set(o.hash, p);
    }
    return p;
  }

  /**
   * Waits for the uploads this command started, and keeps in the local cache the record of every
   * remote hit whose outputs are all local by now (so the next run finds it without the remote).
   * Interrupted, the uploads in flight end at once: a record goes up only after its objects, and an
   * object's PUT is atomic (a multipart one is aborted), so the remote holds nothing half-written.
   */
  async flush(): Promise<RemoteReport> {
    await Promise.all(this.uploads);
    for (const record of this.pulledRecords.values()) {
      const present = await Promise.all(recordObjects(record).map((o) => this.local.hasObject(o.hash)));
      if (present.every(Boolean)) await this.local.writeRun(record);
    }
    return {
      url: this.remote.url,
      readOnly: this.options.readOnly === true,
      pulled: { ...this.counts.pulled },
      pushed: { ...this.counts.pushed },
      ...(this.failure ? { error: this.failure } : {}),
      ...(this.passedOver ? { untrusted: this.passedOver } : {}),
    };
  }

  /** Remote records passed over so far because no trusted key signed them, and why the first was. */
  get passedOver(): RemoteReport['untrusted'] {
    return this.untrusted.size > 0 ? { records: this.untrusted.size, first: [...this.untrusted.values()][0]! } : undefined;
  }

  /** The key this machine signs what it uploads with, when it has one (job specs too). */
  get signer(): NonNullable<RecordTrust['signer']> | undefined {
    return this.options.trust?.signer;
  }

  /** The remote's failure, if one happened (for commands that must not go on without it). */
  get error(): string | undefined {
    return this.failure;
  }

  /** The remote's checkpoints of a key whose record is up: a failure leaves them to `gc --remote`. */
  private async removeCheckpoints(key: CacheKey): Promise<void> {
    try {
      const paths: string[] = [];
      for await (const e of this.remote.list(checkpointFolderOf(key))) paths.push(e.path);
      await this.remote.remove(paths);
    } catch {
      // the result is up; what is left is garbage, not damage
    }
  }

  private async download(hash: ObjectHash): Promise<string> {
    const what = `${this.remote.url}/${objectPathOf(hash)}`;
    if (this.failure) throw new Error(`cannot read object ${hash} from ${what}: the remote failed earlier (${this.failure})`);
    const release = await this.transfers.acquire(1);
    try {
      let body;
      try {
        body = await this.remote.get(objectPathOf(hash));
      } catch (e) {
        throw new Error(`cannot read object ${hash}: ${describe(e)}`, { cause: e });
      }
      if (!body) throw new Error(`object ${hash} is missing from ${what} (deleted from the remote after its run record was written?)`);
      const pending = await this.local.createObject();
      try {
        for await (const chunk of body) await pending.write(chunk as Uint8Array);
        const ref = await pending.seal('file');
        if (ref.hash !== hash) {
          // A miss from now on: the producer computes it again and its upload replaces this copy.
          this.badRemote.add(hash);
          this.objectUploads.delete(hash); // an upload that skipped it as present must not stand
          throw new CorruptObjectError(hash, `the remote's copy ${what} hashes to ${ref.hash.slice(0, 12)}…`);
        }
        await pending.publish();
        this.counts.pulled.objects++;
        this.counts.pulled.bytes += ref.size;
      } catch (e) {
        body.destroy();
        await pending.discard();
        throw e;
      }
    } finally {
      release();
    }
    const path = await this.local.objectPath(hash);
    await stat(path); // published: readable from here on
    return path;
  }

  /**
   * Runs a remote call; its first failure turns the remote off for the rest of the command. A call a
   * deadline ended is such a failure. One that Ctrl-C ended is not: the remote did nothing wrong, and
   * the command is ending anyway.
   */
  private async guard<T>(call: () => Promise<T>): Promise<T | undefined> {
    if (this.failure || this.options.signal?.aborted) return undefined;
    try {
      return await call();
    } catch (e) {
      if (this.options.signal?.aborted) return undefined;
      this.failure ??= e instanceof RemoteError ? e.message : `remote ${this.remote.url}: ${errorText(e)}`;
      return undefined;
    }
  }
}

/** A RemoteError already says what failed and why; anything else gets its cause appended. */
function describe(e: unknown): string {
  return e instanceof RemoteError ? e.message : errorText(e);
}
