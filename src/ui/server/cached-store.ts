// The local cache as `rethink ui` reads it, over and over: run records parsed once per version of
// their file (keyed by mtime and size), so a page over a 500-run sweep costs 500 stats, not 500
// parses. Objects are named by their hash, so their parsed JSON is kept by hash (bounded).
import { statSync } from 'node:fs';
import { lstat, readFile, realpath } from 'node:fs/promises';
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
   * The path of an object in this cache, or undefined when it is not here as a plain file inside
   * objects/ (a symlink, or anything that resolves outside the cache, is never served). Its bytes are
   * not re-hashed: the UI only reads, and a corrupt object is for `rethink fsck` to move.
   */
  async servedObjectPath(hash: string): Promise<string | undefined> {
    if (!SHA256.test(hash)) return undefined;
    const root = join(this.location, 'objects');
    const path = join(root, hash.slice(0, 2), hash.slice(2));
    const st = await lstat(path).catch(() => undefined);
    if (!st?.isFile()) return undefined;
    const [real, realRoot] = await Promise.all([realpath(path), realpath(root)]);
    return real.startsWith(realRoot + sep) ? real : undefined;
  }

  /** A JSON object's parsed value (undefined when it is not in this cache, too big, or not JSON). */
  async readJson(hash: string): Promise<JsonValue | undefined> {
    const known = this.json.get(hash);
    if (known !== undefined) return known;
    const path = await this.servedObjectPath(hash);
    if (path === undefined) return undefined;
    if ((await lstat(path)).size > MAX_JSON_BYTES) return undefined;
    let value: JsonValue;
    try {
      value = JSON.parse(await readFile(path, 'utf8')) as JsonValue;
    } catch {
      return undefined;
    }
    if (this.json.size >= JSON_ENTRIES) this.json.delete(this.json.keys().next().value!);
    this.json.set(hash, value);
    return value;
  }
}
