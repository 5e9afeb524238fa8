#!/usr/bin/env node
// The queue engine's dispatch overhead and recovery, on a private redis-server with real
// `rethink worker` processes whose slots run a no-op stand-in for `rethink exec --serve`
// (test/support/serve-stand-in.ts), so that only the queue's own cost is measured:
// `jobs` no-op jobs at once, then as a chain (each submitted when the previous completed), on
// `workers` workers; then kill -9 of the worker running a 3 s job, the time until another starts it,
// with lock 2 s / stalled check 1 s (3 runs) and, with --defaults, the default 30 s / 10 s.
// `node scripts/bench-queue.mjs [jobs=200] [workers=3] [--defaults]`. Needs `npm run build` and redis-server.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { redisMissing, redisServer } from '../dist/test/support/redis.js';
import { engineOn, SPEC_PATH, standInSpec, startWorker, starts } from '../dist/test/support/queue.js';

const flags = process.argv.slice(2);
const [jobs = 200, count = 3] = flags.filter((a) => !a.startsWith('--')).map(Number);
const missing = redisMissing();
if (missing !== undefined) {
  console.error(`bench-queue: ${missing}`);
  process.exit(2);
}
const dir = await mkdtemp(join(tmpdir(), 'rethink-bench-queue-'));
const redis = await redisServer();
const engine = await engineOn(redis.url, dir);
const never = new AbortController().signal;
const until = async (check) => {
  while (!(await check())) await new Promise((r) => setTimeout(r, 10));
};
const run = async (id, params = {}) => {
  const spec = standInSpec(id, params);
  const outcome = await (await engine.submit(spec, SPEC_PATH(spec), never)).outcome;
  if (outcome.state !== 'completed') throw new Error(`${id}: ${JSON.stringify(outcome)}`);
};

// All with the short timings: BullMQ's stalled check runs at most once per interval per queue, across
// workers (its `stalled-check` key lives as long as the interval of the worker that set it).
const fastTiming = { lockMs: 2_000, stalledMs: 1_000 };
const workers = await Promise.all(Array.from({ length: count }, (_, i) => startWorker({ url: redis.url, name: `w${i + 1}`, dir, remoteUrl: dir, ...fastTiming })));
let t = performance.now();
await Promise.all(Array.from({ length: jobs }, (_, i) => run(`fan[i=${i}]`)));
const fan = (performance.now() - t) / 1000;
t = performance.now();
for (let i = 0; i < jobs; i++) await run(`chain[i=${i}]`);
const chain = (performance.now() - t) / 1000;
for (const w of workers) w.child.kill('SIGKILL');
console.log(`${jobs} no-op jobs on ${count} workers: at once ${fan.toFixed(2)} s; as a chain ${chain.toFixed(2)} s (${((chain / jobs) * 1000).toFixed(1)} ms per job, submit to completion seen)`);

async function recovery(label, timing) {
  const [a, b] = await Promise.all(['a', 'b'].map((n) => startWorker({ url: redis.url, name: `${n}-${label}`, dir, remoteUrl: dir, ...timing })));
  const spec = standInSpec(label, { sleep_ms: 3_000 });
  const job = await engine.submit(spec, SPEC_PATH(spec), never);
  await until(async () => (await starts(dir, spec.key)).length === 1);
  const [first] = await starts(dir, spec.key);
  const killed = performance.now();
  (first.worker === a.name ? a : b).child.kill('SIGKILL');
  await until(async () => (await starts(dir, spec.key)).length === 2);
  const seconds = (performance.now() - killed) / 1000;
  await job.outcome;
  a.child.kill('SIGKILL');
  b.child.kill('SIGKILL');
  return seconds;
}
const fast = [];
for (let i = 0; i < 3; i++) fast.push(await recovery(`fast${i}`, fastTiming));
console.log(`kill -9 of the worker running a job, lock 2 s / stalled check 1 s: started again after ${fast.map((s) => s.toFixed(1)).join(', ')} s`);
if (flags.includes('--defaults')) console.log(`the same with the defaults, lock 30 s / stalled check 10 s: ${(await recovery('defaults', {})).toFixed(1)} s`);
await engine.close();
await redis.kill();
await rm(dir, { recursive: true, force: true });
process.exit(0);
