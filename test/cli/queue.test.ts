// `rethink run --executor queue` end to end: a real Redis, three real `rethink worker` processes
// (each with its own cache and warm `rethink exec --serve` children) and a directory remote. The
// sweep computes the same keys and bytes as `--executor local`; two coordinators started at once
// on one sweep and one queue compute each key once.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { project, SWEEP, TEST_PLUGINS, type Project, type RunDoc } from '../support/tmp-project.js';
import { startCli, until, type CliProcess } from '../support/cli-process.js';
import { redisMissing, redisServer, type RedisServer } from '../support/redis.js';

const skip = redisMissing();

/** The test plugin, noting each stage it runs in $RUNS_LOG (a worker runs the plugin's code as fetched from the remote, not from the project). */
const COUNTED = `import { appendFileSync } from 'node:fs';
import { plugin as emit } from './plugins.mjs';
export const plugin = { ...emit, name: 'counted', async run(ctx) { appendFileSync(process.env.RUNS_LOG, ctx.stage.id + '\\n'); return emit.run(ctx); } };
`;
const COUNTED_SWEEP = SWEEP.replaceAll('./plugins.mjs', './counted.mjs');

let redis: RedisServer;
before(async () => {
  if (!skip) redis = await redisServer();
});

async function workers(p: Project, n: number): Promise<CliProcess[]> {
  const started = Array.from({ length: n }, (_, i) =>
    startCli(p.dir, ['worker', '--queue', redis.url, '--remote', join(p.dir, 'remote'), '--cache-dir', join(p.dir, `worker-${i + 1}`), '--name', `w${i + 1}`, '--allow-plugin-code'], { RUNS_LOG: join(p.dir, 'runs.log') }),
  );
  await until('the workers to serve', () => started.every((w) => /serving/.test(w.stderr()) || w.child.exitCode !== null));
  for (const w of started) assert.equal(w.child.exitCode, null, w.stderr());
  return started;
}

const shape = (doc: RunDoc) => doc.stages.map(({ id, key, status, outputs }) => ({ id, key, status, outputs }));
const queueRun = (p: Project, ...argv: string[]) => p.run('p.yaml', '--executor', 'queue', '--queue', redis.url, '--remote', join(p.dir, 'remote'), ...argv);

test('a sweep on 3 queue workers computes the same keys and bytes as --executor local, each stage on a named worker; a rerun is all cached', { skip }, async () => {
  const local = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  const ws = await workers(p, 3);
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

test('two coordinators started at once on one sweep and one queue compute each key once, and agree', { skip }, async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'counted.mjs': COUNTED, 'p.yaml': COUNTED_SWEEP });
  const ws = await workers(p, 3);
  try {
    const [a, b] = await Promise.all([queueRun(p, '--cache-dir', join(p.dir, 'coord-a')), queueRun(p, '--cache-dir', join(p.dir, 'coord-b'))]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const outputs = (doc: RunDoc) => doc.stages.map(({ id, key, outputs }) => ({ id, key, outputs }));
    assert.deepEqual(outputs(a.doc), outputs(b.doc));
    const ran = (await readFile(join(p.dir, 'runs.log'), 'utf8')).split('\n').filter(Boolean).sort();
    assert.deepEqual(ran, a.doc.stages.map((s) => s.id).sort(), 'each stage ran once, on one worker');
  } finally {
    for (const w of ws) w.child.kill('SIGKILL');
  }
});

test('Ctrl-C of the coordinator cancels its running job on the worker: the job fails as cancelled, the worker takes the next one', { skip }, async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': 'stages:\n  forever: { uses: ./plugins.mjs, with: { value: 1, spin: 1000000000 } }\n  quick: { uses: ./plugins.mjs, with: { value: 2 } }\n' });
  const [w] = await workers(p, 1);
  try {
    const run = startCli(p.dir, ['run', 'p.yaml', '--only', 'forever', '--executor', 'queue', '--queue', redis.url, '--remote', join(p.dir, 'remote')]);
    await until('the stage to run on the worker', () => /forever \(\w+\): running/.test(w!.stderr()));
    run.child.kill('SIGINT');
    assert.equal((await run.done).code, 130);
    await until('the worker to stop the job', () => /cancelled by its coordinator; stopping it/.test(w!.stderr()));
    const next = await queueRun(p, '--only', 'quick');
    assert.equal(next.code, 0, next.stderr);
    assert.equal(next.status['quick'], 'ran');
  } finally {
    w!.child.kill('SIGKILL');
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
  const ws = await workers(p, 2);
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
