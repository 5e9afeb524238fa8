// ORT sessions keyed by kernel spec (op, shapes, attributes). Building one costs milliseconds,
// running one ~10–40 µs, so a training loop builds each distinct layer shape once.

import type { KernelSpec } from './kernel_spec.js';
import { graphFor } from './kernel_spec.js';
import type { OrtRuntime, OrtSession } from './ort_runtime.js';

export class SessionCache {
  private readonly sessions = new Map<string, OrtSession>();

  constructor(
    private readonly runtime: OrtRuntime,
    /** Each session keeps its own arena and thread pool, so the cache is bounded. */
    private readonly capacity = 256,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** Whether a session for `spec` has been built (and not evicted). */
  has(spec: KernelSpec): boolean {
    return this.sessions.has(JSON.stringify(spec));
  }

  get(spec: KernelSpec): OrtSession {
    const key = JSON.stringify(spec);
    const hit = this.sessions.get(key);
    if (hit !== undefined) {
      // Re-insert so the Map's order is least-recently-used first.
      this.sessions.delete(key);
      this.sessions.set(key, hit);
      return hit;
    }
    // 'basic' (constant folding, no layout rewrites): 'extended'/'all' made the small-channel
    // conv 2–3× slower here, because the NCHWc rewrite re-blocks a filter that changes every call.
    const session = this.runtime.createSession(graphFor(spec), 'basic');
    this.sessions.set(key, session);
    if (this.sessions.size > this.capacity) {
      const [oldKey, old] = this.sessions.entries().next().value as [string, OrtSession];
      this.sessions.delete(oldKey);
      old.dispose();
    }
    return session;
  }

  dispose(): void {
    for (const s of this.sessions.values()) s.dispose();
    this.sessions.clear();
  }
}
