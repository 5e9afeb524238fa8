// The queue executor's faults through the whole stack: a real Redis (one per test), real `rethink
// worker` processes (each with its own cache and warm `rethink exec --serve` children), a real
// `rethink run --executor queue` coordinator and a directory remote. A worker killed mid-training
// loses only the epochs after its last remote checkpoint; two coordinators compute each key once; a
// user error fails once; Ctrl-C of the coordinator leaves nothing queued or computing; a worker that
// may not run the plugin's code refuses the job and publishes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { project, TEST_PLUGINS, type Project, type RunDoc } from '../support/tmp-project.js';
import { gone, startCli, until, type CliProcess } from '../support/cli-process.js';
import { cliWorkers, countedRuns, COUNTED, RUNS_LOG_ENV } from '../support/queue.js';
import { redisMissing, redisServer, type RedisServer } from '../support/redis.js';
import { CPU_QUEUE, GPU_QUEUE } from '../../src/exec/engines/queue-protocol.js';
import { redisTarget } from '../../src/exec/engines/redis.js';
import { checkpointFolderOf, jobFolderOf, runPathOf } from '../../src/store/remote.js';
import type { RunRecord } from '../../src/store/types.js';
import { trainingPipeline } from '../support/training.js';

const skip = redisMissing();

/** Short locks, so that a killed worker's job is requeued in about 3 s rather than 40. */
const FAST = ['--lock-ms', '2000', '--stalled-ms', '1000'];

/** A fresh Redis for `body`, stopped after it: no test sees another's jobs (a key's job id is the key). */
async function withRedis(body: (redis: RedisServer) => Promise<void>): Promise<void> {
  const redis = await redisServer();
  try {
    await body(redis);
  } finally {
    await redis.kill();
  }
}

const queueFlags = (p: Project, redis: RedisServer) => ['--executor', 'queue', '--queue', redis.url, '--remote', join(p.dir, 'remote')];
/** `rethink run --json p.yaml` on the queue, in this process. */
const queueRun = (p: Project, redis: RedisServer, ...argv: string[]) => p.run('p.yaml', ...queueFlags(p, redis), ...argv);
/** The same as a process of its own, to be signalled or killed. */
const startCoordinator = (p: Project, redis: RedisServer, ...argv: string[]) => startCli(p.dir, ['run', 'p.yaml', '--json', ...queueFlags(p, redis), ...argv]);

const killAll = (ws: readonly CliProcess[]) => ws.forEach((w) => w.child.kill('SIGKILL'));
const exists = (path: string) => stat(path).then(() => true, () => false);

/** Every file on the directory remote, as remote paths (`runs/ab/…json`), sorted; its tmp/ left out. */
async function remoteFiles(remote: string): Promise<string[]> {
  const entries = await readdir(remote, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(remote.length + 1))
    .filter((f) => !f.startsWith('tmp/'))
    .sort();
}

/** The attempt notes `rethink exec` leaves on the remote for a key: where each attempt ran. */
async function attemptNotes(remote: string, key: string): Promise<{ worker: string; pid: number; attempt?: number }[]> {
  const folder = join(remote, ...jobFolderOf(key).split('/'), 'attempts');
  const names = (await readdir(folder).catch(() => [])).sort();
  return Promise.all(names.map(async (n) => JSON.parse(await readFile(join(folder, n), 'utf8')) as { worker: string; pid: number }));
}

const recordOn = async (remote: string, key: string): Promise<RunRecord> => JSON.parse(await readFile(join(remote, ...runPathOf(key).split('/')), 'utf8')) as RunRecord;
const keyOf = (doc: RunDoc, id: string) => doc.stages.find((s) => s.id === id)!.key!;
const outputsOf = (doc: RunDoc) => doc.stages.map(({ id, key, outputs }) => ({ id, key, outputs }));

/** The BullMQ state of each key's job in either queue (`none` once removed). */
async function jobStates(redis: RedisServer, keys: readonly string[]): Promise<Record<string, string>> {
  const connection = redisTarget(redis.url, '--queue').options;
  const queues = [new Queue(GPU_QUEUE, { connection }), new Queue(CPU_QUEUE, { connection })];
  try {
    const states: Record<string, string> = {};
    for (const key of keys) {
      states[key] = 'none';
      for (const q of queues) {
        const job = await q.getJob(key);
        if (job !== undefined) states[key] = await job.getState();
      }
    }
    return states;
  } finally {
    await Promise.all(queues.map((q) => q.close()));
  }
}

/** Long enough to be killed after its first epochs. */
const TRAINING = trainingPipeline(10);

test('kill -9 of the worker running a training (and its stage process): another worker resumes it from the remote checkpoint and ends byte-identical to --executor local', { skip }, (t) =>
  withRedis(async (redis) => {
    const p = await project({ 'p.yaml': TRAINING });
    const remote = join(p.dir, 'remote');
    const local = await p.run('p.yaml', '--cache-dir', 'local');
    assert.equal(local.code, 0, local.stderr);
    const key = keyOf(local.doc, 'fit');
    // A checkpoint after every epoch, copied to the remote.
    const ws = await cliWorkers(p.dir, redis.url, ['w-a', 'w-b'], FAST, { RETHINK_CHECKPOINT_SECONDS: '0' });
    try {
      const run = startCoordinator(p, redis, '--cache-dir', 'coordinator');
      await until('a checkpoint of the training on the remote', () => exists(join(remote, ...checkpointFolderOf(key).split('/'), 'train.safetensors')), 120_000);
      const [first] = await attemptNotes(remote, key);
      const victim = ws.find((w) => w.child.spawnargs.includes(first!.worker))!;
      victim.child.kill('SIGKILL');
      process.kill(first!.pid, 'SIGKILL'); // its `exec --serve` child: the machine is gone
      const killedAt = Date.now();
      assert.equal(await exists(join(remote, ...runPathOf(key).split('/'))), false, 'the training was killed before it finished');

      await until('another worker to take the training up', async () => (await attemptNotes(remote, key)).length === 2);
      const restartedAfter = (Date.now() - killedAt) / 1000;
      const done = await run.done;
      assert.equal(done.code, 0, done.stderr);
      t.diagnostic(`killed on ${first!.worker}: restarted ${restartedAfter.toFixed(1)} s later, the run ended ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
      const doc = JSON.parse(done.stdout) as RunDoc;
      assert.deepEqual(outputsOf(doc), outputsOf(local.doc), 'the same keys and bytes as an uninterrupted local run');

      const survivor = first!.worker === 'w-a' ? 'w-b' : 'w-a';
      const { provenance } = await recordOn(remote, key);
      assert.ok((provenance.resumed_after_epoch as number) >= 1, JSON.stringify(provenance));
      assert.equal((provenance.ranOn as { worker: string }).worker, survivor);
      assert.deepEqual(
        (provenance.attempts as { worker: string; attempt: number }[]).map((a) => [a.worker, a.attempt]),
        [
          [first!.worker, 1],
          [survivor, 2],
        ],
      );
      assert.deepEqual(await remoteFiles(join(remote, 'checkpoints')), [], 'the checkpoints went with the record');
    } finally {
      killAll(ws);
    }
  }),
);

test('two coordinators started at once on one sweep and one queue compute each key once, and agree', { skip }, () =>
  withRedis(async (redis) => {
    const sweep = `stages:
  a: { uses: ./counted.mjs, with: { value: 1 } }
  b: { uses: ./counted.mjs, matrix: { v: [1, 2, 3, 4] }, with: { value: "\${matrix.v}" }, inputs: { x: a } }
  c: { uses: ./counted.mjs, with: { value: 0 }, inputs: { x: "b[*]" } }
`;
    const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'counted.mjs': COUNTED, 'p.yaml': sweep });
    const ws = await cliWorkers(p.dir, redis.url, ['w1', 'w2', 'w3'], ['--allow-plugin-code']);
    try {
      const [a, b] = await Promise.all([queueRun(p, redis, '--cache-dir', join(p.dir, 'coord-a')), queueRun(p, redis, '--cache-dir', join(p.dir, 'coord-b'))]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      assert.deepEqual(outputsOf(a.doc), outputsOf(b.doc));
      const ids = a.doc.stages.map((s) => s.id).sort();
      assert.deepEqual((await countedRuns(p.dir)).map((r) => r.stage).sort(), ids, 'each stage ran once, on one worker');
      for (const s of a.doc.stages) assert.equal((await attemptNotes(join(p.dir, 'remote'), s.key!)).length, 1, `one attempt of ${s.id}`);
    } finally {
      killAll(ws);
    }
  }),
);

test('a user error in a stage on a worker fails once, not 1 + retries times, as it does locally', { skip }, () =>
  withRedis(async (redis) => {
    const pipeline = 'stages:\n  bad: { uses: ./counted.mjs, retries: 3, with: { value: 1, user_error: true } }\n';
    const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'counted.mjs': COUNTED, 'p.yaml': pipeline });
    const ws = await cliWorkers(p.dir, redis.url, ['w1', 'w2'], ['--allow-plugin-code']);
    try {
      const q = await queueRun(p, redis);
      const [bad] = q.doc.stages;
      assert.equal(bad!.status, 'failed');
      assert.match(bad!.reason ?? '', /checksum mismatch for https:\/\/example\.org\/x/);
      assert.equal(bad!.attempts ?? 1, 1);
      assert.equal((await countedRuns(p.dir)).length, 1, 'it ran once');
      assert.equal((await attemptNotes(join(p.dir, 'remote'), bad!.key!)).length, 1);
      // As a local run says it: the same exit code, status and attempts.
      const local = await startCli(p.dir, ['run', 'p.yaml', '--json', '--cache-dir', 'local'], { [RUNS_LOG_ENV]: join(p.dir, 'runs.log') }).done;
      assert.equal(q.code, local.code, local.stderr);
      const shape = (doc: RunDoc) => doc.stages.map(({ id, status, attempts }) => ({ id, status, attempts }));
      assert.deepEqual(shape(q.doc), shape(JSON.parse(local.stdout) as RunDoc));
    } finally {
      killAll(ws);
    }
  }),
);

test('Ctrl-C of the coordinator cancels its jobs: none stays queued or active, no stage process computes on, it exits 130, and the worker takes the next job', { skip }, () =>
  withRedis(async (redis) => {
    // Two stages that spin, ignoring their signal, on one worker with one slot: one runs, one waits.
    const pipeline = `stages:
  spin1: { uses: ./counted.mjs, with: { value: 1, spin: 1000000000 } }
  spin2: { uses: ./counted.mjs, with: { value: 2, spin: 1000000000 } }
  quick: { uses: ./counted.mjs, with: { value: 3 } }
`;
    const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'counted.mjs': COUNTED, 'p.yaml': pipeline });
    const remote = join(p.dir, 'remote');
    const [w] = await cliWorkers(p.dir, redis.url, ['w1'], ['--allow-plugin-code']);
    try {
      const run = startCoordinator(p, redis, '--only', 'spin*');
      const keys = async () => (await readdir(join(remote, 'jobs')).catch(() => [])).sort();
      await until('one stage to run and the other to wait in the queue', async () => {
        const ks = await keys();
        if (ks.length !== 2 || (await countedRuns(p.dir)).length !== 1) return false;
        return Object.values(await jobStates(redis, ks)).sort().join() === 'active,waiting';
      });
      const [running] = await countedRuns(p.dir);
      run.child.kill('SIGINT');
      assert.equal((await run.done).code, 130);
      await until('the worker to stop the job', () => /cancelled by its coordinator; stopping it/.test(w!.stderr()));
      const ks = await keys();
      await until('no job of its keys to be waiting or active', async () => Object.values(await jobStates(redis, ks)).every((s) => s === 'none' || s === 'failed'));
      await until(`the stage process that ran ${running!.stage} (pid ${running!.pid}) to be gone`, () => gone(running!.pid));
      assert.deepEqual((await countedRuns(p.dir)).map((r) => r.stage), [running!.stage], 'the waiting stage never ran');

      const next = await queueRun(p, redis, '--only', 'quick');
      assert.equal(next.code, 0, next.stderr);
      assert.equal(next.status['quick'], 'ran');
    } finally {
      w!.child.kill('SIGKILL');
    }
  }),
);

test('a worker without --allow-plugin-code refuses a path plugin\'s unsigned job once, naming the flag, and publishes nothing', { skip }, () =>
  withRedis(async (redis) => {
    const pipeline = 'stages:\n  a: { uses: ./counted.mjs, retries: 2, with: { value: 7 } }\n';
    const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'counted.mjs': COUNTED, 'p.yaml': pipeline });
    const remote = join(p.dir, 'remote');
    const [w] = await cliWorkers(p.dir, redis.url, ['w1']);
    try {
      const q = await queueRun(p, redis);
      assert.equal(q.code, 2, q.stderr);
      const [a] = q.doc.stages;
      assert.equal(a!.status, 'failed');
      assert.match(a!.reason ?? '', /plugin "\.\/counted\.mjs" is loaded from a path, and this machine runs only built-in plugins/);
      assert.match(a!.reason ?? '', /start this worker with --allow-plugin-code/);
      assert.equal(a!.attempts ?? 1, 1);
      assert.equal(w!.stderr().match(/a \([0-9a-f]{12}\): running/g)?.length, 1, 'the worker took it once');
      assert.deepEqual(await countedRuns(p.dir), [], 'its code never ran');
      // What the coordinator put up (the spec and the plugin's code), and nothing from the worker.
      const files = await remoteFiles(remote);
      assert.deepEqual(
        files.map((f) => f.replace(/^code\/[0-9a-f]{64}\.json$/, 'code/HASH.json')),
        ['code/HASH.json', `${jobFolderOf(a!.key!)}/spec.json`],
      );
    } finally {
      w!.child.kill('SIGKILL');
    }
  }),
);
