// The `process` engine: each job a child `rethink exec --key K --remote R` on this machine, with a
// cache directory of its own, as if each ran on a machine of its own that shares only the remote.
// A real executor for one machine with a remote, and the stand-in for Slurm and the queue in tests:
// it goes through the same job spec, the same remote and the same run record. A job's outcome is its
// exit code (0 completed, 1 failed, 2 and 3 failed by the user's input); a job killed by a signal is
// lost. Cancelling is SIGTERM, then SIGKILL after a grace period, and ends when the process has; one
// still running when the coordinator exits, however it exits, is killed then.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { ProgressUpdate } from '../../plugin/types.js';
import type { JobSpec } from '../job-spec.js';
import { errorOf, isJobMessage } from '../job-messages.js';
import { describeError } from '../errors.js';
import { EXEC_EXIT, type EngineContext, type EngineJob, type EngineOutcome, type JobEngine } from '../engine.js';
import { STOP_GRACE_MS } from '../runner.js';
import { ENV } from '../../util/env.js';

export interface ProcessEngineOptions extends Pick<EngineContext, 'remoteUrl' | 'cacheDir' | 'rethink' | 'env'> {
  /** Where the jobs' own cache directories go (default: `<cacheDir>/process-workers`), one per job in flight. */
  readonly workersDir?: string;
  /** How long a job has to stop after SIGTERM before SIGKILL (default 2 s). */
  readonly graceMs?: number;
}


/** How much of a failed job's stderr its reason quotes. */
const STDERR_TAIL = 2000;

/** Job processes still running: killed when this process exits (a second Ctrl-C does not wait for cancels). */
const live = new Set<ChildProcess>();
let exitHook = false;

export class ProcessEngine implements JobEngine {
  readonly name = 'process';
  /** Jobs by key: a second submit of a key in flight attaches to the first. */
  private readonly running = new Map<string, ProcessJob>();
  /** Worker directories free to reuse (a worker's cache outlives its job, as a machine's would). */
  private readonly idle: number[] = [];
  private workers = 0;

  constructor(private readonly options: ProcessEngineOptions) {}

  async submit(spec: JobSpec, _specPath: string, signal: AbortSignal): Promise<EngineJob> {
    signal.throwIfAborted();
    const known = this.running.get(spec.key);
    if (known) return known.attach();
    const worker = this.idle.shift() ?? ++this.workers;
    const dir = join(this.options.workersDir ?? join(this.options.cacheDir, 'process-workers'), `w${worker}`);
    const job = new ProcessJob(this.options, spec.key, dir, `w${worker}`);
    this.running.set(spec.key, job);
    void job.outcome.then(() => {
      this.running.delete(spec.key);
      this.idle.push(worker);
      this.idle.sort((a, b) => a - b);
    });
    return job;
  }

  async close(): Promise<void> {}
}

class ProcessJob implements EngineJob {
  readonly id: string;
  readonly attached = false;
  readonly outcome: Promise<EngineOutcome>;
  private readonly child: ChildProcess;
  private readonly progress = new Set<(update: ProgressUpdate) => void>();
  /** The stage's own error, as the job reported it over IPC: the reason a failure gives. */
  private error: string | undefined;
  private cancelled = false;
  private killer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: ProcessEngineOptions,
    key: string,
    dir: string,
    private readonly worker: string,
  ) {
    const [node, cli, ...rest] = options.rethink;
    const args = [...rest, 'exec', '--key', key, '--remote', options.remoteUrl, '--cache-dir', dir, '--worker', worker];
    // Detached, in a process group of its own: a Ctrl-C in the terminal reaches the coordinator,
    // which decides what it means. It still stops when the coordinator goes (its IPC channel closes).
    // A plugin loaded from a path runs here: this machine's coordinator loaded that very code already.
    const env = { ...options.env, [ENV.allowPluginCode.name]: '1' };
    this.child = fork(cli!, args, { execPath: node!, execArgv: [], env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], detached: true });
    this.id = String(this.child.pid ?? worker);
    live.add(this.child);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const c of live) c.kill('SIGKILL');
      });
    }
    this.outcome = this.watch();
    this.child.on('message', (m) => {
      if (!isJobMessage(m)) return;
      if (m.type === 'progress') for (const l of this.progress) l(m.update);
      else if (m.type === 'result' && !m.ok) this.error = describeError(errorOf(m.error));
    });
  }

  /** The same process, for a second submit of its key. */
  attach(): EngineJob {
    return { id: this.id, attached: true, outcome: this.outcome, onPlacement: (l) => this.onPlacement(l), onProgress: (l) => this.onProgress(l), cancel: () => this.cancel() };
  }

  onPlacement(listener: (where: string) => void): void {
    listener(this.worker);
  }

  onProgress(listener: (update: ProgressUpdate) => void): void {
    this.progress.add(listener);
  }

  /** Resolves once the process is gone: a stage that ignores SIGTERM (a busy loop) gets SIGKILL after the grace. */
  async cancel(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.cancelled = true;
      this.child.kill('SIGTERM');
      this.killer ??= setTimeout(() => this.child.kill('SIGKILL'), this.options.graceMs ?? STOP_GRACE_MS);
    }
    await this.outcome;
  }

  private watch(): Promise<EngineOutcome> {
    let stderr = '';
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => {
      stderr = `${stderr}${chunk}`.slice(-STDERR_TAIL);
    });
    return new Promise((resolve) => {
      this.child.on('error', (e) => {
        live.delete(this.child);
        resolve({ state: 'lost', reason: `could not start rethink exec: ${e.message}` });
      });
      this.child.on('close', (code, signal) => {
        live.delete(this.child);
        clearTimeout(this.killer);
        if (this.cancelled) resolve({ state: 'lost', reason: 'cancelled' });
        else if (signal !== null) resolve({ state: 'lost', reason: `its process (pid ${this.id}) was killed by ${signal}` });
        else if (code === EXEC_EXIT.ok) resolve({ state: 'completed' });
        else {
          const tail = stderr.trim() === '' ? '' : `; its stderr ended:\n${stderr.trimEnd()}`;
          const reason = this.error ?? `rethink exec exited with code ${code}${tail}`;
          const userError = code === EXEC_EXIT.userError || code === EXEC_EXIT.refused;
          resolve({ state: 'failed', reason, ...(userError ? { userError } : {}) });
        }
      });
    });
  }
}
