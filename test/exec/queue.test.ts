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
import { UserError } from '../../src/config/diagnostic.js';
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

const worker = (name: string, extra: Partial<Parameters<typeof startWorker>[0]> = {}): Promise<TestWorker> => startWorker({ url: redis.url, name, dir, remoteUrl: dir, ...extra });

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
    assert.deepEqual(await starts(dir, spec.key), [{ worker: 'w-basic', attempt: 1, pid: (await starts(dir, spec.key))[0]!.pid }]);
    assert.equal((await stored(spec))?.state, 'completed');
  } finally {
    w.child.kill('SIGKILL');
  }
});
