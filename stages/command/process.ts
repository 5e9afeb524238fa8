// A command as a process group of its own (spawned detached): an abort (timeout, Ctrl-C, the
// executor stopping) ends the whole group, grandchildren included, and so does rethink's own exit;
// whatever the group leaves behind once the command itself exits is killed too.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ProgressUpdate } from '../../src/plugin/types.js';
import { parseLine, Tail } from './lines.js';

export interface ProcessOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  onLine(line: string): void;
  onProgress(update: ProgressUpdate): void;
}

export type ProcessResult =
  /** The program could not be started: ENOENT (not found), EACCES (not executable). */
  | { readonly kind: 'not-started'; readonly code: 'ENOENT' | 'EACCES' }
  | { readonly kind: 'exited'; readonly code: number; readonly tail: readonly string[]; readonly error?: string }
  | { readonly kind: 'signalled'; readonly signal: string; readonly tail: readonly string[]; readonly error?: string };

/** The lines shown when a command fails. */
const TAIL_LINES = 20;
/** How long an aborted group has between SIGTERM and SIGKILL (the executor waits 2 s for a stopped stage). */
const TERM_GRACE_MS = 1000;
/** How long output may still drain once the command exited and its group was killed. */
const DRAIN_MS = 1000;

/** Groups still running, killed if rethink exits first (a second Ctrl-C, an uncaught error). */
const live = new Set<number>();
let exitHook = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

export function runProcess(argv: readonly string[], options: ProcessOptions): Promise<ProcessResult> {
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const pid of live) killGroup(pid, 'SIGKILL');
    });
  }
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail = new Tail(TAIL_LINES);
    let error: string | undefined;
    const onLine = (line: string) => {
      const parsed = parseLine(line);
      if (parsed.kind === 'progress') return options.onProgress(parsed.update);
      if (parsed.kind === 'error') error = parsed.message;
      const text = parsed.kind === 'error' ? `error: ${parsed.message}` : parsed.text;
      tail.push(text);
      options.onLine(text);
    };
    const readers = [child.stdout, child.stderr].map((stream) => {
      const rl = createInterface({ input: stream, crlfDelay: Infinity });
      rl.on('line', onLine);
      return new Promise<void>((done) => rl.once('close', done));
    });
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      if (child.pid === undefined) return;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), TERM_GRACE_MS);
      killTimer.unref();
    };
    child.once('spawn', () => {
      live.add(child.pid!);
      options.signal.addEventListener('abort', onAbort, { once: true });
      if (options.signal.aborted) onAbort();
    });
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'EACCES') resolve({ kind: 'not-started', code: e.code });
      else reject(e);
    });
    child.once('exit', (code, signal) => {
      const pid = child.pid!;
      // Whatever it started and left running (a background job, a daemon in its group) goes with it.
      killGroup(pid, 'SIGKILL');
      live.delete(pid);
      clearTimeout(killTimer);
      options.signal.removeEventListener('abort', onAbort);
      // A process outside the group may hold the pipes open: stop waiting for them after a while.
      const drained = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, DRAIN_MS);
      void Promise.all(readers).then(() => {
        clearTimeout(drained);
        const seen = { tail: tail.get(), ...(error === undefined ? {} : { error }) };
        resolve(code !== null ? { kind: 'exited', code, ...seen } : { kind: 'signalled', signal: signal ?? 'a signal', ...seen });
      });
    });
  });
}
