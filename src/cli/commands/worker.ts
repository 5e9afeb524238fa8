// `rethink worker --queue URL --remote URL`: takes stages from the queue that `rethink run
// --executor queue` fills and runs each in a warm `rethink exec --serve` child against the shared
// remote, until SIGTERM or Ctrl-C, which hand the running jobs back to the queue (src/worker/).
import { isAbsolute, resolve } from 'node:path';
import { CLI_ENTRY } from '../../exec/cli-entry.js';
import type { CliIO, Command } from '../io.js';
import { backendFlag, intFlag, parseFlags } from '../args.js';
import { UserError } from '../../util/user-error.js';
import { Interrupt } from '../interrupt.js';
import { openRemote } from '../../store/remote.js';
import { probeRedis, redisTarget } from '../../exec/engines/redis.js';
import { defaultWorkerName, QueueWorker, WORKER_TIMING, type WorkerOptions } from '../../worker/worker.js';
import { ENV } from '../../util/env.js';

const TAGS = ['gpu'] as const;


export const worker: Command = async (argv, io) => {
  const { values, positionals } = parseFlags('worker', argv, {
    queue: { type: 'string', value: 'URL', help: `the queue's Redis: redis://[:password@]host:port/db, rediss://… for TLS (or ${ENV.queue.name})` },
    remote: { type: 'string', value: 'URL', help: `the shared remote the coordinators use: s3://bucket/prefix or a directory (or ${ENV.remote.name})` },
    'cache-dir': { type: 'string', value: 'DIR', help: `this worker's local cache (default ./cache, or ${ENV.cacheDir.name}); workers may share one` },
    backend: backendFlag,
    tags: { type: 'string', value: 'LIST', help: `what this machine offers, comma-separated: gpu (it then takes GPU stages, before the others)` },
    concurrency: { type: 'string', value: 'N', help: 'stages run at once, each in its own warm process (default 1)' },
    name: { type: 'string', value: 'NAME', help: 'where stages ran, in stage lines and provenance (default host:pid)' },
    'lock-ms': { type: 'string', value: 'N', help: `how long a job stays locked to a worker that stopped answering (default ${WORKER_TIMING.lockMs})` },
    'stalled-ms': { type: 'string', value: 'N', help: `how often expired locks are looked for, to requeue their jobs (default ${WORKER_TIMING.stalledMs})` },
    'max-stalled': { type: 'string', value: 'N', help: `how many workers a job may lose before it fails as lost (default ${WORKER_TIMING.maxStalledCount})` },
    'allow-plugin-code': { type: 'boolean', help: `run plugins loaded from a path, their code fetched from the remote by hash (default: built-in plugins only, or specs a trusted key signed; or ${ENV.allowPluginCode.name}=1)` },
  });
  if (positionals.length > 0) throw UserError.of('E_BAD_FLAG', `rethink worker takes no positional arguments, got: ${positionals.join(' ')}`, 'rethink worker --queue URL --remote URL');
  const queueSpec = values.queue ?? ENV.queue.read(io.env);
  if (queueSpec === undefined || queueSpec.trim() === '') throw UserError.of('E_BAD_FLAG', `rethink worker needs the queue: --queue URL (or ${ENV.queue.name})`, 'e.g. --queue redis://127.0.0.1:6379/0');
  const remoteSpec = values.remote ?? ENV.remote.read(io.env);
  if (remoteSpec === undefined || remoteSpec.trim() === '') throw UserError.of('E_NO_REMOTE', `rethink worker needs the shared remote its coordinators use: --remote URL (or ${ENV.remote.name})`, 'pass --remote s3://bucket/prefix (or a shared directory)');
  const tags = tagsOf(values.tags);
  const timing = {
    lockMs: intFlag('lock-ms', values['lock-ms'], 100) ?? WORKER_TIMING.lockMs,
    stalledMs: intFlag('stalled-ms', values['stalled-ms'], 100) ?? WORKER_TIMING.stalledMs,
    maxStalledCount: intFlag('max-stalled', values['max-stalled'], 0) ?? WORKER_TIMING.maxStalledCount,
    graceMs: WORKER_TIMING.graceMs,
  };
  const concurrency = intFlag('concurrency', values.concurrency, 1) ?? 1;
  const cacheDir = cacheDirOf(io, values['cache-dir']);
  const queue = redisTarget(queueSpec.trim(), values.queue === undefined ? ENV.queue.name : '--queue');
  const remote = await openRemote(remoteSpec, io.cwd, values.remote === undefined ? ENV.remote.name : '--remote');
  await probeRedis(queue);
  const name = values.name ?? defaultWorkerName();
  const child = {
    module: CLI_ENTRY,
    args: [
      'exec',
      '--serve',
      '--remote',
      remote.url,
      '--cache-dir',
      cacheDir,
      ...(values.backend === undefined ? [] : ['--backend', values.backend]),
      ...(values['allow-plugin-code'] === true ? ['--allow-plugin-code'] : []),
      '--worker',
      name,
    ],
  };
  const log = (line: string) => io.stderr(`${line}\n`);
  return serveUntilStopped({ queue, remoteUrl: remote.url, name, tags, concurrency, timing, child, log }, log);
};

/**
 * Runs a worker until the first SIGTERM, SIGINT or SIGHUP, then stops it gracefully (a second signal
 * exits at once); 0 once stopped. A worker whose children cannot start is a user error (exit 2).
 */
export async function serveUntilStopped(options: WorkerOptions, say: (line: string) => void): Promise<number> {
  const interrupt = new Interrupt(say);
  try {
    let running: QueueWorker;
    try {
      running = await QueueWorker.start(options);
    } catch (e) {
      throw UserError.of('E_WORKER_START', `worker ${options.name}: ${(e as Error).message}`, `it runs \`${options.child.args.join(' ')}\`: check its flags, the remote and the cache directory`);
    }
    if (!interrupt.signal.aborted) await new Promise((r) => interrupt.signal.addEventListener('abort', r, { once: true }));
    await running.stop();
    say(`worker ${options.name}: stopped`);
    return 0;
  } finally {
    interrupt.dispose();
  }
}

function tagsOf(flag: string | undefined): readonly string[] {
  const tags = (flag ?? '').split(',').map((t) => t.trim()).filter((t) => t !== '');
  const unknown = tags.find((t) => !(TAGS as readonly string[]).includes(t));
  if (unknown !== undefined) throw UserError.of('E_BAD_FLAG', `--tags: "${unknown}" is not a tag a worker knows`, `tags: ${TAGS.join(', ')}`);
  return tags;
}

function cacheDirOf(io: CliIO, flag: string | undefined): string {
  const dir = flag ?? ENV.cacheDir.read(io.env) ?? 'cache';
  if (dir.trim() === '') throw UserError.of('E_BAD_CACHE_DIR', `${flag === undefined ? `${ENV.cacheDir.name} is set but empty` : '--cache-dir is empty'}: name this worker's cache directory`, 'e.g. --cache-dir cache');
  return isAbsolute(dir) ? dir : resolve(io.cwd, dir);
}
