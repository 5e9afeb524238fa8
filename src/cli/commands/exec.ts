// `rethink exec (--spec FILE|- | --key KEY) [--remote URL] [--cache-dir DIR] [--backend B] [--worker NAME]`:
// runs one resolved stage (a job spec) on this machine, for executors, Slurm jobs and workers (the
// work itself is exec/run-spec.ts). With `--remote` (or RETHINK_REMOTE) the job is the whole stage:
// inputs come from the shared remote, and the outputs and then the run record go up to it; without,
// it publishes into the local cache and leaves the record to the coordinator. Exit codes (EXEC_EXIT):
// 0 ok, 1 the stage failed, 2 the stage failed with a user error, 3 the job was refused (a bad or
// forged spec, other code than this machine has, a missing input, an unreachable remote); engines
// retry only 1. Started by child_process.fork it reports over IPC (job-messages.ts); otherwise it
// prints its result as one JSON line on stdout. Against a remote, a plugin loaded from a path runs
// only with `--allow-plugin-code` (RETHINK_ALLOW_PLUGIN_CODE=1) or when a trusted key signed the
// spec, and its code comes from the remote by hash (exec/plugin-code.ts); built-ins always run.
//
// `rethink exec --serve`: a warm child for `rethink worker`, forked once: it loads the registry and
// tfjs, says `ready`, then runs the jobs its parent sends over IPC one at a time (`cancel` stops the
// current one) until the channel closes. A stage that blocks the event loop blocks only this child.
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { text } from 'node:stream/consumers';
import { consoleToStderr, type CliIO, type Command } from '../io.js';
import { backendChoice, backendFlag, parseFlags } from '../args.js';
import { openSharedRemote, tieredOver, type SharedRemote } from '../remote-store.js';
import { LocalStore } from '../../store/local.js';
import { jobSpecPathOf } from '../../store/remote.js';
import { formatDiagnostics } from '../../config/diagnostic.js';
import { UserError } from '../../util/user-error.js';
import { createRegistry, type PluginRegistry } from '../../plan/registry.js';
import { EXEC_EXIT } from '../../exec/engine.js';
import { errorOf, isServeRequest, jobError, type JobMessage, type JobResult, type RanOn } from '../../exec/job-messages.js';
import { JobRefused, parseSpec, refusalError, runJobSpec, unreachable } from '../../exec/run-spec.js';
import { specSigner } from '../../exec/spec-signing.js';
import type { JobSpec } from '../../exec/job-spec.js';
import { describeError } from '../../exec/errors.js';
import { errorText } from '../../util/error-text.js';
import { builtinPlugins } from '../../../stages/index.js';
import { ENV } from '../../util/env.js';

type Send = (m: JobMessage) => Promise<void>;

export const exec: Command = async (argv, io) => {
  const { values, positionals } = parseFlags('exec', argv, {
    spec: { type: 'string', value: 'FILE', help: 'the job spec to run: a file, or - for stdin' },
    key: { type: 'string', value: 'KEY', help: "run the job spec the coordinator put on the remote for this stage key (jobs/KEY/spec.json; needs --remote)" },
    serve: { type: 'boolean', help: 'stay up and run the jobs a parent process (rethink worker) sends over IPC, one at a time' },
    remote: { type: 'string', value: 'URL', help: `the shared remote inputs come from and results go to: s3://bucket/prefix or a directory (or ${ENV.remote.name})` },
    'cache-dir': { type: 'string', value: 'DIR', help: `this machine's local cache (or ${ENV.cacheDir.name}); each worker or node has its own` },
    backend: backendFlag,
    worker: { type: 'string', value: 'NAME', help: "this worker's name in the run record's provenance (default: the host name)" },
    'allow-plugin-code': { type: 'boolean', help: `with --remote: run plugins loaded from a path (their code comes from the remote, by hash); default: built-in plugins only, or specs signed by a trusted key (or ${ENV.allowPluginCode.name}=1)` },
  });
  const send: Send | undefined = process.send === undefined ? undefined : (m) => new Promise<void>((done) => process.send!(m, undefined, {}, () => done()));
  if (positionals.length > 0) throw UserError.of('E_BAD_FLAG', `rethink exec takes no positional arguments, got: ${positionals.join(' ')}`, 'rethink exec --spec FILE|- or --key KEY --remote URL');
  if (values.serve) {
    if (!send) throw UserError.of('E_BAD_FLAG', 'rethink exec --serve runs under a parent that forked it (rethink worker), with an IPC channel', 'start `rethink worker`; it starts its own `rethink exec --serve`');
    if (values.spec !== undefined || values.key !== undefined) throw UserError.of('E_BAD_FLAG', 'rethink exec --serve takes its jobs over IPC, not --spec or --key');
  } else {
    if ((values.spec === undefined) === (values.key === undefined)) throw UserError.of('E_BAD_FLAG', 'rethink exec needs one of --spec FILE (or --spec - for stdin) and --key KEY', 'rethink exec --spec FILE|- or --key KEY --remote URL');
  }
  const remoteFlag = values.remote ?? emptyAsUnset(ENV.remote.read(io.env));
  if (values.key !== undefined && remoteFlag === undefined) throw UserError.of('E_BAD_FLAG', `rethink exec --key reads the job spec from the remote: it needs --remote URL (or ${ENV.remote.name})`);
  const backend = await backendChoice(values.backend, io.env);
  const local = cacheOf(io, values['cache-dir']);
  const shared = remoteFlag === undefined ? undefined : await openSharedRemote(io, remoteFlag, values.remote !== undefined ? '--remote' : ENV.remote.name);
  const registry = createRegistry(builtinPlugins);
  const fromEnv = ranOnFromEnv(io.env);
  const host = fromEnv.host ?? hostname();
  const worker = values.worker ?? host;
  const allowPluginCode = values['allow-plugin-code'] === true || ENV.allowPluginCode.read(io.env);
  if (values.serve) return serve(send!, { io, local, shared, registry, worker, allowPluginCode, backend });

  // Without a coordinator, stdout is the result line alone; with one, the coordinator relays stdout as log lines.
  const restoreConsole = send ? () => {} : consoleToStderr();
  // Under a coordinator, a Ctrl-C in the terminal reaches this process too: the coordinator decides
  // what it means (it sends SIGTERM), from the start, not only once the stage runs.
  const ignore = () => undefined;
  if (send) process.on('SIGINT', ignore);
  const abort = new AbortController();
  const stop = (why: string) => () => abort.abort(new Error(why));
  const handlers = [['SIGTERM', stop('terminated')], ...(send ? [] : [['SIGINT', stop('interrupted')] as const]), ['SIGHUP', stop('hung up')]] as const;
  for (const [sig, h] of handlers) process.on(sig, h);
  const orphaned = stop('the coordinator went away');
  process.on('disconnect', orphaned);
  try {
    const { spec, raw } = values.key === undefined ? await readSpec(values.spec!, io) : await remoteSpec(values.key, shared!);
    const store = shared ? await tieredOver(local, shared, { readOnly: false, signal: abort.signal }) : local;
    const ranOn: RanOn = { ...fromEnv, host, worker };
    const result = await runJobSpec(spec, {
      store,
      registry,
      signal: abort.signal,
      ranOn,
      backend,
      pluginCode: { allow: allowPluginCode, signer: specSigner(raw, shared?.trust.trusted) },
      onProgress: (update) => {
        if (send) void send({ type: 'progress', update });
        else if (update.message !== undefined) io.stderr(`progress ${spec.stage.id}: ${update.message}\n`);
      },
      onLog: (message) => {
        if (send) void send({ type: 'log', message });
        else io.stderr(`log ${spec.stage.id}: ${message}\n`);
      },
    });
    await report(result, send, io);
    if (result.ok) {
      if (!send && result.already) io.stderr(`rethink exec: stage ${spec.stage.id}: its result is already on ${shared!.remote.url}; nothing ran\n`);
      return EXEC_EXIT.ok;
    }
    if (!send) io.stderr(`rethink exec: stage ${spec.stage.id} failed: ${describeError(errorOf(result.error))}\n`);
    return result.error.userError ? EXEC_EXIT.userError : EXEC_EXIT.failed;
  } catch (e) {
    if (!(e instanceof JobRefused)) throw e;
    // Under a coordinator, a refused job is its result; the coordinator tells the user.
    await report({ ok: false, error: refusalError(e) }, send, io);
    if (!send) io.stderr(`${formatDiagnostics([e.diagnostic], () => undefined)}\nrethink exec: the job was refused; nothing ran\n`);
    return EXEC_EXIT.refused;
  } finally {
    for (const [sig, h] of handlers) process.removeListener(sig, h);
    process.removeListener('disconnect', orphaned);
    process.removeListener('SIGINT', ignore);
    restoreConsole();
    // The IPC channel would keep this process alive once the stage is done.
    if (process.connected) process.disconnect();
  }
};

/** The result: over IPC to the coordinator, or as one JSON line on stdout. */
async function report(result: JobResult, send: Send | undefined, io: CliIO): Promise<void> {
  if (send) await send({ type: 'result', ...result });
  else io.stdout(`${JSON.stringify(result)}\n`);
}

// Not workspace.ts's openLocalStore: that module loads the YAML parser and the planner, which a
// stage process needs neither of (≈150 ms of every stage's start). And no ./cache default: whoever
// starts a job knows which cache it belongs to.

function cacheOf(io: CliIO, flag: string | undefined): LocalStore {
  const dir = flag ?? ENV.cacheDir.read(io.env);
  if (dir === undefined || dir.trim() === '') throw UserError.of('E_BAD_FLAG', `rethink exec needs the cache to run in: --cache-dir DIR (or ${ENV.cacheDir.name}), not empty`);
  return new LocalStore(isAbsolute(dir) ? dir : resolve(io.cwd, dir));
}

function emptyAsUnset(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** A spec, and the JSON it was read from (all of it: a signature covers every field). */
interface ReadSpec {
  readonly spec: JobSpec;
  readonly raw: unknown;
}

function specOf(text: string, source: string): ReadSpec {
  const spec = parseSpec(text, source);
  return { spec, raw: JSON.parse(text) as unknown };
}

async function readSpec(source: string, io: CliIO): Promise<ReadSpec> {
  let raw: string;
  try {
    raw = source === '-' ? await text(process.stdin) : await readFile(resolve(io.cwd, source), 'utf8');
  } catch (e) {
    throw JobRefused.of('E_BAD_SPEC', `cannot read the job spec ${source}: ${(e as Error).message}`);
  }
  return specOf(raw, source === '-' ? '(stdin)' : source);
}

/** The spec the coordinator put on the remote for this key; it must be that key's. */
async function remoteSpec(key: string, shared: SharedRemote): Promise<ReadSpec> {
  const path = jobSpecPathOf(key);
  const where = `${shared.remote.url}/${path}`;
  let raw: string | undefined;
  try {
    raw = await shared.remote.getText(path);
  } catch (e) {
    throw unreachable(shared.remote.url, errorText(e));
  }
  if (raw === undefined) throw JobRefused.of('E_NO_SPEC', `there is no job spec at ${where}`, 'check the key and --remote: the coordinator (rethink run --executor slurm|queue) puts the spec there before it starts the job');
  const read = specOf(raw, where);
  if (read.spec.key !== key) throw JobRefused.of('E_SPEC_MISMATCH', `job spec ${where} is for key ${read.spec.key}, not ${key}`, 'field key; a spec under jobs/KEY/ must be that key\'s');
  return read;
}

/** What an engine tells the job about itself through the environment (Slurm's own variables: the node, the job, its restarts). */
function ranOnFromEnv(env: CliIO['env']): Partial<RanOn> {
  const slurm = env.SLURM_JOB_ID;
  if (slurm === undefined || slurm === '') return {};
  const restarts = Number(env.SLURM_RESTART_COUNT ?? '0');
  return { engine: 'slurm', jobId: slurm, ...(Number.isInteger(restarts) ? { attempt: restarts + 1 } : {}), ...(env.SLURMD_NODENAME ? { host: env.SLURMD_NODENAME } : {}) };
}

interface ServeContext {
  readonly io: CliIO;
  readonly local: LocalStore;
  readonly shared: SharedRemote | undefined;
  readonly registry: PluginRegistry;
  readonly worker: string;
  readonly allowPluginCode: boolean;
  /** This worker's backend (`--backend`, else RETHINK_BACKEND), for jobs whose spec asks for none. */
  readonly backend: string | undefined;
}

/** `--serve`: jobs over IPC, one at a time, until the parent goes away. */
async function serve(send: Send, ctx: ServeContext): Promise<number> {
  // Whatever a plugin prints must not be taken for the parent's protocol: the parent reads logs from stderr.
  const restoreConsole = consoleToStderr();
  // A Ctrl-C in the terminal reaches the whole process group: the worker decides what it means.
  const ignore = () => undefined;
  process.on('SIGINT', ignore);
  let current: AbortController | undefined;
  try {
    await warmUp(ctx);
    await send({ type: 'ready' });
    await new Promise<void>((done) => {
      process.on('disconnect', () => {
        current?.abort(new Error('the worker went away'));
        done();
      });
      process.on('message', (m: unknown) => {
        if (!isServeRequest(m)) return;
        if (m.type === 'cancel') {
          current?.abort(new Error('cancelled by the worker'));
          return;
        }
        if (current) {
          void send({ type: 'result', ok: false, error: { name: 'Error', message: 'this process is already running a job: one at a time' } });
          return;
        }
        const abort = new AbortController();
        current = abort;
        void runOne(m.spec, m.ranOn, abort.signal, send, ctx).finally(() => {
          if (current === abort) current = undefined;
        });
      });
    });
    return EXEC_EXIT.ok;
  } finally {
    process.removeListener('SIGINT', ignore);
    restoreConsole();
  }
}

/** One job in the warm child; every outcome, a refusal included, is a `result` message. */
async function runOne(raw: unknown, ranOn: RanOn, signal: AbortSignal, send: Send, ctx: ServeContext): Promise<void> {
  let result: JobResult;
  try {
    // The parent's copy is checked as a file's would be: it came from a queue anyone with access can write.
    const spec = parseSpec(JSON.stringify(raw), `(job ${String((raw as { key?: unknown }).key ?? '?')})`);
    const store = ctx.shared ? await tieredOver(ctx.local, ctx.shared, { readOnly: false, signal }) : ctx.local;
    result = await runJobSpec(spec, {
      store,
      registry: ctx.registry,
      signal,
      ranOn: { ...ranOn, worker: ranOn.worker ?? ctx.worker },
      backend: ctx.backend,
      pluginCode: { allow: ctx.allowPluginCode, signer: specSigner(raw, ctx.shared?.trust.trusted) },
      onProgress: (update) => void send({ type: 'progress', update }),
      onLog: (message) => void send({ type: 'log', message }),
    });
  } catch (e) {
    result = { ok: false, error: e instanceof JobRefused ? refusalError(e) : jobError(e, false) };
  }
  await send({ type: 'result', ...result });
}

/** Loads once what every stage would load: the built-in plugins' modules and the tfjs backend. */
async function warmUp(ctx: ServeContext): Promise<void> {
  await Promise.all(ctx.registry.names().map((name) => ctx.registry.resolve(name, ctx.io.cwd)));
  try {
    const { initBackend } = await import('../../backends/select.js');
    await initBackend(ctx.backend);
  } catch (e) {
    // The stage that needs it says so, with its own request.
    ctx.io.stderr(`rethink exec --serve: the tfjs backend did not start: ${errorText(e)}\n`);
  }
}
