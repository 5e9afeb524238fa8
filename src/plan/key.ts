// The cache key is data before it is a hash: an explicit record of everything a stage's outputs
// depend on, kept in the run record so `status` can say which field changed.
import { createHash } from 'node:crypto';
import { asCacheKey, type CacheKey, type ObjectHash } from '../util/brand.js';
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
  /** SHA-256 of the plugin's module source, for plugins loaded from a path in the pipeline. */
  readonly code?: string;
  /** Every param the stage receives, after interpolation and schema defaults. */
  readonly params: { readonly [k: string]: JsonValue };
  /** Absent for plugins that declare `seeded: false`. */
  readonly seed?: number;
  /** Input name → content hash of the artifact (or, for fan-in, each upstream id with its hash). */
  readonly inputs: { readonly [name: string]: InputKey };
}

/** JSON with object keys sorted at every level: equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`cannot key a non-finite number (${value})`);
    if (value === undefined) return 'null';
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function cacheKey(record: KeyRecord): CacheKey {
  return asCacheKey(createHash('sha256').update(canonicalJson(record)).digest('hex'));
}
