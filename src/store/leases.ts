// Single flight across processes that share one cache: the process that starts computing a stage key
// first holds its lease (`cache/leases/<key>.json`), and any other process that needs the same key
// waits for that result instead of computing it again (a second terminal, a second sweep with
// shared upstream stages, a cache on a shared filesystem).
//
// Leases only save duplicate work. Results stay correct without them (every write is atomic and
// content-addressed), so a lost race costs time, never a wrong result. That is why a holder that is
// gone is simply taken over: a dead process on this host at once (a live process that was given the
// dead one's pid is told apart by its start time, where the platform knows it), a silent one
// elsewhere once its heartbeat is `staleMs` old.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { link, readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CacheKey } from '../util/brand.js';
import { processIsAlive, processStart, stillRunning, type ProcessProbe } from '../util/process-start.js';

/** Who is computing a key: what a waiting process shows its user. */
export interface LeaseHolder {
  readonly pid: number;
  readonly host: string;
  readonly pipeline: string;
  readonly stage: string;
  /** When the holder started (ISO 8601). */
  readonly since: string;
  /** Tells this holding apart from an earlier one of the same process id. */
  readonly token: string;
  /**
   * When the holding process started (`<boot id>/<clock ticks>`, Linux): a live process with the
   * holder's pid and another start time got the pid after the holder died. Absent in leases of older
   * rethinks and where the platform does not say; the pid alone decides then.
   */
  readonly start?: string;
}

export interface Lease {
  readonly holder: LeaseHolder;
  /** Gives the key up (idempotent); a lease someone has since taken over is left to them. */
  release(): Promise<void>;
}

/** Either this process now computes the key, or another one does. */
export type Claim = { readonly held: Lease; readonly busy?: undefined } | { readonly busy: LeaseHolder; readonly held?: undefined };

export interface LeaseOptions {
  /** How often a holder touches its lease file (default 30 s). */
  readonly heartbeatMs?: number;
  /** A holder on another host whose lease file is this old is gone (default 10 minutes). */
  readonly staleMs?: number;
  /** How long a waiter sleeps between looks at most (default 1 s; it starts at a tenth of that). */
  readonly pollMs?: number;
  readonly host?: string;
  readonly pid?: number;
  /** Whether a process of this host is running (default: `process.kill(pid, 0)`). */
  readonly isAlive?: (pid: number) => boolean;
  /** When a process of this host started (default: from /proc on Linux, else unknown). */
  readonly startOf?: (pid: number) => string | undefined;
  readonly now?: () => number;
}

export class Leases {
  private readonly heartbeatMs: number;
  private readonly staleMs: number;
  private readonly pollMs: number;
  private readonly host: string;
  private readonly pid: number;
  /** This process's start stamp, recorded in its leases (unknown for a pid the caller made up). */
  private readonly start: string | undefined;
  private readonly processes: ProcessProbe;
  private readonly now: () => number;
  /** Tokens of the leases this object holds now: a file with our pid and another token is a leftover. */
  private readonly mine = new Set<string>();
  private ready = false;
  private warned = false;

  constructor(
    readonly dir: string,
    options: LeaseOptions = {},
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 30_000;
    this.staleMs = options.staleMs ?? 600_000;
    this.pollMs = options.pollMs ?? 1000;
    this.host = options.host ?? hostname();
    this.pid = options.pid ?? process.pid;
    this.processes = { isAlive: options.isAlive ?? processIsAlive, startOf: options.startOf ?? processStart };
    this.start = options.pid === undefined ? this.processes.startOf(this.pid) : undefined;
    this.now = options.now ?? Date.now;
  }

  private file(key: CacheKey): string {
    return join(this.dir, `${key}.json`);
  }

  /**
   * Takes the key's lease, or says who holds it. A holder that is gone is taken over. Where leases
   * cannot work (a cache on a filesystem without hard links, an unwritable leases/), every claim
   * succeeds, once with a warning: single flight is an economy, never a reason to fail a run.
   */
  async claim(key: CacheKey, about: { readonly pipeline: string; readonly stage: string }): Promise<Claim> {
    try {
      return await this.tryClaim(key, about);
    } catch (e) {
      if (!this.warned) {
        this.warned = true;
        process.emitWarning(`leases in ${this.dir} do not work here (${(e as Error).message}); concurrent runs on this cache may compute a stage twice`, 'RethinkLeaseWarning');
      }
      const holder: LeaseHolder = { pid: this.pid, host: this.host, ...about, since: new Date(this.now()).toISOString(), token: 'none' };
      return { held: { holder, release: async () => {} } };
    }
  }

  private async tryClaim(key: CacheKey, about: { readonly pipeline: string; readonly stage: string }): Promise<Claim> {
    if (!this.ready) {
      mkdirSync(this.dir, { recursive: true });
      this.ready = true;
    }
    const holder: LeaseHolder = {
      pid: this.pid,
      host: this.host,
      ...about,
      since: new Date(this.now()).toISOString(),
      token: randomBytes(8).toString('hex'),
      ...(this.start === undefined ? {} : { start: this.start }),
    };
    const path = this.file(key);
    // The lease appears whole or not at all: written aside, then hard-linked into place, which
    // fails if the name exists (an exclusive create would let a reader see an empty file). The
    // uncontended path is synchronous: a few tiny file operations cost less than their round trips
    // through libuv's thread pool, and every stage that runs takes this path.
    const draft = join(this.dir, `.${holder.token}.draft`);
    writeFileSync(draft, `${JSON.stringify(holder)}\n`);
    try {
      for (;;) {
        try {
          linkSync(draft, path);
          return { held: this.hold(path, holder) };
        } catch (e) {
          if (!isCode(e, 'EEXIST')) throw e;
        }
        const current = await this.read(path);
        if (current === 'gone') continue;
        if (current !== 'unreadable' && !this.isStale(current.holder, current.mtimeMs)) return { busy: current.holder };
        await this.breakStale(path, current === 'unreadable' ? undefined : current.holder.token, draft);
      }
    } finally {
      rmSync(draft, { force: true });
    }
  }

  /**
   * Deletes what dead processes left: leases whose holder is gone (dead, or its pid now another
   * process's), and drafts and break leases an hour old. Returns how many files went. (A claim takes
   * over a stale lease anyway; this only tidies.)
   */
  async sweep(): Promise<number> {
    let swept = 0;
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      const path = join(this.dir, name);
      if (name.endsWith('.json')) {
        const current = await this.read(path).catch((): LeaseFile => 'gone');
        if (current === 'gone' || (current !== 'unreadable' && !this.isStale(current.holder, current.mtimeMs))) continue;
      } else {
        const st = await stat(path).catch(() => undefined);
        if (!st || this.now() - st.mtimeMs < 3_600_000) continue;
      }
      await rm(path, { force: true });
      swept++;
    }
    return swept;
  }

  /** The live holder of a key's lease, if any (for `status`). */
  async holderOf(key: CacheKey): Promise<LeaseHolder | undefined> {
    const current = await this.read(this.file(key)).catch((): LeaseFile => 'gone');
    if (current === 'gone' || current === 'unreadable' || this.isStale(current.holder, current.mtimeMs)) return undefined;
    return current.holder;
  }

  /**
   * Resolves once `holder` no longer holds the key: released, taken over, or gone. Rejects with the
   * signal's reason when it aborts first.
   */
  async released(key: CacheKey, holder: LeaseHolder, signal?: AbortSignal): Promise<void> {
    const path = this.file(key);
    let delay = this.pollMs / 10;
    for (;;) {
      signal?.throwIfAborted();
      const current = await this.read(path).catch((): LeaseFile => 'gone'); // unreadable leases/: stop waiting
      if (current === 'gone' || current === 'unreadable' || current.holder.token !== holder.token) return;
      if (this.isStale(current.holder, current.mtimeMs)) return;
      await sleep(delay, undefined, signal ? { signal } : {});
      delay = Math.min(this.pollMs, delay * 1.5);
    }
  }

  private hold(path: string, holder: LeaseHolder): Lease {
    this.mine.add(holder.token);
    const beat = setInterval(() => {
      const t = new Date(this.now());
      utimes(path, t, t).catch(() => undefined);
    }, this.heartbeatMs);
    beat.unref();
    let released = false;
    return {
      holder,
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(beat);
        this.mine.delete(holder.token);
        try {
          const current = this.readSync(path);
          if (current !== 'gone' && current !== 'unreadable' && current.holder.token === holder.token) rmSync(path, { force: true });
        } catch {
          // left for the next claimer to find stale: a release never fails the stage it ends
        }
      },
    };
  }

  private isStale(h: LeaseHolder, mtimeMs: number): boolean {
    if (h.host !== this.host) return this.now() - mtimeMs > this.staleMs;
    // This host: the process id and start time say it. Our own id with a token we do not hold is a
    // leftover of an earlier process that had the same id.
    if (h.pid === this.pid) return !this.mine.has(h.token);
    return !stillRunning(this.processes, h.pid, h.start);
  }

  /**
   * Removes a stale lease. Breakers take turns through a second lease (`<key>.json.break`): without
   * it, a process that judged the old lease stale could delete the fresh lease another breaker has
   * just put in its place. A break lease is only held for a read and an unlink; one older than a
   * minute is a crashed breaker's and is removed.
   */
  private async breakStale(path: string, staleToken: string | undefined, draft: string): Promise<void> {
    const lock = `${path}.break`;
    try {
      await link(draft, lock);
    } catch (e) {
      if (!isCode(e, 'EEXIST')) throw e;
      const since = await stat(lock).then((st) => this.now() - st.mtimeMs, () => 0);
      if (since > 60_000) await rm(lock, { force: true });
      else await sleep(5);
      return; // the caller looks again
    }
    try {
      const current = await this.read(path);
      const same = current === 'unreadable' ? staleToken === undefined : current !== 'gone' && current.holder.token === staleToken;
      if (same) await rm(path, { force: true });
    } finally {
      await rm(lock, { force: true });
    }
  }

  private async read(path: string): Promise<LeaseFile> {
    try {
      const [text, { mtimeMs }] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
      return parseLease(text, mtimeMs);
    } catch (e) {
      if (isCode(e, 'ENOENT')) return 'gone';
      throw e;
    }
  }

  private readSync(path: string): LeaseFile {
    try {
      return parseLease(readFileSync(path, 'utf8'), statSync(path).mtimeMs);
    } catch (e) {
      if (isCode(e, 'ENOENT')) return 'gone';
      throw e;
    }
  }
}

type LeaseFile = { readonly holder: LeaseHolder; readonly mtimeMs: number } | 'gone' | 'unreadable';

function parseLease(text: string, mtimeMs: number): LeaseFile {
  try {
    const h = JSON.parse(text) as Partial<LeaseHolder>;
    if (typeof h.pid !== 'number' || typeof h.host !== 'string' || typeof h.token !== 'string') return 'unreadable';
    const start = typeof h.start === 'string' ? { start: h.start } : {};
    return { holder: { pid: h.pid, host: h.host, token: h.token, pipeline: String(h.pipeline ?? '?'), stage: String(h.stage ?? '?'), since: String(h.since ?? ''), ...start }, mtimeMs };
  } catch {
    return 'unreadable';
  }
}

/** "pid 4242 on lab-3 (pipelines/table1.yaml, since 14:03:12)" */
export function describeHolder(h: LeaseHolder, host: string = hostname()): string {
  const since = h.since.length >= 19 ? h.since.slice(11, 19) : h.since;
  return `pid ${h.pid}${h.host === host ? '' : ` on ${h.host}`} (${h.pipeline}, since ${since} UTC)`;
}

function isCode(e: unknown, code: string): boolean {
  return (e as NodeJS.ErrnoException | null)?.code === code;
}
