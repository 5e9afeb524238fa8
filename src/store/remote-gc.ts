// Garbage collection on a shared remote. No machine knows which results the others still use (refs
// are per machine), so the caller names the roots (the current results of the pipelines it is given)
// and everything written within the grace period stays as well. Run records go first, then objects
// no remaining record names, so a record never names a deleted object. An object another machine
// starts to use during the collection can still be deleted; its next lookup then misses (a lookup
// checks that every object of a hit exists) and reruns the stage. Nothing wrong is ever read.
import type { CacheKey } from '../util/brand.js';
import type { Remote, RemoteEntry } from './remote.js';
import type { GcCounts } from './types.js';

export type RemoteGcReport = GcCounts;

export interface RemoteGcOptions {
  readonly dryRun: boolean;
  /** Anything written this recently stays, root or not. */
  readonly graceMs: number;
  readonly now?: number;
}

/** How many run records are read at once. */
const READS = 16;

export async function collectRemoteGarbage(remote: Remote, roots: ReadonlySet<CacheKey>, options: RemoteGcOptions): Promise<RemoteGcReport> {
  const now = options.now ?? Date.now();
  const fresh = (e: RemoteEntry) => now - e.modifiedMs < options.graceMs;
  const kept: string[] = [];
  const doomedRuns: string[] = [];
  for await (const e of remote.list('runs')) {
    const key = keyOf(e.path);
    if (key === undefined) continue; // not ours
    if (roots.has(key) || fresh(e)) kept.push(e.path);
    else doomedRuns.push(e.path);
  }
  const live = new Set<string>();
  await namedObjects(remote, kept, live);
  if (!options.dryRun) await remote.remove(doomedRuns);

  // Records another machine uploaded since the listing name objects too.
  const seen = new Set([...kept, ...doomedRuns]);
  const late: string[] = [];
  for await (const e of remote.list('runs')) if (!seen.has(e.path) && keyOf(e.path) !== undefined) late.push(e.path);
  await namedObjects(remote, late, live);

  const report = { keptRuns: kept.length + late.length, deletedRuns: doomedRuns.length, keptObjects: 0, keptBytes: 0, deletedObjects: 0, deletedBytes: 0 };
  const doomedObjects: string[] = [];
  for await (const e of remote.list('objects')) {
    const hash = e.path.slice('objects/'.length).replace('/', '');
    if (live.has(hash) || fresh(e)) {
      report.keptObjects++;
      report.keptBytes += e.size;
    } else {
      report.deletedObjects++;
      report.deletedBytes += e.size;
      doomedObjects.push(e.path);
    }
  }
  if (!options.dryRun) await remote.remove(doomedObjects);
  return report;
}

/** `runs/ab/cdef….json` → `abcdef…`; undefined for anything else. */
function keyOf(path: string): CacheKey | undefined {
  const m = /^runs\/([0-9a-f]{2})\/([0-9a-f]{62})\.json$/.exec(path);
  return m ? ((m[1]! + m[2]!) as CacheKey) : undefined;
}

/** Adds the object hashes the records name to `live`; an unreadable record names nothing. */
async function namedObjects(remote: Remote, records: readonly string[], live: Set<string>): Promise<void> {
  for (let i = 0; i < records.length; i += READS) {
    await Promise.all(
      records.slice(i, i + READS).map(async (path) => {
        const text = await remote.getText(path);
        try {
          const outputs = (JSON.parse(text ?? 'null') as { outputs?: Record<string, { hash?: unknown }> } | null)?.outputs ?? {};
          for (const o of Object.values(outputs)) if (typeof o.hash === 'string') live.add(o.hash);
        } catch {
          // damaged: it keeps nothing alive, and a rerun's upload replaces it
        }
      }),
    );
  }
}
