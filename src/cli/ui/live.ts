// The live view of a cache that `rethink run` (here or through workers) is writing to: which keys are
// being computed now (a live lease in leases/), how far each has got (progress/, see
// store/progress-files.ts), and which failed. Watched with fs.watch, with a slow poll behind it (watch events get lost on network
// file systems and are coalesced everywhere); each change becomes `progress` and `state` events for
// the /api/live subscribers. Parsed files are kept by mtime and size, so a poll reads only what moved.
import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstanceState, LiveEvent, LiveProgress } from '../../ui/api.js';
import type { LocalStore } from '../../store/local.js';
import { keyOfJsonName, progressDirOf, readProgressFile, type ProgressFile } from '../../store/progress-files.js';
import type { CacheKey } from '../../util/brand.js';
import type { LiveView } from './instance-state.js';

export interface LiveOptions {
  /** The slow poll's period (default 2 s). */
  readonly pollMs?: number;
  /** How long watch events are gathered before one rescan (default 50 ms). */
  readonly settleMs?: number;
}

interface KeyState {
  readonly id: string | null;
  readonly running: boolean;
  readonly failed: string | undefined;
  readonly progress: LiveProgress | undefined;
}

/** A progress file as the UI shows it; the ETA from the epochs measured so far, as of the update. */
export function liveProgress(doc: ProgressFile): LiveProgress {
  const ep = doc.update.epochs;
  const metrics = doc.update.metrics ?? {};
  const at = Date.parse(doc.at);
  const ends = doc.epochEndedAt.map((e) => Date.parse(e));
  const last = ends.at(-1);
  let etaSeconds: number | undefined;
  if (ep !== undefined && last !== undefined && ep.total > 0) {
    const perEpoch = (last - Date.parse(doc.startedAt)) / ends.length;
    etaSeconds = Math.max(0, (perEpoch * (ep.total - ends.length) - (at - last)) / 1000);
  }
  const optional = { loss: metrics['loss'], acc: metrics['acc'], etaSeconds, where: doc.where };
  return {
    epoch: ep?.current ?? 0,
    epochs: ep?.total ?? 0,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    updatedAt: doc.at,
  };
}

export class LiveMonitor implements LiveView {
  private readonly subscribers = new Set<(e: LiveEvent) => void>();
  private readonly files = new Map<string, { readonly stamp: string; readonly doc: ProgressFile | undefined }>();
  private states = new Map<string, KeyState>();
  private readonly watchers: FSWatcher[] = [];
  private poll: NodeJS.Timeout | undefined;
  private settle: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private again = false;
  private readonly pollMs: number;
  private readonly settleMs: number;

  constructor(
    private readonly store: LocalStore,
    options: LiveOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 2000;
    this.settleMs = options.settleMs ?? 50;
  }

  /** Reads the current state, then follows changes until `stop`. */
  async start(): Promise<void> {
    await this.scan();
    this.watchDirs();
    this.poll = setInterval(() => this.changed(), this.pollMs);
    this.poll.unref();
  }

  stop(): void {
    clearInterval(this.poll);
    clearTimeout(this.settle);
    for (const w of this.watchers.splice(0)) w.close();
    this.subscribers.clear();
  }

  subscribe(send: (e: LiveEvent) => void): () => void {
    this.subscribers.add(send);
    // A new page starts from what runs now.
    for (const [key, s] of this.states) {
      if (s.running) send({ type: 'state', key, id: s.id, state: 'running' });
      if (s.running && s.progress) send({ type: 'progress', key, id: s.id, progress: s.progress });
      if (s.failed !== undefined) send({ type: 'state', key, id: s.id, state: 'failed' });
    }
    return () => this.subscribers.delete(send);
  }

  progressOf(key: string): LiveProgress | undefined {
    return this.states.get(key)?.progress;
  }

  isRunning(key: string): boolean {
    return this.states.get(key)?.running === true;
  }

  hasFailed(key: string): boolean {
    return this.states.get(key)?.failed !== undefined;
  }

  /** Something may have moved: rescan once the burst of events has settled. */
  private changed(): void {
    if (this.settle) return;
    this.settle = setTimeout(() => {
      this.settle = undefined;
      void this.scan();
    }, this.settleMs);
    this.settle.unref();
  }

  private watchDirs(): void {
    const dirs = [this.store.location, join(this.store.location, 'leases'), progressDirOf(this.store.location)];
    for (const dir of dirs) {
      try {
        const w = watch(dir, { persistent: false }, () => this.changed());
        w.on('error', () => w.close());
        this.watchers.push(w);
      } catch {
        // not there yet (no run has made it) or not watchable: the poll sees it
      }
    }
  }

  /** One scan at a time; a change during a scan makes one more. */
  scan(): Promise<void> {
    if (this.scanning) {
      this.again = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.again = false;
        await this.scanOnce();
      } while (this.again);
    })().finally(() => (this.scanning = undefined));
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    if (this.watchers.length < 3 && this.poll !== undefined) {
      // A directory that appeared since the start (the first run made it): watch it too.
      for (const w of this.watchers.splice(0)) w.close();
      this.watchDirs();
    }
    const progress = await this.readProgress();
    const holders = await this.readLeases();
    const next = new Map<string, KeyState>();
    for (const key of new Set([...progress.keys(), ...holders.keys()])) {
      const doc = progress.get(key);
      const failed = doc?.failed;
      // Running means a live lease: a progress file without one is what a killed run left behind.
      const running = holders.has(key);
      if (!running && failed === undefined) continue;
      next.set(key, {
        id: doc?.id ?? holders.get(key) ?? null,
        running,
        failed: running ? undefined : failed,
        progress: running && doc !== undefined && failed === undefined ? liveProgress(doc) : undefined,
      });
    }
    const before = this.states;
    this.states = next;
    for (const [key, s] of next) {
      const was = before.get(key);
      if (s.running && was?.running !== true) this.emit({ type: 'state', key, id: s.id, state: 'running' });
      if (s.failed !== undefined && was?.failed === undefined) this.emit({ type: 'state', key, id: s.id, state: 'failed' });
      if (s.running && s.progress && s.progress.updatedAt !== was?.progress?.updatedAt) this.emit({ type: 'progress', key, id: s.id, progress: s.progress });
    }
    for (const [key, was] of before) {
      if (!was.running || next.get(key)?.running === true || next.get(key)?.failed !== undefined) continue;
      const stored = (await this.store.readRun(key as CacheKey)) !== undefined;
      const state: InstanceState = stored ? 'up-to-date' : 'stale';
      this.emit({ type: 'state', key, id: was.id, state });
    }
  }

  private emit(e: LiveEvent): void {
    for (const send of this.subscribers) send(e);
  }

  private async readProgress(): Promise<Map<string, ProgressFile>> {
    const dir = progressDirOf(this.store.location);
    const out = new Map<string, ProgressFile>();
    const seen = new Set<string>();
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const key = keyOfJsonName(name);
      if (key === undefined) continue;
      const path = join(dir, name);
      const st = await stat(path).catch(() => undefined);
      if (!st?.isFile()) continue;
      seen.add(key);
      const stamp = `${st.mtimeMs}:${st.size}`;
      let entry = this.files.get(key);
      if (entry?.stamp !== stamp) {
        entry = { stamp, doc: await readProgressFile(path) };
        this.files.set(key, entry);
      }
      if (entry.doc?.key === key) out.set(key, entry.doc);
    }
    for (const key of this.files.keys()) if (!seen.has(key)) this.files.delete(key);
    return out;
  }

  /** Keys with a live lease holder, and the instance id each holder computes. */
  private async readLeases(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const name of await readdir(join(this.store.location, 'leases')).catch(() => [] as string[])) {
      const key = keyOfJsonName(name);
      if (key === undefined) continue;
      const holder = await this.store.leases.holderOf(key as CacheKey);
      if (holder) out.set(key, holder.stage);
    }
    return out;
  }
}
