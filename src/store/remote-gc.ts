// Garbage collection on a shared remote. No machine knows which results the others still use (refs
// are per machine), so the caller names the roots (the current results of the pipelines it is given)
// and everything written within the grace period stays as well. Run records go first, then objects
// no remaining record names, so a record never names a deleted object. An object another machine
// starts to use during the collection can still be deleted; its next lookup then misses (a lookup
// checks that every object of a hit exists) and reruns the stage. Nothing wrong is ever read.
// Distributed jobs leave their folders too (`jobs/<key>/`: spec, attempt notes, progress) and a
// training's `checkpoints/<key>/`: both go once the key has a run record (the job is done), or when
// nothing in them was written for the checkpoint grace (the job was abandoned).
import type { CacheKey } from '../util/brand.js';
import type { Remote, RemoteEntry } from './remote.js';
import type { GcCounts } from './types.js';

export interface RemoteGcReport extends GcCounts {
  /** Keys whose `checkpoints/<key>/` was deleted (or would be, in a dry run). */
  readonly deletedCheckpoints: number;
  /** Keys whose `jobs/<key>/` was deleted (or would be). */
  readonly deletedJobs: number;
}

export interface RemoteGcOptions {
  readonly dryRun: boolean;
  /** Anything written this recently stays, root or not. */
  readonly graceMs: number;
  /** A job folder or checkpoints without a run record stay while written this recently (default: a week). */
  readonly checkpointGraceMs?: number;
  readonly now?: number;
}

const WEEK_MS = 7 * 24 * 3600 * 1000;

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

  const recorded = new Set([...seen, ...late].map((path) => keyOf(path)!));
  const folders = { deletedCheckpoints: 0, deletedJobs: 0 };
  for (const [top, count] of [['checkpoints', 'deletedCheckpoints'], ['jobs', 'deletedJobs']] as const) {
    const doomed = await finishedFolders(remote, top, recorded, now - (options.checkpointGraceMs ?? WEEK_MS));
    folders[count] = doomed.keys;
    if (!options.dryRun) await remote.remove(doomed.paths);
  }

  const report = { keptRuns: kept.length + late.length, deletedRuns: doomedRuns.length, keptObjects: 0, keptBytes: 0, deletedObjects: 0, deletedBytes: 0, ...folders };
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

/**
 * The files of each `<top>/<key>/` whose key has a run record, or in which nothing was written since
 * `before`; and how many keys that is.
 */
async function finishedFolders(remote: Remote, top: string, recorded: ReadonlySet<string>, before: number): Promise<{ keys: number; paths: string[] }> {
  const folders = new Map<string, { newest: number; paths: string[] }>();
  for await (const e of remote.list(top)) {
    const key = /^[^/]+\/([0-9a-f]{64})\//.exec(e.path)?.[1];
    if (key === undefined) continue; // not ours
    const f = folders.get(key) ?? { newest: -Infinity, paths: [] };
    f.newest = Math.max(f.newest, e.modifiedMs);
    f.paths.push(e.path);
    folders.set(key, f);
  }
  const doomed = [...folders].filter(([key, f]) => recorded.has(key) || f.newest < before);
  return { keys: doomed.length, paths: doomed.flatMap(([, f]) => f.paths) };
}

/** Adds the object hashes the records name to `live`; an unreadable record names nothing. */
async function namedObjects(remote: Remote, records: readonly string[], live: Set<string>): Promise<void> {
  for (let i = 0; i < records.length; i += READS) {
    await Promise.all(
      records.slice(i, i + READS).map(async (path) => {
        const text = await remote.getText(path);
        try {
          const outputs = (JSON.parse(text ?? 'null') as { outputs?: Record<string, { hash?: unknown; parts?: unknown }> } | null)?.outputs ?? {};
          for (const o of Object.values(outputs)) {
            // A sharded output's parts are named beside its own object (store/types.ts OutputRef.parts).
            const parts = Array.isArray(o.parts) ? (o.parts as { hash?: unknown }[]) : [];
            for (const named of [o, ...parts]) if (typeof named.hash === 'string') live.add(named.hash);
          }
        } catch {
          // damaged: it keeps nothing alive, and a rerun's upload replaces it
        }
      }),
    );
  }
}
