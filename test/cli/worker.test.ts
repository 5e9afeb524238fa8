// `rethink worker`'s flags and its start: a Redis that cannot be reached, or that wants another
// password, is a user error (exit 2) in seconds that names the URL (never the password).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { project, type Project } from '../support/tmp-project.js';
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
