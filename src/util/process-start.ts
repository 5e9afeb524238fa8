// Tells a running process apart from a later one that was given the same pid. On Linux a process's
// start time is field 22 of /proc/<pid>/stat (clock ticks since boot), qualified by the boot id so
// that a reboot shows too; elsewhere it is unknown, and a pid that exists is all there is to go on.
import { readFileSync } from 'node:fs';

/** The two questions asked of this host's process table; tests answer them with a fake one. */
export interface ProcessProbe {
  /** Whether a process with this id runs on this host (whoever owns it). */
  isAlive(pid: number): boolean;
  /** An opaque stamp of when it started, equal for one process and different for the next; undefined where unknown. */
  startOf(pid: number): string | undefined;
}

export const systemProcesses: ProcessProbe = { isAlive: processIsAlive, startOf: processStart };

/**
 * Whether the process that recorded `pid` (and `start`, where it knew it) still runs: the pid exists
 * and, when both start stamps are known, they are the same. A recorded stamp of undefined (an older
 * rethink, or a platform without start times) falls back to the pid alone.
 */
export function stillRunning(probe: ProcessProbe, pid: number, start: string | undefined): boolean {
  if (!probe.isAlive(pid)) return false;
  if (start === undefined) return true;
  const now = probe.startOf(pid);
  return now === undefined || now === start;
}

export function processIsAlive(pid: number): boolean {
  // kill(0, …) and kill(-n, …) address process groups: never a yes for a bogus recorded id.
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException | null)?.code === 'EPERM'; // it exists, owned by another user
  }
}

/** `<boot id>/<start ticks>` of a process of this host; undefined off Linux or once it is gone. */
export function processStart(pid: number): string | undefined {
  const boot = bootId();
  if (boot === undefined || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Field 2, the command name in parentheses, may itself hold spaces and parentheses: the fields
  // after the last ')' start at field 3, so field 22 is the 20th of them.
  const ticks = stat.slice(stat.lastIndexOf(')') + 1).trim().split(' ')[22 - 3];
  return ticks !== undefined && /^\d+$/.test(ticks) ? `${boot}/${ticks}` : undefined;
}

let cachedBootId: string | null | undefined;

function bootId(): string | undefined {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      cachedBootId = null;
    }
  }
  return cachedBootId ?? undefined;
}
