// The local cache as `rethink ui` reads it, over and over: run records parsed once per version of
// their file (keyed by mtime and size), so a page over a 500-run sweep costs 500 stats, not 500
// parses. Objects are named by their hash, so their parsed JSON is kept by hash (bounded).
import { lstatSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { LocalStore } from '../../store/local.js';
import type { RunRecord } from '../../store/types.js';
import type { CacheKey } from '../../util/brand.js';
import type { JsonValue } from '../../plugin/types.js';

const SHA256 = /^[0-9a-f]{64}$/;
/** Parsed JSON objects kept, at most (a sweep page reads one per row). */
const JSON_ENTRIES = 4096;
/** JSON objects larger than this are not parsed for display. */
export const MAX_JSON_BYTES = 32 * 1024 * 1024;

export class CachedLocalStore extends LocalStore {
  private readonly records = new Map<string, { readonly stamp: string; readonly record: RunRecord | undefined }>();
  private readonly json = new Map<string, JsonValue>();
  private realRoot: string | undefined;

  override async readRun(key: CacheKey): Promise<RunRecord | undefined> {
    const file = join(this.location, 'runs', key.slice(0, 2), `${key.slice(2)}.json`);
    const st = statSync(file, { throwIfNoEntry: false });
    if (st === undefined) {
      this.records.delete(key);
      return undefined;
    }
    const stamp = `${st.mtimeMs}:${st.size}`;
    const known = this.records.get(key);
    if (known?.stamp === stamp) return known.record;
    const record = await super.readRun(key);
    this.records.set(key, { stamp, record });
    return record;
  }

  /**
   * A stamp that changes whenever a stage's state could have: a run record, an object, a refs file
   * or a lease written or removed (each lands in, or leaves, one of these directories, which changes
   * its mtime). A few hundred stats: far cheaper than recomputing 500 keys.
   */
  stamp(): string {
    const parts: string[] = [];
    const add = (path: string) => parts.push(String(statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0));
    for (const top of ['refs', 'leases', 'quarantine', 'runs', 'objects']) {
      const dir = join(this.location, top);
      add(dir);
      if (top !== 'runs' && top !== 'objects') continue;
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names.sort()) {
        parts.push(name);
        add(join(dir, name));
      }
    }
    return parts.join(',');
  }

  /**
   * The path of an object in this cache, or undefined when it is not here as a plain file inside
   * objects/ (a symlink, or anything that resolves outside the cache, is never served). Its bytes are
   * not re-hashed: the UI only reads, and a corrupt object is for `rethink fsck` to move. Synchronous
   * on purpose (as LocalStore's lookups): a sweep page makes hundreds, each cheaper than a thread-pool
   * round trip.
   */
  servedObjectPath(hash: string): string | undefined {
    if (!SHA256.test(hash)) return undefined;
    const root = join(this.location, 'objects');
    const path = join(root, hash.slice(0, 2), hash.slice(2));
    if (lstatSync(path, { throwIfNoEntry: false })?.isFile() !== true) return undefined;
    try {
      const real = realpathSync(path);
      this.realRoot ??= realpathSync(root);
      return real.startsWith(this.realRoot + sep) ? real : undefined;
    } catch {
      return undefined; // gone in between
    }
  }

  /** A JSON object's parsed value (undefined when it is not in this cache, too big, or not JSON). */
  readJson(hash: string): JsonValue | undefined {
    const known = this.json.get(hash);
    if (known !== undefined) return known;
    const path = this.servedObjectPath(hash);
    if (path === undefined) return undefined;
    let value: JsonValue;
    try {
      if (statSync(path).size > MAX_JSON_BYTES) return undefined;
      value = JSON.parse(readFileSync(path, 'utf8')) as JsonValue;
    } catch {
      return undefined;
    }
    if (this.json.size >= JSON_ENTRIES) this.json.delete(this.json.keys().next().value!);
    this.json.set(hash, value);
    return value;
  }
}
