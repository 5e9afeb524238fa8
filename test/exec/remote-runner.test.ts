import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readdir, readFile } from 'node:fs/promises';
import { gone, until } from '../support/cli-process.js';
import { tempDir } from '../support/temp.js';
import { compiledBin, HEAVY_PLUGIN, project, SWEEP, TEST_PLUGINS } from '../support/tmp-project.js';
import { execute, type RunSummary } from '../../src/exec/executor.js';
import { InProcessRunner } from '../../src/exec/runner.js';
import { RemoteRunner } from '../../src/exec/remote-runner.js';
import { ProcessEngine } from '../../src/exec/engines/process.js';
import { jobOf, parseJobSpec, type JobSpec } from '../../src/exec/job-spec.js';
import type { EngineJob, EngineOutcome, JobEngine } from '../../src/exec/engine.js';
import type { ExecEvent } from '../../src/exec/events.js';
import type { Plan } from '../../src/plan/plan.js';
import { loadWorkspace } from '../../src/cli/workspace.js';
import { LocalStore } from '../../src/store/local.js';
import { TieredStore } from '../../src/store/tiered.js';
import { DirRemote, jobProgressPathOf, RemoteError, runPathOf } from '../../src/store/remote.js';
import { plainRenderer } from '../../src/cli/render/plain.js';
import { runDocument } from '../../src/cli/render/json.js';

/** What the fake engine does with the n-th submit (from 1) of a key. */
type Behaviour = 'run' | 'lose' | 'user-error' | 'hang' | 'progress' | 'no-record';

/**
 * A JobEngine whose jobs run in this process, each as a worker machine would: its own cache
 * directory, the spec read back from the shared remote, outputs then the run record uploaded there.
 */
class FakeEngine implements JobEngine {
  readonly name = 'fake';
  /** Stage ids, one per submit. */
  readonly submitted: string[] = [];
  readonly cancelled: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  private readonly submits = new Map<string, number>();
  private ids = 0;

  constructor(
    private readonly remoteDir: string,
    private readonly plan: Plan,
    private readonly behaviour: (spec: JobSpec, n: number) => Behaviour = () => 'run',
    /** Runs before a job's work starts (a barrier, a latch). */
    private readonly before: (spec: JobSpec) => Promise<void> = async () => {},
    /** Whether the engine says where its jobs run (a queue's word can come after the job finished). */
    private readonly places = true,
  ) {}

  async submit(_spec: JobSpec, specPath: string, signal: AbortSignal): Promise<EngineJob> {
    signal.throwIfAborted();
    // What a worker gets: the spec as the coordinator published it.
    const spec = parseJobSpec((await new DirRemote(this.remoteDir).getText(specPath))!);
    const n = (this.submits.get(spec.key) ?? 0) + 1;
    this.submits.set(spec.key, n);
    this.submitted.push(spec.stage.id);
    const id = String(++this.ids);
    const worker = `w${id}`;
    let cancel = (): void => {};
    const cancelled = new Promise<EngineOutcome>((resolve) => {
      cancel = () => {
        this.cancelled.push(spec.stage.id);
        resolve({ state: 'lost', reason: 'cancelled' });
      };
    });
    const work = async (): Promise<EngineOutcome> => {
      this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
      try {
        await this.before(spec);
        switch (this.behaviour(spec, n)) {
          case 'run':
            await this.work(spec, worker);
            return { state: 'completed' };
          case 'progress':
            await new DirRemote(this.remoteDir).putText(jobProgressPathOf(spec.key), JSON.stringify({ update: { message: 'epoch 1 of 3' }, at: '2026-01-01T00:00:00Z', ranOn: { host: worker } }));
            return cancelled;
          case 'lose':
            return { state: 'lost', reason: 'NODE_FAIL' };
          case 'user-error':
            return { state: 'failed', reason: 'checksum mismatch for https://example.org/x', userError: true };
          case 'no-record':
            return { state: 'completed' };
          case 'hang':
            return cancelled;
        }
      } finally {
        this.inFlight--;
      }
    };
    const outcome = Promise.race([work(), cancelled]);
    return {
      id,
      attached: false,
      outcome,
      onPlacement: (listener) => {
        if (this.places) listener(worker);
      },
      onProgress: () => {},
      cancel: async () => cancel(),
    };
  }

  /** `rethink exec --key` in miniature: the stage in a cache of its own, its result uploaded, record last. */
  private async work(spec: JobSpec, worker: string): Promise<void> {
    const store = new TieredStore(new LocalStore(join(this.remoteDir, '..', `worker-${worker}`)), new DirRemote(this.remoteDir));
    const job = jobOf(spec, this.plan.instances.get(spec.stage.id)!.plugin);
    const startedAt = new Date().toISOString();
    const result = await new InProcessRunner(store).run(job, { signal: new AbortController().signal, onProgress: () => {}, onLog: () => {} });
    await store.writeRun({
      format: 1,
      key: spec.key,
      keyRecord: spec.keyRecord,
      stage: { id: spec.stage.id, name: spec.stage.name, pipeline: spec.pipeline },
      outputs: result.outputs,
      startedAt,
      seconds: 0,
      provenance: { ...result.provenance, ranOn: { host: 'fake-host', worker } },
    });
    const report = await store.flush();
    if (report.error) throw new Error(report.error);
  }
}

interface Coordinator {
  readonly dir: string;
  readonly remoteDir: string;
  readonly plan: Plan;
  readonly store: TieredStore;
  readonly events: ExecEvent[];
  run(engine: JobEngine, options?: { jobs?: number; retries?: number; signal?: AbortSignal }): Promise<RunSummary>;
}

/** A project whose coordinator has a cache of its own and a directory remote beside it. */
async function coordinator(pipeline = SWEEP, files: Readonly<Record<string, string>> = {}): Promise<Coordinator> {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': pipeline, ...files });
  const io = { stdout: () => {}, stderr: () => {}, isTTY: false, cwd: p.dir, env: {} };
  const { plan } = await loadWorkspace(io, 'p.yaml');
  const remoteDir = join(p.dir, 'remote');
  const store = new TieredStore(new LocalStore(join(p.dir, 'cache')), new DirRemote(remoteDir));
  const events: ExecEvent[] = [];
  return {
    dir: p.dir,
    remoteDir,
    plan,
    store,
    events,
    run: (engine, options = {}) =>
      execute(
        plan,
        store,
        { local: new InProcessRunner(store), remote: new RemoteRunner({ engine, store, plan, firstPollMs: 5, maxPollMs: 20, progressPollMs: 5 }) },
        { jobs: options.jobs ?? 8, retryDelayMs: 1, ...(options.retries === undefined ? {} : { retries: options.retries }), ...(options.signal ? { signal: options.signal } : {}) },
        (e) => events.push(e),
      ),
  };
}

const shape = (s: RunSummary) => Object.fromEntries(s.stages.map((st) => [st.id, { key: st.key, outputs: st.outputs }]));

test('a sweep run as jobs through the remote has the outputs of a local run; each job wrote its record, which the coordinator adopts', async () => {
  const local = await coordinator();
  const expected = await execute(local.plan, local.store.local, { local: new InProcessRunner(local.store.local) }, { jobs: 2 }, () => {});
  const c = await coordinator();
  const engine = new FakeEngine(c.remoteDir, c.plan);
  const summary = await c.run(engine);
  assert.ok(summary.ok, JSON.stringify(summary.stages));
  assert.deepEqual(shape(summary), shape(expected));
  assert.deepEqual(new Set(engine.submitted), new Set(c.plan.order), 'every stage was a job');
  for (const st of summary.stages) {
    assert.equal(st.status, 'ran');
    assert.match(st.where!, /^w\d+ \(fake \d+\)$/);
    // The record on the remote is the job's own, and the coordinator took it rather than writing one.
    const record = JSON.parse((await new DirRemote(c.remoteDir).getText(runPathOf(st.key!)))!) as { provenance: { ranOn: { worker: string } } };
    assert.equal(record.provenance.ranOn.worker, st.where!.split(' ')[0]);
    assert.deepEqual((await c.store.readRun(st.key!))?.provenance['ranOn'], record.provenance.ranOn);
    assert.equal(await c.store.local.readRun(st.key!), undefined, 'no record of its own in the local cache');
  }
  const placed = c.events.filter((e): e is Extract<ExecEvent, { type: 'stage-placed' }> => e.type === 'stage-placed');
  assert.equal(placed.length, c.plan.order.length, 'one placement per job');
  assert.deepEqual(c.events.find((e) => e.type === 'run-start'), { type: 'run-start', pipeline: 'p.yaml', total: 8, jobs: 8, executor: 'fake' });

  // Another coordinator with an empty cache finds every result on the remote.
  const again = await coordinator();
  const shared = new TieredStore(new LocalStore(join(again.dir, 'cache')), new DirRemote(c.remoteDir));
  const fresh = await execute(again.plan, shared, { local: new InProcessRunner(shared) }, { jobs: 2 }, () => {});
  assert.ok(fresh.stages.every((st) => st.status === 'cached' && st.remote === true), JSON.stringify(fresh.stages));
});

test('a lost job is submitted again within the stage retries and ends ran with 2 attempts', async () => {
  const c = await coordinator();
  const engine = new FakeEngine(c.remoteDir, c.plan, (spec, n) => (spec.stage.id === 'train[p=0.5,seed=2]' && n === 1 ? 'lose' : 'run'));
  const summary = await c.run(engine, { retries: 1 });
  assert.ok(summary.ok, JSON.stringify(summary.stages));
  const train = summary.stages.find((st) => st.id === 'train[p=0.5,seed=2]')!;
  assert.equal(train.status, 'ran');
  assert.equal(train.attempts, 2);
  assert.equal(engine.submitted.filter((id) => id === train.id).length, 2);
  const retry = c.events.find((e) => e.type === 'warning' && e.message.startsWith(`${train.id}: `));
  assert.match((retry as { message: string }).message, /^train\[p=0\.5,seed=2\]: attempt 1 of 2 failed: fake \d+ was lost: NODE_FAIL; trying again/);
});

test("a job that fails with a user error is not submitted again, whatever the stage's retries", async () => {
  const c = await coordinator();
  const engine = new FakeEngine(c.remoteDir, c.plan, (spec) => (spec.stage.name === 'corrupt' ? 'user-error' : 'run'));
  const summary = await c.run(engine, { retries: 3 });
  assert.equal(summary.ok, false);
  const failed = summary.stages.filter((st) => st.status === 'failed');
  assert.ok(failed.length >= 1);
  for (const st of failed) {
    assert.equal(st.userError, true);
    assert.equal(st.attempts, undefined, 'one attempt');
    assert.equal(st.reason, 'checksum mismatch for https://example.org/x');
  }
  assert.equal(engine.submitted.filter((id) => id.startsWith('corrupt')).length, failed.length, 'each submitted once');
});

test('stopping the run cancels every job in flight and publishes nothing of them', async () => {
  const c = await coordinator();
  const stop = new AbortController();
  let trains = 0;
  const engine = new FakeEngine(
    c.remoteDir,
    c.plan,
    (spec) => (spec.stage.name === 'train' ? 'hang' : 'run'),
    async (spec) => {
      if (spec.stage.name === 'train' && ++trains === 4) stop.abort(new Error('interrupted'));
    },
  );
  const summary = await c.run(engine, { signal: stop.signal });
  assert.equal(summary.ok, false);
  assert.deepEqual(engine.cancelled.sort(), c.plan.order.filter((id) => id.startsWith('train')).sort());
  const train = summary.stages.filter((st) => st.id.startsWith('train'));
  assert.ok(train.every((st) => st.status === 'failed' && st.reason === 'interrupted'), JSON.stringify(train));
  for (const st of train) assert.equal(await new DirRemote(c.remoteDir).has(runPathOf(st.key!)), false);
});

test('stages placed local run on the coordinator and never reach the engine; their outputs go up before a job reads them, and they read jobs\' outputs from the remote', async () => {
  const coordinated = new Set(['download', 'aggregate']);
  const pipeline = SWEEP.replace(/^( {2}(download|aggregate):\n)/gm, '$1    executor: local\n');
  assert.equal(pipeline.match(/executor: local/g)?.length, 2);
  const c = await coordinator(pipeline);
  const engine = new FakeEngine(c.remoteDir, c.plan);
  const summary = await c.run(engine);
  assert.ok(summary.ok, JSON.stringify(summary.stages));
  assert.deepEqual(engine.submitted.filter((id) => coordinated.has(id)), []);
  assert.equal(engine.submitted.length, c.plan.order.length - 2);
  const aggregate = summary.stages.find((st) => st.id === 'aggregate')!;
  assert.equal(aggregate.status, 'ran');
  assert.equal(aggregate.where, undefined);
  // The coordinator wrote its record, and uploads it like any result of its own.
  await c.store.flush();
  assert.equal(await new DirRemote(c.remoteDir).has(runPathOf(aggregate.key!)), true);
});

test('under a remote runner --jobs counts jobs in flight, one each, not the cores the stage declares', { timeout: 60_000 }, async () => {
  // Every train stage needs all cores: on this machine they would run one at a time.
  const heavy = SWEEP.replace(/(train:\n {4}uses: )\.\/plugins\.mjs/, '$1./heavy.mjs');
  assert.notEqual(heavy, SWEEP);
  const c = await coordinator(heavy, { 'heavy.mjs': HEAVY_PLUGIN });
  // The four train jobs are held until three are in flight together: with one at a time this never ends.
  let open: () => void = () => {};
  const three = new Promise<void>((resolve) => (open = resolve));
  let trains = 0;
  const engine = new FakeEngine(c.remoteDir, c.plan, () => 'run', async (spec) => {
    if (spec.stage.name !== 'train') return;
    if (++trains === 3) open();
    await three;
  });
  const summary = await c.run(engine, { jobs: 3 });
  assert.ok(summary.ok, JSON.stringify(summary.stages));
  assert.equal(engine.maxInFlight, 3);
});

test("progress a job writes to the remote reaches the stage's line; a job that ends without a record fails its stage", async () => {
  const c = await coordinator('stages:\n  one: { uses: ./plugins.mjs, with: { value: 1 } }\n  two: { uses: ./plugins.mjs, with: { value: 2 } }\n');
  let engine!: FakeEngine;
  const seen = new Promise<void>((resolve) => {
    engine = new FakeEngine(c.remoteDir, c.plan, (spec) => (spec.stage.id === 'one' ? 'progress' : 'no-record'));
    const check = setInterval(() => {
      if (c.events.some((e) => e.type === 'stage-progress' && e.id === 'one')) {
        clearInterval(check);
        resolve();
      }
    }, 5);
  });
  const stop = new AbortController();
  void seen.then(() => stop.abort(new Error('seen')));
  const summary = await c.run(engine, { signal: stop.signal });
  const progress = c.events.find((e): e is Extract<ExecEvent, { type: 'stage-progress' }> => e.type === 'stage-progress' && e.id === 'one');
  assert.deepEqual(progress?.update, { message: 'epoch 1 of 3' });
  const two = summary.stages.find((st) => st.id === 'two')!;
  assert.equal(two.status, 'failed');
  assert.match(two.reason!, /^fake \d+ ended without a run record on the remote .*remote$/);
});

test('plain lines and the --json document name where a stage runs and ran', () => {
  const lines: string[] = [];
  const observe = plainRenderer((l) => lines.push(l), { now: () => Date.parse('2026-05-01T12:00:00Z') });
  observe({ type: 'run-start', pipeline: 'p.yaml', total: 1, jobs: 100, executor: 'slurm' });
  observe({ type: 'stage-placed', id: 'train[p=0.2]' as never, where: 'n2 (slurm 1234)' });
  observe({ type: 'stage-end', report: { id: 'train[p=0.2]' as never, stage: 'train', plugin: 'train', key: null, status: 'ran', seconds: 3, outputs: {}, where: 'n2 (slurm 1234)' } });
  assert.deepEqual(lines, [
    '2026-05-01T12:00:00Z rethink: p.yaml: 1 stage, 100 jobs at once on slurm\n',
    '2026-05-01T12:00:00Z   placed  train[p=0.2] on n2 (slurm 1234)\n',
    '2026-05-01T12:00:00Z   ran     train[p=0.2] on n2 (slurm 1234) (3.0s)  [1/1]\n',
  ]);
  const report = { id: 'train[p=0.2]' as never, stage: 'train', plugin: 'train', key: null, status: 'ran' as const, seconds: 3, outputs: {}, where: 'n2 (slurm 1234)' };
  assert.equal(runDocument('p.yaml', [report], 3).stages[0]!.where, 'n2 (slurm 1234)');
});

// ---- The process engine: each job a real `rethink exec --key` child with a cache of its own. ----

/** Kills its own process with SIGKILL on its first attempt (counted in a file in `dir`: a job runs the code fetched from the remote, under its worker's cache). */
const diesOnce = (dir: string) => `
import { readFileSync, writeFileSync } from 'node:fs';
export const plugin = {
  name: 'dies-once', version: '1', description: 'dies mid-stage once',
  params: { type: 'object', properties: {} }, inputs: {}, outputs: { out: { kind: 'json' } },
  async run(ctx) {
    const file = ${JSON.stringify(dir)} + '/attempts-' + ctx.stage.id;
    let n = 1;
    try { n += Number(readFileSync(file, 'utf8')); } catch {}
    writeFileSync(file, String(n));
    if (n === 1) process.kill(process.pid, 'SIGKILL');
    await ctx.writeJson('out', { attempt: n });
  },
};
`;

function processEngine(c: Coordinator): ProcessEngine {
  return new ProcessEngine({ rethink: [process.execPath, compiledBin()], remoteUrl: c.remoteDir, cacheDir: join(c.dir, 'cache'), env: { ...process.env, RETHINK_CACHE_DIR: undefined } });
}

test('a job that finished before its engine said where it ran is placed where its record says', async () => {
  const c = await coordinator();
  const summary = await c.run(new FakeEngine(c.remoteDir, c.plan, undefined, undefined, false));
  assert.ok(summary.ok, JSON.stringify(summary.stages));
  for (const st of summary.stages) assert.match(st.where ?? '', /^w\d+ \(fake \d+\)$/, st.id);
});

test('through the process engine (rethink exec --key per job, a cache each) a sweep has the outputs of a local run', async () => {
  const local = await coordinator();
  const expected = await execute(local.plan, local.store.local, { local: new InProcessRunner(local.store.local) }, { jobs: 2 }, () => {});
  const c = await coordinator();
  const summary = await c.run(processEngine(c), { jobs: 4 });
  assert.ok(summary.ok, JSON.stringify(summary.stages));
  assert.deepEqual(shape(summary), shape(expected));
  assert.ok(summary.stages.every((st) => st.status === 'ran' && /^w\d \(process \d+\)$/.test(st.where!)), JSON.stringify(summary.stages));
});

test('through the process engine a killed job is lost and runs again; a user error fails once', async () => {
  const pipeline = 'stages:\n  dies: { uses: ./dies.mjs, retries: 1 }\n  get: { uses: ./plugins.mjs, with: { value: 1, user_error: true }, retries: 2 }\n';
  const attempts = await tempDir('rethink-attempts-');
  const c = await coordinator(pipeline, { 'dies.mjs': diesOnce(attempts) });
  const summary = await execute(
    c.plan,
    c.store,
    { local: new InProcessRunner(c.store), remote: new RemoteRunner({ engine: processEngine(c), store: c.store, plan: c.plan, firstPollMs: 5, maxPollMs: 50 }) },
    { jobs: 2, keepGoing: true, retryDelayMs: 1 },
    (e) => c.events.push(e),
  );
  const [dies, get] = summary.stages;
  assert.equal(dies!.status, 'ran', JSON.stringify(dies));
  assert.equal(dies!.attempts, 2);
  assert.equal(get!.status, 'failed');
  assert.equal(get!.userError, true);
  assert.equal(get!.attempts, undefined, 'one attempt');
  assert.equal(get!.reason, 'checksum mismatch for https://example.org/x: expected 0abc, got 0def');
});

/**
 * Writes its pid into `dir`, then never yields: only a signal stops it. (Into `dir`, not beside the
 * module: a job runs the plugin's code as fetched from the remote, under its worker's cache.)
 */
const busy = (dir: string) => `
import { writeFileSync } from 'node:fs';
export const plugin = {
  name: 'busy', version: '1', description: 'blocks its event loop',
  params: { type: 'object', properties: {} }, inputs: {}, outputs: { out: { kind: 'json' } },
  async run(ctx) {
    writeFileSync(${JSON.stringify(dir)} + '/pid-' + ctx.stage.id, String(process.pid));
    for (;;) {}
  },
};
`;

test('stopping a run under the process engine kills each job it started: no process is left behind', async () => {
  // Two plugins, so two keys: one stage each.
  const pids = await tempDir('rethink-pids-');
  const c = await coordinator('stages:\n  a: { uses: ./busy.mjs }\n  b: { uses: ./busy-too.mjs }\n', { 'busy.mjs': busy(pids), 'busy-too.mjs': `${busy(pids)}\n// another plugin\n` });
  const stop = new AbortController();
  const pidOf = (id: string) => readFile(join(pids, `pid-${id}`), 'utf8').then(Number);
  const spinning = until('both jobs to spin', async () => (await readdir(pids)).length === 2);
  // Stopped either way, so that a job that never spins fails the test instead of hanging the run.
  let waited: unknown;
  void spinning.then(
    () => stop.abort(new Error('interrupted')),
    (e: unknown) => {
      waited = e;
      stop.abort(new Error('interrupted'));
    },
  );
  const summary = await c.run(processEngine(c), { signal: stop.signal });
  if (waited !== undefined) throw waited;
  assert.ok(summary.stages.every((st) => st.status === 'failed' && st.reason === 'interrupted'), JSON.stringify(summary.stages));
  // Gone by the time the run returns: a CLI exits right after, and would leave them spinning.
  for (const pid of [await pidOf('a'), await pidOf('b')]) assert.ok(gone(pid), `job process ${pid} is gone`);
});

test('a remote lost mid-run fails the stages waiting on it, saying why, and cancels nothing: the job may still finish, for a rerun to find', async () => {
  const c = await coordinator('stages:\n  one: { uses: ./plugins.mjs, with: { value: 1 } }\n');
  /** A directory remote whose reads fail once `down` is set, as a server that went away. */
  class FlakyRemote extends DirRemote {
    down = false;
    override async getText(path: string): Promise<string | undefined> {
      if (this.down) throw new RemoteError(`GET ${this.url}/${path} failed: connect ECONNREFUSED`);
      return super.getText(path);
    }
  }
  const remote = new FlakyRemote(c.remoteDir);
  const store = new TieredStore(new LocalStore(join(c.dir, 'cache')), remote);
  const engine = new FakeEngine(c.remoteDir, c.plan, () => 'hang', async () => {
    remote.down = true;
  });
  const summary = await execute(c.plan, store, { local: new InProcessRunner(store), remote: new RemoteRunner({ engine, store, plan: c.plan, firstPollMs: 5, maxPollMs: 20 }) }, { jobs: 2 }, () => {});
  const [one] = summary.stages;
  assert.equal(one!.status, 'failed');
  assert.match(one!.reason!, /^cannot see whether fake 1 finished: the remote failed \(GET .* failed: connect ECONNREFUSED\)$/);
  assert.deepEqual(engine.cancelled, []);
});
