import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { project, SWEEP, TEST_PLUGINS } from '../support/tmp-project.js';

const FILES = { 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP };

test('--executor slurm or queue without a remote is a user error naming --remote; queue without Redis names --queue; neither takes --force', async () => {
  const p = await project(FILES);
  for (const executor of ['slurm', 'queue']) {
    const r = await p.cli('run', 'p.yaml', '--executor', executor);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`error\\[E_NO_REMOTE\\]: --executor ${executor} needs a shared remote: --remote URL \\(or RETHINK_REMOTE\\)`));
  }
  const env = await project(FILES, { RETHINK_EXECUTOR: 'queue' });
  const queue = await env.cli('run', 'p.yaml', '--remote', 'remote');
  assert.equal(queue.code, 2, queue.stderr);
  assert.match(queue.stderr, /error\[E_BAD_FLAG\]: --executor queue needs the Redis its workers take jobs from: --queue URL \(or RETHINK_QUEUE\)/);
  const readOnly = await p.cli('run', 'p.yaml', '--executor', 'slurm', '--remote', 'remote', '--remote-read-only');
  assert.equal(readOnly.code, 2, readOnly.stderr);
  assert.match(readOnly.stderr, /--executor slurm writes job specs and inputs to the remote .*remote, which is read-only here/);
  const forced = await p.cli('run', 'p.yaml', '--executor', 'slurm', '--remote', 'remote', '--force', 'train');
  assert.equal(forced.code, 2, forced.stderr);
  assert.match(forced.stderr, /error\[E_BAD_FLAG\]: --force cannot be combined with --executor slurm: its jobs keep the results the remote already has/);
});

test('--executor slurm with a remote that cannot be reached stops at the start (exit 2), naming its URL and what to check', async () => {
  // A port nothing listens on: connections are refused at once.
  const port = await new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
  const saved = { ...process.env };
  Object.assign(process.env, { AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_MAX_ATTEMPTS: '1', AWS_REGION: 'us-east-1' });
  try {
    const p = await project(FILES);
    const r = await p.cli('run', 'p.yaml', '--executor', 'slurm', '--remote', 's3://team/x');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /error\[E_REMOTE_UNREACHABLE\]: cannot reach the remote s3:\/\/team\/x: /);
    assert.match(r.stderr, /check the URL, that the server is up/);
  } finally {
    process.env = saved;
  }
});
