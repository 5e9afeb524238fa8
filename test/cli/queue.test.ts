// `rethink run --executor queue` end to end: a real Redis, three real `rethink worker` processes
// (each with its own cache and warm `rethink exec --serve` children) and a directory remote. The
// sweep computes the same keys and bytes as `--executor local`. The faults (a killed worker, two
// coordinators, user errors, Ctrl-C, a worker without plugin code) are in queue-faults.test.ts.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { project, SWEEP, TEST_PLUGINS, type Project, type RunDoc } from '../support/tmp-project.js';
import { cliWorkers } from '../support/queue.js';
import { redisMissing, redisServer, type RedisServer } from '../support/redis.js';

const skip = redisMissing();

let redis: RedisServer;
before(async () => {
  if (!skip) redis = await redisServer();
});

const shape = (doc: RunDoc) => doc.stages.map(({ id, key, status, outputs }) => ({ id, key, status, outputs }));
const queueRun = (p: Project, ...argv: string[]) => p.run('p.yaml', '--executor', 'queue', '--queue', redis.url, '--remote', join(p.dir, 'remote'), ...argv);

test('a sweep on 3 queue workers computes the same keys and bytes as --executor local, each stage on a named worker; a rerun is all cached', { skip }, async () => {
  const local = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  // A path plugin's code comes from the remote by hash: these workers run it.
  const ws = await cliWorkers(p.dir, redis.url, ['w1', 'w2', 'w3'], ['--allow-plugin-code']);
  try {
    const l = await local.run('p.yaml');
    const q = await queueRun(p);
    assert.equal(q.code, 0, q.stderr);
    assert.deepEqual(shape(q.doc), shape(l.doc));
    for (const s of q.doc.stages as (RunDoc['stages'][number] & { where?: string })[]) assert.match(s.where ?? '', /^w[123] \(queue [0-9a-f]{12}\)$/, s.id);
    const again = await queueRun(p);
    assert.ok(again.doc.stages.every((s) => s.status === 'cached'), JSON.stringify(again.status));
  } finally {
    for (const w of ws) w.child.kill('SIGKILL');
  }
});

/** A command stage reading a plugin stage's output: both kinds of stage as queue jobs. */
const TWICE_PY = `import json, sys
value = json.load(open(sys.argv[1]))
json.dump({'v': value, 'k': int(sys.argv[2])}, open(sys.argv[3], 'w'))
`;
const MIXED = `stages:
  make: { uses: ./plugins.mjs, with: { value: 7 } }
  twice:
    uses: command
    matrix: { k: [2, 3] }
    with:
      run: python3 twice.py \${inputs.data} \${matrix.k} \${outputs.out}
      files: [twice.py]
    inputs: { data: make.out }
    outputs: { out: json }
`;

test('command stages run as queue jobs too: a sweep mixing plugin and command stages has the keys and bytes of a local run', { skip }, async () => {
  const local = await project({ 'plugins.mjs': TEST_PLUGINS, 'twice.py': TWICE_PY, 'p.yaml': MIXED });
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'twice.py': TWICE_PY, 'p.yaml': MIXED });
  const ws = await cliWorkers(p.dir, redis.url, ['w1', 'w2'], ['--allow-plugin-code']);
  try {
    const l = await local.run('p.yaml');
    assert.equal(l.code, 0, l.stderr);
    const q = await queueRun(p);
    assert.equal(q.code, 0, q.stderr);
    assert.deepEqual(shape(q.doc), shape(l.doc));
    for (const s of q.doc.stages as (RunDoc['stages'][number] & { where?: string })[]) assert.match(s.where ?? '', /^w[12] \(queue /, s.id);
  } finally {
    for (const w of ws) w.child.kill('SIGKILL');
  }
});
