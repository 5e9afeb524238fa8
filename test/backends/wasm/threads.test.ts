// The threaded SIMD build: starts with 2 threads in Node, computes what cpu computes, lets the
// process end on its own; and a build that cannot start in time falls back to one thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tolerance } from './compare.js';

/** Runs threaded-child in a fresh process; from sources under tsx, or compiled under dist/. */
function child(options: object): { threads: number; threadFallback?: string; backend: string; errors: number[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const script = fileURLToPath(new URL(`./threaded-child.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  const args = [...(fromSource ? ['--import', 'tsx'] : []), script, JSON.stringify(options)];
  // The timeout only turns a hang (workers holding the event loop) into a failure; it is generous.
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.signal, null, `the child did not end on its own: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  assert.ok(line !== undefined, r.stdout);
  return JSON.parse(line);
}

test('two threads start, match cpu, and the process exits without process.exit()', () => {
  const r = child({ threads: 2 });
  assert.equal(r.backend, 'wasm');
  assert.equal(r.threadFallback, undefined);
  assert.equal(r.threads, 2);
  for (const e of r.errors) assert.ok(e <= tolerance, `${r.errors}`);
});

test('a threaded build that does not start in time falls back to one thread', () => {
  const r = child({ threads: 2, threadStartTimeoutMs: 0 });
  assert.equal(r.backend, 'wasm');
  assert.equal(r.threads, 1);
  assert.match(r.threadFallback ?? '', /did not start within 0 ms/);
  for (const e of r.errors) assert.ok(e <= tolerance, `${r.errors}`);
});
