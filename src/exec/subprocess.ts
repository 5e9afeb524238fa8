// The `subprocess` executor: each stage in a child `rethink exec`, so that a plugin that blocks its
// event loop (a busy loop, a CPU training) or crashes cannot take the coordinator with it, and a
// timeout or Ctrl-C can always stop it: SIGTERM, then SIGKILL after a grace period.
import { eachLine } from '../util/stream-lines.js';
import { fork, type ChildProcess } from 'node:child_process';
import { CLI_ENTRY, childExecArgv } from './cli-entry.js';
import type { Plan } from '../plan/plan.js';
import { outputObjects, type Store } from '../store/types.js';
import { STOP_GRACE_MS, type RunHooks, type Runner, type StageJob, type StageResult } from './runner.js';
import { buildJobSpec } from './job-spec.js';
import { errorOf, isJobMessage, type JobResult } from './job-messages.js';
import type { InputArtifact } from './context.js';

export interface SubprocessOptions {
  readonly plan: Plan;
  /** The coordinator's store: inputs are made local through it before the child starts. */
  readonly store: Store;
  /** The local cache directory the child publishes into. */
  readonly cacheDir: string;
  /** How long a child has to stop after SIGTERM before SIGKILL (default 2 s). */
  readonly graceMs?: number;
}

/** How much of a crashed child's stderr its error quotes. */
const STDERR_TAIL = 2000;


/** Children still running: killed when this process exits, however it exits (a second Ctrl-C). */
const live = new Set<ChildProcess>();
let exitHook = false;

export class SubprocessRunner implements Runner {
  constructor(private readonly options: SubprocessOptions) {}

  async run(job: StageJob, hooks: RunHooks): Promise<StageResult> {
    hooks.signal.throwIfAborted();
    // A remote store downloads inputs here; the child reads the local cache only.
    const inputs = Object.values(job.inputs).flatMap((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v as InputArtifact]));
    await Promise.all(inputs.flatMap(outputObjects).map((o) => this.options.store.objectPath(o.hash, o.size)));
    const spec = buildJobSpec(job, this.options.plan);
    hooks.signal.throwIfAborted();
    const result = await this.child(JSON.stringify(spec), hooks);
    return { outputs: result.outputs, provenance: result.provenance };
  }

  private child(spec: string, hooks: RunHooks): Promise<JobResult & { ok: true }> {
    // The backend `--backend` chose travels in the spec (job-spec.ts), not in the environment.
    const { cacheDir, graceMs = STOP_GRACE_MS } = this.options;
    const args = ['exec', '--spec', '-', '--cache-dir', cacheDir];
    const execArgv = childExecArgv();
    const child = fork(CLI_ENTRY, args, { stdio: ['pipe', 'pipe', 'pipe', 'ipc'], execArgv, env: process.env });
    live.add(child);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const c of live) c.kill('SIGKILL');
      });
    }
    return new Promise((resolve, reject) => {
      let result: JobResult | undefined;
      let stderr = '';
      let killer: NodeJS.Timeout | undefined;
      const stop = () => {
        child.kill('SIGTERM');
        killer ??= setTimeout(() => child.kill('SIGKILL'), graceMs);
      };
      hooks.signal.addEventListener('abort', stop, { once: true });
      child.stdin!.on('error', () => undefined); // a child that died at once: its exit says why
      child.stdin!.end(spec);
      eachLine(child.stdout!, (line) => hooks.onLog(line));
      eachLine(child.stderr!, (line) => {
        stderr = `${stderr}${line}\n`.slice(-STDERR_TAIL);
        hooks.onLog(line);
      });
      child.on('message', (m) => {
        if (!isJobMessage(m)) return;
        if (m.type === 'progress') hooks.onProgress(m.update);
        else if (m.type === 'log') hooks.onLog(m.message);
        else if (m.type === 'result') {
          result = m;
          // Whatever the plugin left running does not hold the stage: the child has its grace, then goes.
          killer ??= setTimeout(() => child.kill('SIGKILL'), graceMs);
        }
      });
      child.on('error', (e) => {
        // fork failed (no node, no CLI): 'close' may never come.
        live.delete(child);
        hooks.signal.removeEventListener('abort', stop);
        clearTimeout(killer);
        reject(new Error(`could not start the stage's process (${CLI_ENTRY}): ${e.message}`));
      });
      child.on('close', (code, signal) => {
        live.delete(child);
        hooks.signal.removeEventListener('abort', stop);
        clearTimeout(killer);
        // Stopped on purpose: the outputs it had not published stay out of the cache, the reason is the signal's.
        if (hooks.signal.aborted) reject(hooks.signal.reason);
        else if (result?.ok) resolve(result);
        else if (result) reject(errorOf(result.error));
        else {
          const how = signal === null ? `exited with code ${code}` : `was killed by ${signal}`;
          const tail = stderr.trim() === '' ? '' : `; its stderr ended:\n${stderr.trimEnd()}`;
          reject(new Error(`the stage's process (pid ${child.pid}) ${how} before reporting a result${tail}`));
        }
      });
    });
  }
}
