// Live progress: `rethink run` keeps a progress file per running stage in the cache, and `rethink ui`
// turns changes of those files into server-sent events (and the DAG's running state), with an ETA
// from the measured epoch times.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdir } from 'node:fs/promises';
import type { LiveEvent, PipelineDag } from '../../src/ui/api.js';
import type { StageId, CacheKey } from '../../src/util/brand.js';
import { progressRecorder } from '../../src/exec/progress-recorder.js';
import { progressFileOf, readProgressFile, removeProgressFile, writeProgressFile, type ProgressFile } from '../../src/store/progress-files.js';
import { liveProgress } from '../../src/cli/ui/live.js';
import { Leases, type Lease } from '../../src/store/leases.js';
import { project, SWEEP, TEST_PLUGINS, type Project } from '../support/tmp-project.js';
import { uiOver, type TestUi } from '../support/ui-server.js';
import { startCli } from '../support/cli-process.js';

let p: Project;
let s: TestUi;
let cache: string;

before(async () => {
  p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  assert.equal((await p.run('p.yaml')).code, 0);
  // The aggregate's param changed: it will run, with a key (its inputs are up to date).
  await p.write({ 'p.yaml': SWEEP.replace('with: { value: 0 }', 'with: { value: 7 }') });
  cache = join(p.dir, 'cache');
  s = await uiOver(p, { pipelines: ['p.yaml'] });
});

after(() => s?.close());

/** The /api/live stream, read event by event (the tests that wait on it have a hang guard: a timeout). */
async function subscribe(server: TestUi = s): Promise<{ next(match: (e: LiveEvent) => boolean): Promise<LiveEvent>; close(): void }> {
  const abort = new AbortController();
  const res = await fetch(`http://127.0.0.1:${server.ui.port}/api/live`, { signal: abort.signal });
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const queue: LiveEvent[] = [];
  return {
    async next(match) {
      for (;;) {
        const i = queue.findIndex(match);
        if (i >= 0) return queue.splice(0, i + 1).at(-1)!;
        queue.length = 0;
        const { value, done } = await reader.read();
        if (done) throw new Error('the event stream ended');
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = frame.split('\n').find((l) => l.startsWith('data: '));
          if (data) queue.push(JSON.parse(data.slice('data: '.length)) as LiveEvent);
        }
      }
    },
    close: () => abort.abort(),
  };
}

/**
 * Takes the key's lease as `rethink run` does before it starts a stage, in the name of another live
 * process (the test runner's): a lease with the server's own pid and a token it does not hold would
 * read as a leftover of this process.
 */
async function hold(key: string, id: string): Promise<Lease> {
  const claim = await new Leases(join(cache, 'leases'), { pid: process.ppid }).claim(key as CacheKey, { pipeline: 'p.yaml', stage: id });
  assert.ok(claim.held);
  return claim.held;
}

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

function progressDoc(key: string, id: string, epoch: number, at: number, more: Partial<ProgressFile> = {}): ProgressFile {
  return {
    format: 1,
    key,
    id,
    pipeline: join(p.dir, 'p.yaml'),
    startedAt: iso(0),
    at: iso(at),
    update: { message: `epoch ${epoch}/5`, epochs: { current: epoch, total: 5, finished: epoch - 1 }, metrics: { loss: 1.5, acc: 0.25 } },
    epochEndedAt: Array.from({ length: epoch - 1 }, (_, i) => iso(10 * (i + 1))),
    ...more,
  };
}

test('a progress file that appears or changes is pushed as progress and state events; the DAG shows the instance running', { timeout: 60_000 }, async () => {
  const aggregate = (await s.get('/api/pipelines/p')).json<PipelineDag>().nodes.find((n) => n.id === 'aggregate')!;
  assert.equal(aggregate.state, 'stale');
  const key = aggregate.key!;
  const live = await subscribe();
  try {
    assert.equal((await live.next(() => true)).type, 'hello');
    let lease = await hold(key, 'aggregate');
    await writeProgressFile(cache, progressDoc(key, 'aggregate', 2, 15));
    assert.deepEqual(await live.next((e) => e.type === 'state'), { type: 'state', key, id: 'aggregate', state: 'running' });
    const first = await live.next((e) => e.type === 'progress');
    // One epoch took 10 s: 4 more take 40 s, of which 5 s have passed.
    assert.deepEqual(first, { type: 'progress', key, id: 'aggregate', progress: { epoch: 2, epochs: 5, loss: 1.5, acc: 0.25, etaSeconds: 35, updatedAt: iso(15) } });
    const node = (await s.get('/api/pipelines/p')).json<PipelineDag>().nodes.find((n) => n.id === 'aggregate')!;
    assert.equal(node.state, 'running');
    assert.equal(node.progress?.epoch, 2);

    await writeProgressFile(cache, progressDoc(key, 'aggregate', 3, 25));
    const second = await live.next((e) => e.type === 'progress');
    assert.equal(second.type === 'progress' && second.progress.epoch, 3);

    await writeProgressFile(cache, progressDoc(key, 'aggregate', 3, 26, { failed: 'boom in aggregate' }));
    await lease.release();
    assert.deepEqual(await live.next((e) => e.type === 'state'), { type: 'state', key, id: 'aggregate', state: 'failed' });
    assert.equal((await s.get('/api/pipelines/p')).json<PipelineDag>().nodes.find((n) => n.id === 'aggregate')!.state, 'failed');
    assert.equal((await s.get('/api/overview')).json<{ counts: Record<string, number> }>().counts['failed'], 1);

    // Run again, and stop without a result: the state follows the cache.
    lease = await hold(key, 'aggregate');
    await writeProgressFile(cache, progressDoc(key, 'aggregate', 1, 30));
    assert.deepEqual(await live.next((e) => e.type === 'state'), { type: 'state', key, id: 'aggregate', state: 'running' });
    await removeProgressFile(cache, key);
    await lease.release();
    assert.deepEqual(await live.next((e) => e.type === 'state'), { type: 'state', key, id: 'aggregate', state: 'stale' });
  } finally {
    live.close();
  }
});

test('a finished stage with its result stored is pushed as up to date', { timeout: 60_000 }, async () => {
  const train = (await s.get('/api/pipelines/p')).json<PipelineDag>().nodes.find((n) => n.id === 'train[p=0,seed=1]')!;
  const live = await subscribe();
  try {
    const lease = await hold(train.key!, train.id);
    await writeProgressFile(cache, progressDoc(train.key!, train.id, 1, 1));
    assert.equal((await live.next((e) => e.type === 'state')).type, 'state');
    await removeProgressFile(cache, train.key!);
    await lease.release();
    assert.deepEqual(await live.next((e) => e.type === 'state' && e.state !== 'running'), { type: 'state', key: train.key, id: train.id, state: 'up-to-date' });
  } finally {
    live.close();
  }
});

test('a progress file that no lease backs (a killed run left it) is not shown as running', async () => {
  const node = (await s.get('/api/pipelines/p')).json<PipelineDag>().nodes.find((n) => n.id === 'train[p=0.5,seed=2]')!;
  const stale = 'cd'.repeat(32);
  await writeProgressFile(cache, progressDoc(stale, 'download', 2, 15));
  await writeProgressFile(cache, progressDoc(node.key!, node.id, 2, 15));
  try {
    await s.ui.live.scan();
    assert.equal(s.ui.live.isRunning(stale), false);
    assert.equal(s.ui.live.progressOf(node.key!), undefined);
    assert.equal((await s.get('/api/pipelines/p')).json<PipelineDag>().nodes.find((n) => n.id === node.id)!.state, 'up-to-date');
  } finally {
    await removeProgressFile(cache, stale);
    await removeProgressFile(cache, node.key!);
  }
});

test('liveProgress: no ETA before an epoch is done; non-training stages have epoch 0', () => {
  const doc = progressDoc('0'.repeat(64), 'x', 1, 5);
  assert.equal(liveProgress(doc).etaSeconds, undefined);
  assert.deepEqual(liveProgress({ ...doc, update: { message: 'downloading', done: 3, total: 10 }, epochEndedAt: [] }), { epoch: 0, epochs: 0, updatedAt: iso(5) });
  // Never negative, when an epoch runs longer than the ones before.
  assert.equal(liveProgress(progressDoc('0'.repeat(64), 'x', 5, 100)).etaSeconds, 0);
});

test('the run observer writes each running stage progress file, with when each epoch ended, and removes it once stored', async () => {
  let now = T0;
  const dir = join(p.dir, 'recorder-cache');
  const warnings: string[] = [];
  const rec = progressRecorder(dir, '/p.yaml', (w) => warnings.push(w), 0, () => now);
  const id = 'fit[lr=0.1]' as StageId;
  const key = 'ab'.repeat(32) as CacheKey;
  const training = (current: number, finished: number) => ({ epochs: { current, total: 3, finished }, metrics: { loss: 1, acc: 0.5 } });
  rec.observe({ type: 'stage-start', id, plugin: 'train', key, cores: 1 });
  now += 4000;
  rec.observe({ type: 'stage-progress', id, update: training(1, 0) });
  now += 4000;
  rec.observe({ type: 'stage-progress', id, update: training(1, 1) });
  now += 1000;
  rec.observe({ type: 'stage-progress', id, update: training(2, 1) });
  rec.observe({ type: 'stage-placed', id, where: 'n2 (slurm 7)' });
  await rec.flush();
  const doc = (await readProgressFile(progressFileOf(dir, key)))!;
  assert.deepEqual([doc.id, doc.key, doc.startedAt, doc.epochEndedAt, doc.update.epochs?.current, doc.where], [id, key, iso(0), [iso(8)], 2, 'n2 (slurm 7)']);

  rec.observe({ type: 'stage-end', report: { id, stage: 'fit', plugin: 'train', key, status: 'ran', seconds: 9, outputs: {} } });
  await rec.flush();
  assert.deepEqual(await readdir(join(dir, 'progress')), []);

  rec.observe({ type: 'stage-start', id, plugin: 'train', key, cores: 1 });
  rec.observe({ type: 'stage-end', report: { id, stage: 'fit', plugin: 'train', key, status: 'failed', seconds: 1, outputs: {}, reason: 'boom' } });
  await rec.close();
  assert.equal((await readProgressFile(progressFileOf(dir, key)))?.failed, 'boom');
  assert.deepEqual(warnings, []);
});

test('rethink run records a failed stage in the cache for the UI, and leaves nothing for the stages it stored', async () => {
  const failing = SWEEP.replace('with: { value: 0 }', 'with: { value: 0, fail: true }');
  const q = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': failing });
  const r = await q.run('p.yaml');
  assert.equal(r.code, 1);
  const failed = r.doc.stages.find((st) => st.id === 'aggregate')!;
  assert.equal(failed.status, 'failed');
  const dir = join(q.dir, 'cache', 'progress');
  assert.deepEqual(await readdir(dir), [`${failed.key}.json`]);
  const doc = (await readProgressFile(join(dir, `${failed.key}.json`)))!;
  assert.equal(doc.id, 'aggregate');
  assert.match(doc.failed!, /boom in aggregate/);

  const ui = await uiOver(q, { pipelines: ['p.yaml'] });
  try {
    assert.equal((await ui.get('/api/pipelines/p')).json<PipelineDag>().nodes.find((n) => n.id === 'aggregate')!.state, 'failed');
  } finally {
    await ui.close();
  }
});

/** Reports an epoch, then waits for the test to open its gate (a file) before the next one. */
const GATED = `
import { existsSync } from 'node:fs';
export const plugin = {
  name: 'gated', version: '1', description: 'epochs paced by the test',
  params: { type: 'object', properties: { epochs: { type: 'integer' }, gate: { type: 'string' } }, required: ['epochs', 'gate'] },
  inputs: {}, outputs: { metrics: { kind: 'json' } },
  async run(ctx) {
    const { epochs, gate } = ctx.params;
    for (let epoch = 1; epoch <= epochs; epoch++) {
      ctx.progress({ message: 'epoch ' + epoch, epochs: { current: epoch, total: epochs, finished: epoch - 1 }, metrics: { loss: 1 / epoch, acc: epoch / 10 } });
      while (!existsSync(gate + '-' + epoch)) await new Promise((r) => setTimeout(r, 10));
    }
    await ctx.writeJson('metrics', { history: [] });
  },
};
`;

test('while rethink run works in another process, /api/live follows its epochs to the stored result', { timeout: 60_000 }, async () => {
  const q = await project({ 'plugins.mjs': TEST_PLUGINS, 'gated.mjs': GATED });
  const gate = join(q.dir, 'gate');
  await q.write({ 'p.yaml': `stages:\n  prep: { uses: ./plugins.mjs, with: { value: 1 } }\n  slow: { uses: ./gated.mjs, with: { epochs: 3, gate: "${gate}" } }\n` });
  assert.equal((await q.run('p.yaml', '--only', 'prep')).code, 0);
  const ui = await uiOver(q, { pipelines: ['p.yaml'] });
  const live = await subscribe(ui);
  try {
    const run = startCli(q.dir, ['run', 'p.yaml']);
    const isSlow = (e: LiveEvent) => e.type !== 'hello' && e.id === 'slow';
    assert.equal((await live.next((e) => isSlow(e) && e.type === 'state')).type, 'state');
    for (let epoch = 1; epoch <= 3; epoch++) {
      const e = await live.next((x) => isSlow(x) && x.type === 'progress' && x.progress.epoch === epoch);
      assert.ok(e.type === 'progress' && e.progress.epochs === 3 && e.progress.acc === epoch / 10);
      // The ETA comes once an epoch has ended.
      assert.equal(e.type === 'progress' && e.progress.etaSeconds !== undefined, epoch > 1);
      if (epoch === 2) assert.equal((await ui.get('/api/pipelines/p')).json<PipelineDag>().nodes.find((n) => n.id === 'slow')!.state, 'running');
      await q.write({ [`gate-${epoch}`]: '' });
    }
    const done = await live.next((e) => isSlow(e) && e.type === 'state' && e.state !== 'running');
    assert.deepEqual(done.type === 'state' && done.state, 'up-to-date');
    assert.equal((await run.done).code, 0);
  } finally {
    live.close();
    await ui.close();
  }
});
