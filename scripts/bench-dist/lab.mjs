// The processes and directories of `npm run bench:dist`: private redis-servers, `rethink worker`s and
// `rethink run` coordinators, all under one temp directory. Each process is started in a process
// group of its own, so that stopping it (or the whole lab, on Ctrl-C too) kills its children as well:
// a worker's warm `rethink exec --serve` children die with it, as they do when its machine dies.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

/** The built CLI (`npm run build`). */
export const CLI = fileURLToPath(new URL('../../dist/src/bin/rethink.js', import.meta.url));

/** The last `max` characters a process wrote, for error messages. */
class Tail {
  text = '';
  constructor(max = 8_000) {
    this.max = max;
  }
  add(chunk) {
    this.text = (this.text + chunk).slice(-this.max);
  }
}

export class Lab {
  /** Process group ids (the leaders' pids) of everything started and not yet known to be gone. */
  #groups = new Set();
  #count = 0;
  /** Extra directories to remove with the lab (a Slurm cluster's). */
  #dirs = new Set();
  /** Graceful stops of what the lab did not start itself (a Slurm cluster), for shutdown(). */
  #stops = new Set();

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'rethink-bench-dist-'));
  }

  /** A fresh directory under the lab's root. */
  dir(name) {
    const dir = join(this.root, `${name}-${++this.#count}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** Removed with the lab. */
  adopt(dir) {
    this.#dirs.add(dir);
  }

  /** `stop` runs on shutdown() unless the function returned is called first (it was stopped already). */
  defer(stop) {
    this.#stops.add(stop);
    return () => this.#stops.delete(stop);
  }

  /** For a Ctrl-C: kills what the lab started, runs the deferred stops (for at most `limitMs`), then close(). */
  async shutdown(limitMs = 20_000) {
    this.#killAll();
    let timer;
    const stops = Promise.allSettled([...this.#stops].map((stop) => stop()));
    await Promise.race([stops, new Promise((r) => (timer = setTimeout(r, limitMs)))]);
    clearTimeout(timer);
    this.close();
  }

  /** Starts `command` in its own process group; `tail` keeps the end of its stdout and stderr. */
  spawn(command, args, options = {}) {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options, detached: true });
    const pgid = child.pid;
    if (pgid === undefined) throw new Error(`cannot start ${command}`);
    this.#groups.add(pgid);
    child.tail = new Tail();
    child.stdout?.on('data', (d) => child.tail.add(d.toString()));
    child.stderr?.on('data', (d) => child.tail.add(d.toString()));
    child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    // Forget the group once nothing is left in it (a leader's children may outlive it).
    void child.exited.then(() => {
      if (!groupAlive(pgid)) this.#groups.delete(pgid);
    });
    return child;
  }

  /** SIGKILL to the process and everything in its group. */
  kill(child) {
    killGroup(child.pid, 'SIGKILL');
    this.#groups.delete(child.pid);
  }

  /** SIGTERM (a graceful stop), then SIGKILL to its group once it exited or after `graceMs`. */
  async stop(child, graceMs = 10_000) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      let timer;
      await Promise.race([child.exited, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    }
    this.kill(child);
  }

  /** A private redis-server on a free loopback port, without persistence. */
  async redis() {
    const port = await freePort();
    const child = this.spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no']);
    await untilSaid(child, /Ready to accept connections/, `redis-server on port ${port}`);
    return { url: `redis://127.0.0.1:${port}/0`, stop: () => this.kill(child) };
  }

  /**
   * A `rethink worker` in a directory of its own (its cache), serving `queue` for the coordinators
   * of `remote`, running path plugins (their code fetched from the remote by hash); resolves once it
   * serves. `lockMs`/`stalledMs` are its BullMQ lock and stalled-check settings (default: the CLI's).
   */
  async worker({ queue, remote, name, lockMs, stalledMs, env = {} }) {
    const dir = this.dir(`worker-${name}`);
    const timing = [...(lockMs === undefined ? [] : ['--lock-ms', String(lockMs)]), ...(stalledMs === undefined ? [] : ['--stalled-ms', String(stalledMs)])];
    const args = ['--no-warnings', CLI, 'worker', '--queue', queue, '--remote', remote, '--cache-dir', join(dir, 'cache'), '--name', name, '--allow-plugin-code', ...timing];
    const child = this.spawn(process.execPath, args, { cwd: dir, env: { ...process.env, ...env } });
    await untilSaid(child, /serving/, `worker ${name}`);
    return { name, child };
  }

  /**
   * `rethink run ARGS --json` in `cwd`; resolves with its wall time (spawn to exit, CLI start-up
   * included) and its JSON document, rejects if it fails or a stage did not run.
   */
  async run(args, { cwd, env = {} }) {
    const t = performance.now();
    const child = this.spawn(process.execPath, ['--no-warnings', CLI, 'run', ...args, '--json'], { cwd, env: { ...process.env, ...env } });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d.toString()));
    const { code, signal } = await child.exited;
    const seconds = (performance.now() - t) / 1000;
    if (code !== 0) throw new Error(`rethink run ${args.join(' ')} exited with ${code ?? signal}:\n${child.tail.text}`);
    const doc = JSON.parse(stdout);
    const notRan = doc.stages.filter((s) => s.status !== 'ran');
    if (notRan.length > 0) throw new Error(`rethink run ${args.join(' ')}: ${notRan.length} stages did not run (${notRan[0].id}: ${notRan[0].status})`);
    return { seconds, doc };
  }

  /** Kills everything still running and removes every directory; synchronous, for exit handlers too. */
  close() {
    this.#killAll();
    for (const dir of [this.root, ...this.#dirs]) rmSync(dir, { recursive: true, force: true });
  }

  #killAll() {
    for (const pgid of this.#groups) killGroup(pgid, 'SIGKILL');
    this.#groups.clear();
  }
}

function killGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch (e) {
    if (e.code !== 'ESRCH') throw e;
  }
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once the child's output matches `pattern`; rejects if it exits first. */
function untilSaid(child, pattern, what) {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!pattern.test(child.tail.text)) return;
      child.stdout.off('data', check);
      child.stderr.off('data', check);
      resolve();
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    void child.exited.then(({ code, signal }) => reject(new Error(`${what} exited (${code ?? signal}) before it was ready:\n${child.tail.text}`)));
  });
}

/** A port nothing listens on right now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
