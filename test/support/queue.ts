// Helpers for the queue tests: stand-in worker processes (queue-worker.ts), job specs for the
// stand-in child (only their key, stage and params matter to the engine and the worker), an engine
// on a test Redis, and real `rethink worker` processes with a plugin that counts its runs.
import { publishPluginCode } from '../../src/exec/plugin-code.js';
import { after } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createQueueEngine, type QueueEngineTiming } from '../../src/exec/engines/queue.js';
import type { JobEngine } from '../../src/exec/engine.js';
import { buildJobSpec, type JobSpec } from '../../src/exec/job-spec.js';
import { inputKeys, lookup, resolveInputs } from '../../src/exec/executor.js';
import { loadWorkspace } from '../../src/cli/workspace.js';
import { LocalStore } from '../../src/store/local.js';
import { asStageId } from '../../src/util/brand.js';
import type { Plan } from '../../src/plan/plan.js';
import type { Resources } from '../../src/plan/resources.js';
import { DirRemote } from '../../src/store/remote.js';
import { TEST_WORKER, type TestWorkerOptions } from './queue-worker.js';
import { startCli, until, type CliProcess } from './cli-process.js';
import type { StandInParams } from './serve-stand-in.js';

export interface TestWorker {
  readonly child: ChildProcess;
  readonly name: string;
  /** Settles with its exit code once it exited. */
  readonly exited: Promise<number | null>;
  stderr(): string;
}

const workers = new Set<ChildProcess>();
after(() => {
  for (const w of workers) w.kill('SIGKILL');
});

/** Starts a worker process and waits until it serves (its first log line says so). */
export async function startWorker(options: TestWorkerOptions): Promise<TestWorker> {
  const child = spawn(process.execPath, [TEST_WORKER, JSON.stringify(options)], { stdio: ['ignore', 'ignore', 'pipe'] });
  workers.add(child);
  let stderr = '';
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/serving/.test(stderr)) resolve();
    });
    void exited.then((code) => reject(new Error(`worker ${options.name} exited (${code}) before serving:\n${stderr}`)));
  });
  return { child, name: options.name, exited, stderr: () => stderr };
}

/** A spec for the stand-in child, under a fresh key. */
export function standInSpec(id: string, params: StandInParams = {}, resources?: Resources): JobSpec {
  const key = createHash('sha256').update(randomUUID()).digest('hex');
  return {
    format: 1,
    key,
    keyRecord: { plugin: 'stand-in', version: '1', params, inputs: {} },
    stage: { id, name: id.replace(/\[.*/, ''), matrix: {} },
    pipeline: '/p.yaml',
    plugin: { uses: 'stand-in', baseDir: '/', name: 'stand-in', version: '1' },
    params,
    seed: 0,
    inputs: {},
    cores: 1,
    ...(resources === undefined ? {} : { resources }),
  } as unknown as JobSpec;
}

/** `worker attempt pid` for each start of the key, as the stand-in wrote them. */
export async function starts(dir: string, key: string): Promise<{ worker: string; attempt: number; pid: number }[]> {
  const text = await readFile(join(dir, `starts-${key}`), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [worker, attempt, pid] = l.split(' ');
      return { worker: worker!, attempt: Number(attempt), pid: Number(pid) };
    });
}

/** An engine on `url`, as a coordinator whose remote is `remoteUrl` would build it. */
export async function engineOn(url: string, remoteUrl: string, timing: Partial<QueueEngineTiming> = {}, warn: (line: string) => void = () => undefined): Promise<JobEngine> {
  return createQueueEngine({
    url,
    remote: new DirRemote(remoteUrl),
    remoteUrl,
    cacheDir: join(remoteUrl, 'cache'),
    plan: {} as Plan,
    rethink: [process.execPath],
    env: {},
    warn,
    timing: { checkMs: 200, ...timing },
  });
}

export const SPEC_PATH = (spec: JobSpec) => `jobs/${spec.key}/spec.json`;

/** The job spec a coordinator would submit for stage `id` of `pipeline` in `dir` (no upstream outputs). */
/**
 * The spec of one stage of a pipeline in `dir`, as a coordinator would submit it. With `remoteDir`,
 * a plugin loaded from a path also gets its code put on that directory remote, as RemoteRunner does.
 */
export async function pipelineSpec(dir: string, pipeline: string, id: string, remoteDir?: string): Promise<JobSpec> {
  const io = { stdout: () => {}, stderr: () => {}, isTTY: false, cwd: dir, env: {} };
  const { plan } = await loadWorkspace(io, pipeline);
  const inst = plan.instances.get(asStageId(id))!;
  const none = () => ({});
  const { key, keyRecord } = await lookup(new LocalStore(join(dir, 'unused')), inst, inputKeys(plan, inst, none));
  const spec = buildJobSpec({ instance: inst, key, keyRecord, inputs: resolveInputs(plan, inst, none), cores: 1 }, plan);
  if (remoteDir !== undefined && spec.plugin.code !== undefined) await publishPluginCode(new DirRemote(remoteDir), spec.plugin.baseDir, spec.plugin.uses);
  return spec;
}

/** Where the test plugins that count their runs (COUNTED, and those of worker.test.ts) append: the project's runs.log. */
export const RUNS_LOG_ENV = 'RUNS_LOG';

/**
 * A path plugin that appends `stage-id pid` to $RUNS_LOG, then runs like the test
 * plugin (plugins.mjs). An absolute log: on a worker its code runs from the worker's cache.
 */
export const COUNTED = `import { appendFileSync } from 'node:fs';
import { plugin as emit } from './plugins.mjs';
export const plugin = { ...emit, name: 'counted', async run(ctx) { appendFileSync(process.env.${RUNS_LOG_ENV}, ctx.stage.id + ' ' + process.pid + '\\n'); return emit.run(ctx); } };
`;

/** Each run COUNTED noted, in order. */
export async function countedRuns(dir: string): Promise<{ stage: string; pid: number }[]> {
  const text = await readFile(join(dir, 'runs.log'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => ({ stage: l.slice(0, l.lastIndexOf(' ')), pid: Number(l.slice(l.lastIndexOf(' ') + 1)) }));
}

/**
 * `rethink worker` processes on `redisUrl` and the project's remote (`dir/remote`), named `names`,
 * each with its own cache (`dir/cache-NAME`) and `flags`; resolves once all serve. Their stages
 * note their runs in the project's runs.log (COUNTED).
 */
export async function cliWorkers(dir: string, redisUrl: string, names: readonly string[], flags: readonly string[] = [], env: Readonly<Record<string, string>> = {}): Promise<CliProcess[]> {
  const started = names.map((name) =>
    startCli(dir, ['worker', '--queue', redisUrl, '--remote', join(dir, 'remote'), '--cache-dir', join(dir, `cache-${name}`), '--name', name, ...flags], { [RUNS_LOG_ENV]: join(dir, 'runs.log'), ...env }),
  );
  await until('the workers to serve', () => started.every((w) => /serving/.test(w.stderr()) || w.child.exitCode !== null));
  for (const w of started) if (w.child.exitCode !== null) throw new Error(`a worker exited before serving:\n${w.stderr()}`);
  return started;
}
