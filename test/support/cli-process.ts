// `rethink` as a process of its own, for tests that signal, kill or race it: start one with its cache
// in the project, collect what it prints, wait for a condition. Every process started here is killed
// when the test file ends, so a failed assertion leaves none running.
import { after } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { compiledBin } from './tmp-project.js';

export interface CliExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliProcess {
  readonly child: ChildProcess;
  /** Settles when the process has exited and its output is closed. */
  readonly done: Promise<CliExit>;
  /** What it has written to stderr so far. */
  stderr(): string;
  /** What it has written to stdout so far. */
  stdout(): string;
}

const started = new Set<ChildProcess>();
after(() => {
  for (const c of started) c.kill('SIGKILL');
});

/** `rethink ARGV…` in `dir`, with RETHINK_CACHE_DIR=dir/cache and `env` added to the environment. */
export function startCli(dir: string, argv: readonly string[], env: Readonly<Record<string, string>> = {}): CliProcess {
  const child = spawn(process.execPath, [compiledBin(), ...argv], { cwd: dir, env: { ...process.env, RETHINK_CACHE_DIR: join(dir, 'cache'), ...env } });
  started.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliExit>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, stderr: () => stderr, stdout: () => stdout };
}

/** Polls `check` every 25 ms until it holds; fails after `ms` (a hang guard, not a timing). */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Whether no process has this pid any more (a stage's process that must not be left behind). */
export function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
