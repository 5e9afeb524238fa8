// A worker slot's warm child: `rethink exec --serve`, forked once and handed one job at a time over
// IPC, so that a stage that blocks its event loop (a CPU training) never blocks the worker process,
// which must keep renewing its jobs' locks in Redis. The protocol: the child says `ready` once warm;
// the worker sends `job` (a spec and where it runs) and maybe `cancel`; the child answers with the
// job messages of exec.ts (`progress`, `log`, then one `result`) and stays for the next job.
import { childExecArgv } from '../exec/cli-entry.js';
import { eachLine } from '../util/stream-lines.js';
import { fork, type ChildProcess } from 'node:child_process';
import { isJobMessage, type JobResult, type ServeRequest } from '../exec/job-messages.js';
import type { ProgressUpdate } from '../plugin/types.js';

/** What each slot forks: a module and its arguments (normally the CLI with `exec --serve …`). */
export interface ChildCommand {
  readonly module: string;
  readonly args: readonly string[];
}

export type ToChild = ServeRequest;

/** How a job handed to a child ended: its result, or the child's death without one. */
export type ChildOutcome = { readonly kind: 'result'; readonly result: JobResult } | { readonly kind: 'died'; readonly how: string };

export interface ChildHooks {
  onProgress(update: ProgressUpdate): void;
  onLog(line: string): void;
}

/** How much of a child's stderr a death quotes. */
const STDERR_TAIL = 2000;

export class WarmChild {
  /** Settles with how the process ended (`exited with code 1`, `was killed by SIGKILL`) and its stderr's tail. */
  readonly exited: Promise<string>;
  private current: { hooks: ChildHooks; done: (o: ChildOutcome) => void } | undefined;
  private stderr = '';
  private killer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly child: ChildProcess,
    private readonly graceMs: number,
    log: (line: string) => void,
  ) {
    // Between jobs, what the child prints is the worker's log; during one, the job's.
    const line = (l: string) => (this.current ? this.current.hooks.onLog(l) : log(l));
    eachLine(child.stdout!, line);
    eachLine(child.stderr!, line);
    child.stderr!.on('data', (t: string) => (this.stderr = (this.stderr + t).slice(-STDERR_TAIL)));
    child.on('message', (m) => {
      const job = this.current;
      if (job === undefined || !isJobMessage(m)) return;
      if (m.type === 'ready') return;
      if (m.type === 'progress') job.hooks.onProgress(m.update);
      else if (m.type === 'log') job.hooks.onLog(m.message);
      else {
        this.current = undefined;
        clearTimeout(this.killer);
        this.killer = undefined;
        const { type: _type, ...result } = m;
        job.done({ kind: 'result', result });
      }
    });
    this.exited = new Promise((resolve) => {
      child.on('error', (e) => resolve(`could not be started: ${e.message}`));
      child.on('exit', (code, signal) => {
        clearTimeout(this.killer);
        const how = signal === null ? `exited with code ${code}` : `was killed by ${signal}`;
        const tail = this.stderr.trim() === '' ? '' : `; its stderr ended:\n${this.stderr.trimEnd()}`;
        resolve(`${how}${tail}`);
      });
    });
    void this.exited.then((how) => {
      const job = this.current;
      this.current = undefined;
      job?.done({ kind: 'died', how: `(pid ${child.pid}) ${how}` });
    });
  }

  /** Forks the command; resolves once the child says it is ready, rejects with how it ended if it ends first. */
  static start(command: ChildCommand, graceMs: number, log: (line: string) => void): Promise<WarmChild> {
    // A debugger's port or the test runner's flags are this process's, not the child's.
    const execArgv = childExecArgv();
    const proc = fork(command.module, [...command.args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv });
    const child = new WarmChild(proc, graceMs, log);
    return new Promise((resolve, reject) => {
      const ready = (m: unknown) => {
        if ((m as { type?: unknown } | null)?.type !== 'ready') return;
        proc.off('message', ready);
        resolve(child);
      };
      proc.on('message', ready);
      void child.exited.then((how) => reject(new Error(`the stage process ${command.module} ${how}`)));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Hands it a job; one at a time. */
  run(message: ToChild & { type: 'job' }, hooks: ChildHooks): Promise<ChildOutcome> {
    if (this.current !== undefined) throw new Error('a warm child runs one job at a time');
    return new Promise((done) => {
      this.current = { hooks, done };
      this.send(message);
    });
  }

  /** Asks it to stop the job (it checkpoints and answers with a failed result); killed if it has not answered within the grace. */
  cancel(): void {
    if (this.current === undefined) return;
    this.send({ type: 'cancel' });
    this.killer ??= setTimeout(() => this.child.kill('SIGKILL'), this.graceMs);
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  private send(message: ToChild): void {
    // A child that just died: its exit settles the job.
    if (this.child.connected) this.child.send(message, (e) => void e);
  }
}
