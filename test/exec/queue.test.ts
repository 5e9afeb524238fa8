// The queue engine against a real Redis and real worker processes (whose slots run a stand-in for
// `rethink exec --serve`): submit, attach, complete, fail, cancel, routing by GPU need, and what
// happens when a worker, its child or Redis dies.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { tempDir } from '../support/temp.js';
import { until } from '../support/cli-process.js';
import { redisMissing, redisServer, type RedisServer } from '../support/redis.js';
import { engineOn, SPEC_PATH, standInSpec, startWorker, starts, type TestWorker } from '../support/queue.js';
import { redisTarget } from '../../src/exec/engines/redis.js';
import { UserError } from '../../src/util/user-error.js';
import { createQueueEngine } from '../../src/exec/engines/queue.js';
import type { EngineJob, JobEngine } from '../../src/exec/engine.js';
import type { ProgressUpdate } from '../../src/plugin/types.js';

const skip = redisMissing();
let redis: RedisServer;
let dir: string;
let engine: JobEngine;
const engines: JobEngine[] = [];
const never = new AbortController().signal;

before(async () => {
  if (skip) return;
  redis = await redisServer();
  dir = await tempDir('rethink-queue-');
  engine = await engineOn(redis.url, dir);
  engines.push(engine);
});
after(async () => {
  for (const e of engines) await e.close?.();
});

// Short locks for every worker here: BullMQ's stalled check runs once per interval per queue, across
// workers, so one worker with the default 10 s interval would slow the recovery the kill -9 test measures.
const worker = (name: string, extra: Partial<Parameters<typeof startWorker>[0]> = {}): Promise<TestWorker> =>
  startWorker({ url: redis.url, name, dir, remoteUrl: dir, lockMs: 2_000, stalledMs: 1_000, ...extra });

/** The job as BullMQ keeps it (attemptsMade, failedReason). */
async function stored(spec: { key: string }, queueName = 'rethink-cpu') {
  const queue = new Queue(queueName, { connection: redisTarget(redis.url, 'test').options });
  try {
    const job = await queue.getJob(spec.key);
    return job === undefined ? undefined : { state: await job.getState(), attemptsMade: job.attemptsMade, attemptsStarted: job.attemptsStarted, failedReason: job.failedReason };
  } finally {
    await queue.close();
  }
}

/** Kills a worker and waits until it is gone: one still alive could take the next test's job. */
async function killed(w: TestWorker): Promise<void> {
  if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await w.exited;
}

function watch(job: EngineJob): { places: string[]; updates: ProgressUpdate[] } {
  const seen = { places: [] as string[], updates: [] as ProgressUpdate[] };
  job.onPlacement((w) => seen.places.push(w));
  job.onProgress((u) => seen.updates.push(u));
  return seen;
}

test('a submitted job runs on a worker: completed, placed on the worker by name, with the stage\'s progress', { skip }, async () => {
  const w = await worker('w-basic');
  try {
    const spec = standInSpec('basic');
    const job = await engine.submit(spec, SPEC_PATH(spec), never);
    const seen = watch(job);
    assert.equal(job.id, spec.key);
    assert.equal(job.attached, false);
    assert.deepEqual(await job.outcome, { state: 'completed' });
    assert.deepEqual(seen.places, ['w-basic']);
    assert.equal(seen.updates.at(-1)?.message, 'done');
    assert.deepEqual(await starts(dir, spec.key), [{ worker: 'w-basic', attempt: 1, pid: (await starts(dir, spec.key))[0]!.pid }]);
    assert.equal((await stored(spec))?.state, 'completed');
  } finally {
    await killed(w);
  }
});

test('a failed stage fails its job once with its reason; a user error and a refused spec fail once, marked userError', { skip }, async () => {
  const w = await worker('w-fail');
  try {
    const failed = standInSpec('fails', { fail: true });
    const user = standInSpec('user', { user_error: true });
    const refused = standInSpec('refused', { refuse: true });
    const jobs = await Promise.all([failed, user, refused].map((s) => engine.submit(s, SPEC_PATH(s), never)));
    const [f, u, r] = await Promise.all(jobs.map((j) => j.outcome));
    assert.deepEqual(f, { state: 'failed', reason: 'boom in fails' });
    assert.deepEqual(u, { state: 'failed', reason: 'checksum mismatch', userError: true });
    assert.deepEqual(r, { state: 'failed', reason: 'plugin code hash differs', userError: true });
    for (const s of [failed, user, refused]) {
      assert.equal((await stored(s))?.attemptsMade, 1, s.stage.id);
      assert.equal((await starts(dir, s.key)).length, 1, s.stage.id);
    }
    assert.equal((await stored(user))?.failedReason, 'user error: checksum mismatch');
  } finally {
    await killed(w);
  }
});

test('two coordinators submitting one key make one job: one adds it, the other attaches, both see it complete', { skip }, async () => {
  const second = await engineOn(redis.url, dir);
  engines.push(second);
  const spec = standInSpec('shared', { sleep_ms: 300 });
  const [a, b] = await Promise.all([engine.submit(spec, SPEC_PATH(spec), never), second.submit(spec, SPEC_PATH(spec), never)]);
  assert.deepEqual([a.attached, b.attached].sort(), [false, true]);
  const w = await worker('w-shared');
  try {
    assert.deepEqual(await Promise.all([a.outcome, b.outcome]), [{ state: 'completed' }, { state: 'completed' }]);
    assert.equal((await starts(dir, spec.key)).length, 1);
    // A coordinator that comes back for it later finds it completed, and starts nothing.
    const again = await second.submit(spec, SPEC_PATH(spec), never);
    assert.deepEqual(await again.outcome, { state: 'completed' });
    assert.equal((await starts(dir, spec.key)).length, 1);
  } finally {
    await killed(w);
  }
});

test('a job that failed is run again when its key is submitted again (the coordinator\'s retry)', { skip }, async () => {
  const w = await worker('w-retry');
  try {
    const spec = standInSpec('retried', { fail: true });
    assert.equal((await (await engine.submit(spec, SPEC_PATH(spec), never)).outcome).state, 'failed');
    const again = await engine.submit(spec, SPEC_PATH(spec), never);
    assert.equal(again.attached, false);
    assert.equal((await again.outcome).state, 'failed');
    assert.equal((await starts(dir, spec.key)).length, 2);
  } finally {
    await killed(w);
  }
});

test('a stage that requires a GPU waits for a GPU worker; a GPU worker takes GPU jobs first, then CPU ones', { skip }, async () => {
  const cpu = await worker('w-cpu');
  try {
    const gpuSpec = standInSpec('gpu-stage', {}, { gpu: 'required', cores: 1 });
    const gpuJob = await engine.submit(gpuSpec, SPEC_PATH(gpuSpec), never);
    const cpuSpec = standInSpec('cpu-stage', {}, { gpu: 'preferred', cores: 1 });
    assert.deepEqual(await (await engine.submit(cpuSpec, SPEC_PATH(cpuSpec), never)).outcome, { state: 'completed' });
    assert.equal((await stored(gpuSpec, 'rethink-gpu'))?.state, 'waiting', 'the CPU worker did not take the GPU stage');
    const gpu = await worker('w-gpu', { tags: ['gpu'] });
    try {
      assert.deepEqual(await gpuJob.outcome, { state: 'completed' });
      assert.equal((await starts(dir, gpuSpec.key))[0]?.worker, 'w-gpu');
    } finally {
      await killed(gpu);
    }
  } finally {
    await killed(cpu);
  }
});

test('cancel: a waiting job is removed; a running one is stopped by its worker and fails once, never retried', { skip }, async () => {
  const waiting = standInSpec('nobody-serves-it', {}, { gpu: 'required', cores: 1 });
  const queued = await engine.submit(waiting, SPEC_PATH(waiting), never);
  await queued.cancel();
  assert.deepEqual(await queued.outcome, { state: 'lost', reason: 'cancelled' });
  assert.equal(await stored(waiting, 'rethink-gpu'), undefined);

  const w = await worker('w-cancel');
  try {
    const spec = standInSpec('long', { sleep_ms: 60_000 });
    const job = await engine.submit(spec, SPEC_PATH(spec), never);
    await until('the job to start', async () => (await starts(dir, spec.key)).length === 1);
    await job.cancel();
    assert.deepEqual(await job.outcome, { state: 'lost', reason: 'cancelled' });
    await until('its worker to fail it', async () => (await stored(spec))?.state === 'failed');
    const s = await stored(spec);
    assert.equal(s?.failedReason, 'cancelled by its coordinator');
    assert.equal(s?.attemptsMade, 1);
    assert.equal((await starts(dir, spec.key)).length, 1);
  } finally {
    await killed(w);
  }
});

test('a child that dies mid-job fails the job (the coordinator may retry); the worker starts another child and goes on', { skip }, async () => {
  const w = await worker('w-crash');
  try {
    const crash = standInSpec('crashes', { exit: 7 });
    const outcome = await (await engine.submit(crash, SPEC_PATH(crash), never)).outcome;
    assert.equal(outcome.state, 'failed');
    assert.match((outcome as { reason: string }).reason, /^the stage's process on w-crash \(pid \d+\) exited with code 7 before reporting a result$/);
    const next = standInSpec('after-crash');
    assert.deepEqual(await (await engine.submit(next, SPEC_PATH(next), never)).outcome, { state: 'completed' });
  } finally {
    await killed(w);
  }
});

test('kill -9 of the worker running a job (lock 2 s, stalled check 1 s): another worker runs it, as its next attempt', { skip }, async (t) => {
  const fast = { lockMs: 2_000, stalledMs: 1_000 };
  const a = await worker('w-a', fast);
  const b = await worker('w-b', fast);
  try {
    const spec = standInSpec('survives', { sleep_ms: 1_500 });
    const job = await engine.submit(spec, SPEC_PATH(spec), never);
    const seen = watch(job);
    await until('the job to start', async () => (await starts(dir, spec.key)).length === 1);
    const [first] = await starts(dir, spec.key);
    const victim = first!.worker === 'w-a' ? a : b;
    const killedAt = Date.now();
    await killed(victim);
    await until('another worker to start it', async () => (await starts(dir, spec.key)).length === 2);
    t.diagnostic(`restarted ${((Date.now() - killedAt) / 1000).toFixed(1)} s after kill -9 (lock 2 s, stalled check 1 s)`);
    assert.deepEqual(await job.outcome, { state: 'completed' });
    const [, second] = await starts(dir, spec.key);
    assert.notEqual(second!.worker, first!.worker);
    assert.equal(second!.attempt, 2);
    assert.deepEqual(seen.places, [first!.worker, second!.worker]);
  } finally {
    await killed(a);
    await killed(b);
  }
});

test('a stage that blocks its event loop for 3 s under a 1 s lock does not stall: its worker renews the lock, it runs once', { skip }, async () => {
  const fast = { lockMs: 1_000, stalledMs: 500 };
  const a = await worker('w-spin-a', fast);
  const b = await worker('w-spin-b', fast);
  try {
    const spec = standInSpec('spins', { spin_ms: 3_000 });
    assert.deepEqual(await (await engine.submit(spec, SPEC_PATH(spec), never)).outcome, { state: 'completed' });
    assert.equal((await starts(dir, spec.key)).length, 1);
    assert.equal((await stored(spec))?.attemptsStarted, 1);
  } finally {
    await killed(a);
    await killed(b);
  }
});

test('SIGTERM to a worker running a job stops its child and hands the job back: another worker completes it, the first exits 0', { skip }, async () => {
  const a = await worker('w-term-a');
  const spec = standInSpec('handed-back', { sleep_ms: 2_000 });
  const job = await engine.submit(spec, SPEC_PATH(spec), never);
  await until('the job to start', async () => (await starts(dir, spec.key)).length === 1);
  a.child.kill('SIGTERM');
  assert.equal(await a.exited, 0, a.stderr());
  assert.match(a.stderr(), /handed-back \(\w+\): handed back to the queue \(this worker is stopping\)/);
  assert.equal((await stored(spec))?.state, 'waiting');
  const b = await worker('w-term-b');
  try {
    assert.deepEqual(await job.outcome, { state: 'completed' });
    assert.deepEqual((await starts(dir, spec.key)).map((s) => s.worker), ['w-term-a', 'w-term-b']);
    assert.equal((await stored(spec))?.attemptsMade, 1, 'handing back is not a failed attempt');
  } finally {
    await killed(b);
  }
});

test('a job on a worker publishing to another remote is refused, once', { skip }, async () => {
  const w = await worker('w-elsewhere', { remoteUrl: '/elsewhere' });
  try {
    const spec = standInSpec('wrong-remote');
    const outcome = await (await engine.submit(spec, SPEC_PATH(spec), never)).outcome;
    assert.equal(outcome.state, 'failed');
    assert.equal((outcome as { userError?: boolean }).userError, true);
    assert.match((outcome as { reason: string }).reason, /worker w-elsewhere publishes to the remote \/elsewhere, but this job's coordinator reads \/.*: start workers with the coordinator's --remote/);
    assert.equal((await starts(dir, spec.key)).length, 0);
  } finally {
    await killed(w);
  }
});

test('Redis that cannot be reached at start is a user error naming the URL; a wrong password says so; the right one works', { skip }, async () => {
  const down = await redisServer();
  await down.kill();
  const unreachable = await engineOn(down.url, dir).then(
    () => assert.fail('connected to a stopped Redis'),
    (e: unknown) => e,
  );
  assert.ok(unreachable instanceof UserError);
  assert.equal(unreachable.diagnostics[0]!.code, 'E_QUEUE_UNREACHABLE');
  assert.match(unreachable.message, new RegExp(`cannot reach the queue's Redis at redis://127\\.0\\.0\\.1:${down.port}/0: .*ECONNREFUSED`));

  const guarded = await redisServer({ password: 's3cret' });
  try {
    const wrong = `redis://:nope@127.0.0.1:${guarded.port}/0`;
    const none = `redis://127.0.0.1:${guarded.port}/0`;
    for (const [url, code] of [[wrong, 'E_QUEUE_AUTH'], [none, 'E_QUEUE_AUTH']] as const) {
      const e = await engineOn(url, dir).then(() => assert.fail(`connected with ${url}`), (x: unknown) => x);
      assert.ok(e instanceof UserError, String(e));
      assert.equal(e.diagnostics[0]!.code, code);
      assert.ok(!e.message.includes('nope'), 'the password is not shown');
    }
    const right = await engineOn(guarded.url, dir);
    engines.push(right);
    const w = await startWorker({ url: guarded.url, name: 'w-auth', dir, remoteUrl: dir });
    try {
      const spec = standInSpec('authed');
      assert.deepEqual(await (await right.submit(spec, SPEC_PATH(spec), never)).outcome, { state: 'completed' });
    } finally {
      await killed(w);
    }
  } finally {
    await guarded.kill();
  }
  const bad = await createQueueEngine({ url: 'http://127.0.0.1:6379', remoteUrl: dir } as never).then(() => assert.fail(), (e: unknown) => e);
  assert.ok(bad instanceof UserError);
  assert.match(bad.message, /--queue "http:\/\/127\.0\.0\.1:6379": the scheme must be redis: or rediss:, not http:/);
});

test('Redis lost mid-run: the job is lost with a reason naming the URL, once Redis stays out of reach', { skip }, async () => {
  const own = await redisServer();
  const warnings: string[] = [];
  const e = await engineOn(own.url, dir, { lostAfterMs: 1_000 }, (l) => warnings.push(l));
  engines.push(e);
  const spec = standInSpec('orphaned', { sleep_ms: 60_000 });
  const job = await e.submit(spec, SPEC_PATH(spec), never);
  await own.kill();
  const outcome = await job.outcome;
  assert.equal(outcome.state, 'lost');
  assert.match((outcome as { reason: string }).reason, new RegExp(`^lost the connection to the queue's Redis at redis://127\\.0\\.0\\.1:${own.port}/0 for 1 s`));
  assert.equal(warnings.length, 1);
});
