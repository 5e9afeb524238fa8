// The cache key is data before it is a hash: an explicit record of everything a stage's outputs
// depend on, kept in the run record so `status` can say which field changed.
import { createHash } from 'node:crypto';
import { asCacheKey, type CacheKey, type ObjectHash } from '../util/brand.js';
import { canonicalJson } from '../util/canonical-json.js';
import type { JsonValue, Scalar } from '../plugin/types.js';

/** One member of a fan-in input: which instance (by stage and matrix, not by id text) and its artifact. */
export interface FanInEntry {
  readonly stage: string;
  readonly matrix: Readonly<Record<string, Scalar>>;
  readonly hash: ObjectHash;
}

export type InputKey = ObjectHash | readonly FanInEntry[] | null;

export interface KeyRecord {
  /** Plugin name. */
  readonly plugin: string;
  /** Declared plugin version. */
  readonly version: string;
  /**
   * For plugins loaded from a path in the pipeline: a SHA-256 over their module, the local modules
   * it imports (transitively) and the versions of the npm packages they import (`codeFiles`).
   */
  readonly code?: string;
  /** What `code` covers: file → short SHA-256, `npm:<package>` → version (code-closure.ts). */
  readonly codeFiles?: Readonly<Record<string, string>>;
  /** Every param the stage receives, after interpolation and schema defaults. */
  readonly params: { readonly [k: string]: JsonValue };
  /** Absent for plugins that declare `seeded: false`. */
  readonly seed?: number;
  /** What a plugin reading outside the store saw there (its `fingerprint`), if it has one. */
  readonly fingerprint?: JsonValue;
  /** Input name → content hash of the artifact (or, for fan-in, each upstream id with its hash). */
  readonly inputs: { readonly [name: string]: InputKey };
}

export function cacheKey(record: KeyRecord): CacheKey {
  return asCacheKey(createHash('sha256').update(canonicalJson(record)).digest('hex'));
}
