// `rethink worker`: its flags and its start (a Redis that cannot be reached, or that wants another
// password, is a user error, exit 2, in seconds, naming the URL and never the password); then real
// worker processes with their real `rethink exec --serve` children, fed by the queue engine, against
// a directory remote: a job's record, a user error, a stage that blocks its event loop, kill -9.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { project, TEST_PLUGINS, type Project } from '../support/tmp-project.js';
import { gone, startCli, until, type CliProcess } from '../support/cli-process.js';
import { engineOn, pipelineSpec, SPEC_PATH } from '../support/queue.js';
import { runPathOf } from '../../src/store/remote.js';
import type { RunRecord } from '../../src/store/types.js';
import { freePort, redisMissing, redisServer } from '../support/redis.js';

const skip = redisMissing();
let p: Project;

before(async () => {
  p = await project({});
});

test('rethink worker needs --queue and --remote, and knows its tags', async () => {
  const noQueue = await p.cli('worker', '--remote', 'shared');
  assert.equal(noQueue.code, 2);
  assert.match(noQueue.stderr, /error\[E_BAD_FLAG\]: rethink worker needs the queue: --queue URL \(or RETHINK_QUEUE\)/);
  const noRemote = await p.cli('worker', '--queue', 'redis://127.0.0.1:1/0');
  assert.equal(noRemote.code, 2);
  assert.match(noRemote.stderr, /error\[E_NO_REMOTE\]: rethink worker needs the shared remote its coordinators use/);
  const tag = await p.cli('worker', '--queue', 'redis://127.0.0.1:1/0', '--remote', 'shared', '--tags', 'gpu,tpu');
  assert.equal(tag.code, 2);
  assert.match(tag.stderr, /error\[E_BAD_FLAG\]: --tags: "tpu" is not a tag a worker knows\n {2}= tags: gpu/);
  const scheme = await p.cli('worker', '--queue', 'localhost:6379', '--remote', 'shared');
  assert.equal(scheme.code, 2);
  assert.match(scheme.stderr, /error\[E_BAD_QUEUE\]: --queue "localhost:6379": the scheme must be redis: or rediss:, not localhost:/);
});

test('a worker whose Redis is down exits 2, naming the URL and what to check', { skip }, async () => {
  const port = await freePort();
  const r = await p.cli('worker', '--queue', `redis://127.0.0.1:${port}/0`, '--remote', 'shared');
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`error\\[E_QUEUE_UNREACHABLE\\]: cannot reach the queue's Redis at redis://127\\.0\\.0\\.1:${port}/0: .*ECONNREFUSED`));
  assert.match(r.stderr, new RegExp(`= is redis-server running on 127\\.0\\.0\\.1:${port}, and listening on an address this machine can reach`));
});

test('a worker with a wrong password, or none, for a Redis that wants one exits 2 and never shows the password', { skip }, async () => {
  const redis = await redisServer({ password: 'right-one' });
  try {
    const wrong = await p.cli('worker', '--queue', `redis://:wrong-one@127.0.0.1:${redis.port}/0`, '--remote', 'shared');
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, new RegExp(`error\\[E_QUEUE_AUTH\\]: the queue's Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${redis.port}/0 refused the password`));
    assert.ok(!wrong.stderr.includes('wrong-one'));
    const none = await p.cli('worker', '--remote', 'shared', '--queue', `redis://127.0.0.1:${redis.port}/0`);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /E_QUEUE_AUTH.*\n.*= the URL gives none: put the server's requirepass in the URL/);
  } finally {
    await redis.kill();
  }
});

/** Blocks its event loop for `value` ms, noting `stage pid` in $RUNS_LOG, then emits like the test plugin (a worker runs the code fetched from the remote, not the project's file). */
const BLOCKER = `import { appendFileSync } from 'node:fs';
import { plugin as emit } from './plugins.mjs';
export const plugin = { ...emit, name: 'blocker', async run(ctx) {
  appendFileSync(process.env.RUNS_LOG, ctx.stage.id + ' ' + process.pid + '\\n');
  const end = Date.now() + ctx.params.value;
  while (Date.now() < end);
  return emit.run(ctx);
} };
`;
const PIPELINE = `stages:
  quick: { uses: ./blocker.mjs, with: { value: 1 } }
  blocks: { uses: ./blocker.mjs, with: { value: 4000 } }
  slow: { uses: ./blocker.mjs, with: { value: 2500 } }
  bad: { uses: ./blocker.mjs, with: { value: 1, user_error: true } }
`;

interface Workers {
  readonly remote: string;
  start(name: string, ...flags: string[]): Promise<CliProcess>;
  runs(): Promise<{ stage: string; pid: number }[]>;
}

async function workersOn(q: Project, redisUrl: string): Promise<Workers> {
  const remote = join(q.dir, 'remote');
  return {
    remote,
    async start(name, ...flags) {
      const w = startCli(q.dir, ['worker', '--queue', redisUrl, '--remote', remote, '--cache-dir', join(q.dir, `cache-${name}`), '--name', name, '--allow-plugin-code', ...flags], { RUNS_LOG: join(q.dir, 'runs.log') });
      await until(`worker ${name} to serve`, () => /serving/.test(w.stderr()) || w.child.exitCode !== null);
      assert.equal(w.child.exitCode, null, w.stderr());
      return w;
    },
    async runs() {
      const text = await readFile(join(q.dir, 'runs.log'), 'utf8').catch(() => '');
      return text.split('\n').filter(Boolean).map((l) => ({ stage: l.split(' ')[0]!, pid: Number(l.split(' ')[1]) }));
    },
  };
}

const recordOn = async (remote: string, key: string): Promise<RunRecord> => JSON.parse(await readFile(join(remote, ...runPathOf(key).split('/')), 'utf8')) as RunRecord;
const never = new AbortController().signal;

test('rethink worker runs a job in its warm exec --serve child: the record lands on the remote naming the worker and the queue job', { skip }, async () => {
  const q = await project({ 'plugins.mjs': TEST_PLUGINS, 'blocker.mjs': BLOCKER, 'p.yaml': PIPELINE });
  const redis = await redisServer();
  const w = await workersOn(q, redis.url);
  const engine = await engineOn(redis.url, w.remote);
  const one = await w.start('w-one');
  try {
    const spec = await pipelineSpec(q.dir, 'p.yaml', 'quick', w.remote);
    const job = await engine.submit(spec, SPEC_PATH(spec), never);
    const places: string[] = [];
    job.onPlacement((where) => places.push(where));
    assert.deepEqual(await job.outcome, { state: 'completed' });
    assert.deepEqual(places, ['w-one']);
    const ranOn = (await recordOn(w.remote, spec.key)).provenance.ranOn as Record<string, unknown>;
    assert.deepEqual({ ...ranOn, host: undefined }, { host: undefined, worker: 'w-one', engine: 'queue', jobId: spec.key, attempt: 1 });

    const bad = await pipelineSpec(q.dir, 'p.yaml', 'bad', w.remote);
    const failed = await (await engine.submit(bad, SPEC_PATH(bad), never)).outcome;
    assert.equal(failed.state, 'failed');
    assert.equal((failed as { userError?: boolean }).userError, true, 'a user error is never retried');
    assert.match((failed as { reason: string }).reason, /checksum mismatch/);
    assert.deepEqual((await w.runs()).map((r) => r.stage), ['quick', 'bad'], 'each ran once');
  } finally {
    await engine.close?.();
    one.child.kill('SIGKILL');
    await redis.kill();
  }
});

test('a stage stopped by its own timeout, ignoring its stop, is not left computing in the warm child: the child is replaced for the next job', { skip }, async () => {
  // No coordinator cancels it (the job is submitted to the engine directly): the worker's child
  // enforces the spec's timeout alone.
  const pipeline = 'stages:\n  hang: { uses: ./blocker.mjs, timeout: 1s, with: { value: 1, spin: 1000000000 } }\n  next: { uses: ./blocker.mjs, with: { value: 1 } }\n';
  const q = await project({ 'plugins.mjs': TEST_PLUGINS, 'blocker.mjs': BLOCKER, 'p.yaml': pipeline });
  const redis = await redisServer();
  const w = await workersOn(q, redis.url);
  const engine = await engineOn(redis.url, w.remote);
  const one = await w.start('w-one');
  try {
    const hang = await pipelineSpec(q.dir, 'p.yaml', 'hang', w.remote);
    const failed = await (await engine.submit(hang, SPEC_PATH(hang), never)).outcome;
    assert.equal(failed.state, 'failed');
    assert.match((failed as { reason: string }).reason, /timed out after 1 s/);
    const [ran] = await w.runs();
    await until(`the process that ran hang (pid ${ran!.pid}) to be gone`, () => gone(ran!.pid));
    const next = await pipelineSpec(q.dir, 'p.yaml', 'next', w.remote);
    assert.deepEqual(await (await engine.submit(next, SPEC_PATH(next), never)).outcome, { state: 'completed' });
    const runs = await w.runs();
    assert.deepEqual(runs.map((r) => r.stage), ['hang', 'next']);
    assert.notEqual(runs[1]!.pid, ran!.pid, 'the next job ran in a fresh child');
  } finally {
    await engine.close?.();
    one.child.kill('SIGKILL');
    await redis.kill();
  }
});

test('a stage that blocks its event loop for 4 s under a 2 s lock runs once: the worker renews its lock while the child computes', { skip }, async () => {
  const q = await project({ 'plugins.mjs': TEST_PLUGINS, 'blocker.mjs': BLOCKER, 'p.yaml': PIPELINE });
  const redis = await redisServer();
  const w = await workersOn(q, redis.url);
  const engine = await engineOn(redis.url, w.remote);
  const fast = ['--lock-ms', '2000', '--stalled-ms', '1000'];
  const a = await w.start('w-a', ...fast);
  const b = await w.start('w-b', ...fast);
  try {
    const spec = await pipelineSpec(q.dir, 'p.yaml', 'blocks', w.remote);
    assert.deepEqual(await (await engine.submit(spec, SPEC_PATH(spec), never)).outcome, { state: 'completed' });
    assert.equal((await w.runs()).length, 1, 'started once, by one worker');
  } finally {
    await engine.close?.();
    a.child.kill('SIGKILL');
    b.child.kill('SIGKILL');
    await redis.kill();
  }
});

test('kill -9 of the machine running a stage (worker and child): another worker runs it again and its record says where', { skip }, async (t) => {
  const q = await project({ 'plugins.mjs': TEST_PLUGINS, 'blocker.mjs': BLOCKER, 'p.yaml': PIPELINE });
  const redis = await redisServer();
  const w = await workersOn(q, redis.url);
  const engine = await engineOn(redis.url, w.remote);
  const fast = ['--lock-ms', '2000', '--stalled-ms', '1000'];
  const workers = new Map([['w-a', await w.start('w-a', ...fast)], ['w-b', await w.start('w-b', ...fast)]]);
  try {
    const spec = await pipelineSpec(q.dir, 'p.yaml', 'slow', w.remote);
    const job = await engine.submit(spec, SPEC_PATH(spec), never);
    const places: string[] = [];
    job.onPlacement((where) => places.push(where));
    await until('the stage to start', async () => (await w.runs()).length === 1 && places.length === 1);
    const [first] = await w.runs();
    const killedAt = Date.now();
    workers.get(places[0]!)!.child.kill('SIGKILL');
    process.kill(first!.pid, 'SIGKILL');
    await until('another worker to start it', async () => (await w.runs()).length === 2);
    t.diagnostic(`restarted on another worker ${((Date.now() - killedAt) / 1000).toFixed(1)} s after kill -9 (lock 2 s, stalled check 1 s)`);
    assert.deepEqual(await job.outcome, { state: 'completed' });
    const survivor = places[0] === 'w-a' ? 'w-b' : 'w-a';
    assert.deepEqual(places, [places[0], survivor]);
    const ranOn = (await recordOn(w.remote, spec.key)).provenance.ranOn as Record<string, unknown>;
    assert.equal(ranOn.worker, survivor);
    assert.equal(ranOn.attempt, 2);
  } finally {
    await engine.close?.();
    for (const p of workers.values()) p.child.kill('SIGKILL');
    await redis.kill();
  }
});
