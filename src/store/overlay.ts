// A store that reads through to another one and keeps everything it writes apart, in a scratch
// LocalStore: `rethink verify` recomputes cached results without adding to, or resuming from, the
// cache it checks.
import type { CacheKey, ObjectHash } from '../util/brand.js';
import type { LocalStore } from './local.js';
import type { PendingObject, RunRecord, Store } from './types.js';
import type { ObjectCheck } from './object-check.js';

export class OverlayStore implements Store {
  readonly location: string;

  constructor(
    readonly base: Store,
    readonly scratch: LocalStore,
  ) {
    this.location = `${scratch.location} (over ${base.location})`;
  }

  async objectPath(hash: ObjectHash, size?: number): Promise<string> {
    return (await this.scratch.hasObject(hash)) ? this.scratch.objectPath(hash, size) : this.base.objectPath(hash, size);
  }

  async hasObject(hash: ObjectHash, size?: number): Promise<boolean> {
    return (await this.scratch.hasObject(hash, size)) || this.base.hasObject(hash, size);
  }

  async verifyObject(hash: ObjectHash, size?: number): Promise<ObjectCheck> {
    return (await this.scratch.hasObject(hash)) ? this.scratch.verifyObject(hash, size) : this.base.verifyObject(hash, size);
  }

  createObject(): Promise<PendingObject> {
    return this.scratch.createObject();
  }

  createScratch(): Promise<string> {
    return this.scratch.createScratch();
  }

  readRun(key: CacheKey): Promise<RunRecord | undefined> {
    return this.base.readRun(key);
  }

  /** Recomputed results are compared, never recorded. */
  async writeRun(): Promise<void> {}

  readRefs(pipeline: string): Promise<Readonly<Record<string, CacheKey>>> {
    return this.base.readRefs(pipeline);
  }

  async updateRefs(): Promise<void> {}

  /** A fresh directory: a recomputation starts from scratch, never from the cache's checkpoints. */
  checkpointDir(key: CacheKey): Promise<string> {
    return this.scratch.checkpointDir(key);
  }

  dropCheckpoints(key: CacheKey): Promise<void> {
    return this.scratch.dropCheckpoints(key);
  }

  /** A recomputation's checkpoints stay in its scratch cache: never shared, never resumed elsewhere. */
  async saveCheckpoints(): Promise<void> {}
}
