// Keeps a machine-level cache directory (the memos of util/file-memo.ts, the compiled validators of
// config/ajv.ts) from growing without end: every edit of a pipeline or a plugin adds an entry there,
// and nothing else ever deletes one. After a write, at most once a day (the time is kept in a
// `.trimmed` file there), the entries not written for a month are deleted. An entry is only ever an
// optimisation, so one that goes while still in use is computed again once (a few milliseconds),
// which keeps reads free of any bookkeeping: a hit touches nothing. Like Go's build cache, which trims
// by age at most daily, without its refresh of each entry's time on use.
import { readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const DAY_MS = 24 * 3600 * 1000;

export interface TrimOptions {
  /** Which names in the directory are entries (others are never touched). */
  readonly entry: (name: string) => boolean;
  /** Entries not written for this long go (default 30 days). */
  readonly maxAgeMs?: number;
  /** At most one trim per this long (default a day). */
  readonly everyMs?: number;
  readonly now?: number;
}

/** Trims `dir` if its last trim is older than `everyMs`; returns how many entries it deleted. Best effort: never throws. */
export function trimStale(dir: string, o: TrimOptions): number {
  const now = o.now ?? Date.now();
  const stamp = join(dir, '.trimmed');
  try {
    const last = statSync(stamp, { throwIfNoEntry: false })?.mtimeMs;
    if (last !== undefined && now - last < (o.everyMs ?? DAY_MS)) return 0;
    if (last === undefined) writeFileSync(stamp, '');
    const when = new Date(now);
    utimesSync(stamp, when, when);
  } catch {
    return 0; // an unwritable directory: its writes fail too, so it does not grow
  }
  const maxAgeMs = o.maxAgeMs ?? 30 * DAY_MS;
  let deleted = 0;
  for (const name of safeList(dir)) {
    if (!o.entry(name)) continue;
    const path = join(dir, name);
    try {
      const st = statSync(path, { throwIfNoEntry: false });
      if (!st?.isFile() || now - st.mtimeMs < maxAgeMs) continue;
      rmSync(path, { force: true });
      deleted++;
    } catch {
      // gone meanwhile, or not ours to delete
    }
  }
  return deleted;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
