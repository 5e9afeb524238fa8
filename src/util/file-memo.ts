// Machine-level memos of pure functions of a text (a pipeline file's parsed values, the imports a
// plugin's module names), kept between runs under the user's cache directory as one small JSON file
// per input, named by the SHA-256 of what the answer depends on. A no-op rerun then reads a file
// instead of loading and running the library that computed it (js-yaml, es-module-lexer: each
// about 10 ms of a 250 ms rerun). Like the compiled validators' cache (config/ajv.ts), a memo is
// only ever an optimisation: an unreadable or damaged entry is a miss, and one that cannot be
// written (a read-only home) leaves the caller computing each time. Entries not written for a month
// are deleted (util/trim-stale.ts), so the directory does not grow with every edit.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userCacheDir } from './cache-home.js';
import { trimStale } from './trim-stale.js';

/** An entry's name: its key (a SHA-256) and .json. */
const ENTRY = /^[0-9a-f]{64}\.json$/;

export class FileMemo<T> {
  private readonly dir: string;

  /**
   * `space` names the function and its version (`yaml-values-1`): a change to what the function
   * answers must change it, or old answers would be taken for new ones. `dir` overrides where the
   * memos live (tests); the default is `<user cache>/memo/<space>`.
   */
  constructor(space: string, dir?: string) {
    this.dir = dir ?? join(userCacheDir(), 'memo', space);
  }

  /** The key of an input: the SHA-256 of its parts, each a text the answer depends on. */
  static key(...parts: readonly string[]): string {
    const h = createHash('sha256');
    for (const p of parts) h.update(`${p.length}:`).update(p);
    return h.digest('hex');
  }

  /** The remembered answer for `key`, or undefined (never remembered, unreadable, damaged). */
  get(key: string): { readonly value: T } | undefined {
    let text: string;
    try {
      text = readFileSync(this.file(key), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const entry = JSON.parse(text) as { key?: unknown; value?: T };
      return entry.key === key && 'value' in entry ? { value: entry.value as T } : undefined;
    } catch {
      return undefined;
    }
  }

  /** Remembers `value` (a JSON value: what JSON.parse gives back must equal it) for `key`, atomically; best effort. */
  set(key: string, value: T): void {
    try {
      const file = this.file(key);
      mkdirSync(this.dir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ key, value }));
      renameSync(tmp, file);
    } catch {
      // a read-only or full cache directory: the caller computes each time, which is only slower
      return;
    }
    trimStale(this.dir, { entry: (name) => ENTRY.test(name) });
  }

  private file(key: string): string {
    return join(this.dir, `${key}.json`);
  }
}

/** Whether JSON.parse(JSON.stringify(value)) gives `value` back: no NaN, ±Infinity, -0, undefined, or non-plain object. */
export function survivesJson(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object': {
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!(i in value) || !survivesJson(value[i])) return false;
        return true;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) return false;
      for (const k of Object.keys(value)) if (k === '__proto__' || !survivesJson((value as Record<string, unknown>)[k])) return false;
      return true;
    }
    default:
      return false;
  }
}
