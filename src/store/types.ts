// Where results live: content-addressed objects plus one run record per stage key.
import type { CacheKey, ObjectHash, StageId } from '../util/brand.js';
import type { ArtifactKind, JsonValue } from '../plugin/types.js';
import type { KeyRecord } from '../plan/key.js';
import type { Leases } from './leases.js';
import type { RecordSignature } from './signing.js';
import type { ObjectCheck } from './object-check.js';

/** A stored object by name and size. */
export interface ObjectRef {
  readonly hash: ObjectHash;
  readonly size: number;
}

export interface OutputRef extends ObjectRef {
  readonly kind: ArtifactKind;
  /**
   * The objects the output's own object refers to (the shards a sharded tensors manifest names, see
   * src/tensors/sharded.ts). Part of the result: the record names them so that everything that keeps,
   * copies or checks a result's objects (gc, push/pull, fsck, cache lookups) keeps, copies and checks
   * these too, without knowing any format. Absent for an output that is one object.
   */
  readonly parts?: readonly ObjectRef[];
}

/** Every object an output consists of: its own, then its parts. */
export function outputObjects(ref: OutputRef): readonly ObjectRef[] {
  return ref.parts === undefined ? [ref] : [ref, ...ref.parts];
}

/** Every object a run record names: each output's own and its parts. */
export function recordObjects(record: Pick<RunRecord, 'outputs'>): readonly ObjectRef[] {
  return Object.values(record.outputs).flatMap(outputObjects);
}

/** Written last, after every object it names is in place: its presence is the commit marker. */
export interface RunRecord {
  readonly format: 1;
  readonly key: CacheKey;
  readonly keyRecord: KeyRecord;
  readonly stage: { readonly id: StageId; readonly name: string; readonly pipeline: string };
  readonly outputs: Readonly<Record<string, OutputRef>>;
  readonly startedAt: string;
  readonly seconds: number;
  /** Versions of node, rethink and whatever the plugin reported (backend, libraries, hardware). */
  readonly provenance: Readonly<Record<string, JsonValue>>;
  /** Added on upload by a machine with a signing key (see signing.ts). */
  readonly signature?: RecordSignature;
}

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Whether a record someone else wrote (a remote's) may be taken: a record for this key whose
 * outputs name objects by SHA-256 (a hash is also a path below objects/, so nothing else may pass).
 */
export function isRecordFor(value: unknown, key: CacheKey): value is RunRecord {
  const r = value as Partial<RunRecord> | null | undefined;
  return (
    r?.format === 1 &&
    r.key === key &&
    typeof r.outputs === 'object' &&
    r.outputs !== null &&
    Object.values(r.outputs).every(
      (o) =>
        isObjectRef(o) &&
        (o.parts === undefined || (Array.isArray(o.parts) && o.parts.every((p: unknown) => isObjectRef(p as ObjectRef | undefined)))),
    )
  );
}

function isObjectRef(o: ObjectRef | undefined): boolean {
  return typeof o?.hash === 'string' && SHA256.test(o.hash) && Number.isSafeInteger(o.size);
}

/** A file being written into the store; its hash is computed while streaming. */
export interface PendingObject {
  readonly path: string;
  write(chunk: Uint8Array): Promise<void>;
  /** Writes at an absolute position (the hash is then computed on close, by reading back). */
  writeAt(chunk: Uint8Array, position: number): Promise<void>;
  /** Flushes and hashes the file; it stays invisible to readers until `publish`. */
  seal(kind: ArtifactKind): Promise<OutputRef>;
  /** Moves a sealed file into the store; a no-op when identical content is already there. */
  publish(): Promise<void>;
  /** Deletes the file (a failed stage's outputs are never kept). */
  discard(): Promise<void>;
}

export interface Store {
  /** Human-readable location, e.g. the cache directory. */
  readonly location: string;
  /**
   * A local path where the object can be read (downloading it first for remote stores), its bytes
   * checked against its name (memoised per process). A corrupt object is moved out of the store and
   * the read throws a CorruptObjectError. `size`: what the run record says, where the caller knows.
   */
  objectPath(hash: ObjectHash, size?: number): Promise<string>;
  /** Cheap (no hashing, for every cached output of every no-op rerun): a plain file of that size is there. */
  hasObject(hash: ObjectHash, size?: number): Promise<boolean>;
  /**
   * Checks the object's bytes against its name as `objectPath` does, but says what it found instead
   * of throwing: a stage about to read its inputs asks this first, so a bad input is recomputed.
   */
  verifyObject(hash: ObjectHash, size?: number): Promise<ObjectCheck>;
  createObject(): Promise<PendingObject>;
  /** A fresh scratch directory under the store, for a stage's temporary files. */
  createScratch(): Promise<string>;
  readRun(key: CacheKey): Promise<RunRecord | undefined>;
  writeRun(record: RunRecord): Promise<void>;
  /** The last key each stage id of a pipeline ran with (for `status` diffs). */
  readRefs(pipeline: string): Promise<Readonly<Record<string, CacheKey>>>;
  updateRefs(pipeline: string, refs: Readonly<Record<string, CacheKey>>): Promise<void>;
  /**
   * A directory kept across attempts of one stage key, for a stage's checkpoints: an attempt that was
   * interrupted leaves it for the next attempt of the same key. Never part of any result.
   */
  checkpointDir(key: CacheKey): Promise<string>;
  /** Deletes a key's checkpoints (once its result is stored). */
  dropCheckpoints(key: CacheKey): Promise<void>;
  /**
   * Stores with a shared remote tier: copies the key's checkpoint directory to the remote, so that an
   * attempt on another machine resumes from it (`checkpointDir` there fetches it). Rejects when the
   * copy failed; the checkpoint is still in the local directory.
   */
  saveCheckpoints?(key: CacheKey): Promise<void>;
  /** Who computes which key now, across the processes sharing this store (absent: nobody waits). */
  readonly leases?: Leases;
  /** Stores with a shared remote tier: whether `readRun` found the key's record there. */
  originOf?(key: CacheKey): 'local' | 'remote';
  /**
   * Stores with a shared remote tier: takes a record that a job on another machine already wrote to
   * the remote (after its objects), as a remote hit is taken; nothing is uploaded again.
   */
  adoptRun?(record: RunRecord): Promise<void>;
  /** Stores with a shared remote tier: makes sure the remote has this object (a job elsewhere reads it). */
  pushObject?(ref: OutputRef): Promise<void>;
}

/** What a garbage collection kept and deleted (or, in a dry run, would delete). */
export interface GcCounts {
  readonly keptRuns: number;
  readonly deletedRuns: number;
  readonly keptObjects: number;
  readonly keptBytes: number;
  readonly deletedObjects: number;
  readonly deletedBytes: number;
}
