// An observer of a run that keeps each running stage's progress file in the local cache up to date
// (see store/progress-files.ts), so that `rethink ui` in another process shows it live. At most one
// write per stage per interval (the last update wins); a write that fails is a warning once, never a
// failed stage: progress is a courtesy.
import type { ExecEvent, Observer } from './events.js';
import type { ProgressUpdate } from '../plugin/types.js';
import { removeProgressFile, writeProgressFile, type ProgressFile } from '../store/progress-files.js';
import { errorText } from '../util/error-text.js';

interface Running {
  readonly key: string;
  readonly startedAt: string;
  update: ProgressUpdate;
  /** Epochs known finished, and when each ended. */
  done: number;
  readonly epochEndedAt: string[];
  where?: string;
  timer?: NodeJS.Timeout | undefined;
  lastWrite: number;
  /** Writes for this stage, in order: a slow one never lands after a newer one. */
  chain: Promise<void>;
}

export interface ProgressRecorder {
  readonly observe: Observer;
  /** Waits for the writes in flight. */
  flush(): Promise<void>;
  /** Removes the files of stages that never ended (an interrupted run), then waits for every write. */
  close(): Promise<void>;
}

export function progressRecorder(cacheDir: string, pipeline: string, warn: (message: string) => void, intervalMs = 500, now: () => number = Date.now): ProgressRecorder {
  const running = new Map<string, Running>();
  let warned = false;
  const chains = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    const settled = p.catch((e: unknown) => {
      if (warned) return;
      warned = true;
      warn(`cannot write progress under ${cacheDir}: ${errorText(e)} (rethink ui will not show it live)`);
    });
    chains.add(settled);
    void settled.finally(() => chains.delete(settled));
    return settled;
  };
  const write = (id: string, r: Running, failed?: string) => {
    clearTimeout(r.timer);
    r.timer = undefined;
    r.lastWrite = now();
    const doc: ProgressFile = {
      format: 1,
      key: r.key,
      id,
      pipeline,
      startedAt: r.startedAt,
      at: new Date(r.lastWrite).toISOString(),
      update: r.update,
      epochEndedAt: r.epochEndedAt,
      ...(r.where === undefined ? {} : { where: r.where }),
      ...(failed === undefined ? {} : { failed }),
    };
    r.chain = track(r.chain.then(() => writeProgressFile(cacheDir, doc)));
  };
  const schedule = (id: string, r: Running) => {
    if (r.timer) return;
    const wait = r.lastWrite + intervalMs - now();
    if (wait <= 0) write(id, r);
    else r.timer = setTimeout(() => write(id, r), wait);
  };
  const observe = (e: ExecEvent): void => {
    switch (e.type) {
      case 'stage-start': {
        const r: Running = { key: e.key, startedAt: new Date(now()).toISOString(), update: {}, done: 0, epochEndedAt: [], lastWrite: -Infinity, chain: Promise.resolve() };
        running.set(e.id, r);
        write(e.id, r);
        return;
      }
      case 'stage-progress': {
        const r = running.get(e.id);
        if (!r) return;
        r.update = e.update;
        const finished = e.update.epochs?.finished;
        if (finished !== undefined) {
          // The wall time at which each epoch was first reported finished: the UI's ETA reads them.
          while (r.done < finished) {
            r.done++;
            r.epochEndedAt.push(new Date(now()).toISOString());
          }
        }
        schedule(e.id, r);
        return;
      }
      case 'stage-placed': {
        const r = running.get(e.id);
        if (!r) return;
        r.where = e.where;
        schedule(e.id, r);
        return;
      }
      case 'stage-end': {
        const r = running.get(e.report.id);
        if (!r) return;
        running.delete(e.report.id);
        clearTimeout(r.timer);
        if (e.report.status === 'failed') write(e.report.id, r, e.report.reason ?? 'failed');
        else r.chain = track(r.chain.then(() => removeProgressFile(cacheDir, r.key)));
        return;
      }
      default:
        return;
    }
  };
  const flush = async () => {
    await Promise.all([...chains]);
  };
  return {
    observe,
    flush,
    async close() {
      // Stages still listed never ended (an interrupted run): their files go, nothing runs them now.
      for (const r of running.values()) {
        clearTimeout(r.timer);
        r.chain = track(r.chain.then(() => removeProgressFile(cacheDir, r.key)));
      }
      running.clear();
      await flush();
    },
  };
}
