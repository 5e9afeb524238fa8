// `rethink exec --spec FILE|- [--cache-dir DIR] [--backend NAME]`: runs one resolved stage (a job
// spec) against the local cache, for executors and workers. Refuses a spec whose key, key record or
// plugin code does not match what this machine has (exit 2). Exit 0 ok, 1 the stage failed, 2 user
// error (never retried). Started by child_process.fork it reports over IPC (job-messages.ts);
// otherwise it prints its result as one JSON line on stdout. The run record is the coordinator's.
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { text } from 'node:stream/consumers';
import { consoleToStderr, type CliIO, type Command } from '../io.js';
import { applyBackendFlag, backendFlag, parseFlags } from '../args.js';
import { LocalStore } from '../../store/local.js';
import { UserError } from '../../config/diagnostic.js';
import { resolveParams } from '../../config/params.js';
import { canonicalJson } from '../../plan/key.js';
import { createRegistry } from '../../plan/registry.js';
import { inconsistency, jobOf, JobSpecError, parseJobSpec, type JobSpec } from '../../exec/job-spec.js';
import { errorOf, jobError, type JobMessage, type JobResult } from '../../exec/job-messages.js';
import { InProcessRunner, type StageJob } from '../../exec/runner.js';
import { describeError, isUserError } from '../../exec/errors.js';
import type { InputArtifact } from '../../exec/context.js';
import type { Store } from '../../store/types.js';
import { builtinPlugins } from '../../../stages/index.js';

export const exec: Command = async (argv, io) => {
  const { values, positionals } = parseFlags('exec', argv, {
    spec: { type: 'string', value: 'FILE', help: 'the job spec to run: a file, or - for stdin' },
    'cache-dir': { type: 'string', value: 'DIR', help: `the local cache the stage reads its inputs from and publishes into (or ${CACHE_ENV})` },
    backend: backendFlag,
  });
  const send = process.send === undefined ? undefined : (m: JobMessage) => new Promise<void>((done) => process.send!(m, undefined, {}, () => done()));
  // Without a coordinator, stdout is the result line alone; with one, the coordinator relays stdout as log lines.
  const restoreConsole = send ? () => {} : consoleToStderr();
  // Under a coordinator, a Ctrl-C in the terminal reaches this process too: the coordinator decides
  // what it means (it sends SIGTERM), from the start, not only once the stage runs.
  const ignore = () => undefined;
  if (send) process.on('SIGINT', ignore);
  try {
    if (positionals.length > 0) throw UserError.of('E_BAD_FLAG', `rethink exec takes no positional arguments, got: ${positionals.join(' ')}`, 'rethink exec --spec FILE|-');
    if (values.spec === undefined) throw UserError.of('E_BAD_FLAG', 'rethink exec needs --spec FILE (or --spec - to read it from stdin)');
    await applyBackendFlag(values.backend);
    const spec = await readSpec(values.spec, io);
    // Issue 15's `--remote` seam: a TieredStore here fetches inputs and uploads outputs, then the run record.
    const store = cacheOf(io, values['cache-dir']);
    const job = await checkedJob(spec, store);
    const result = await runJob(job, store, send, io);
    if (send) await send({ type: 'result', ...result });
    else io.stdout(`${JSON.stringify(result)}\n`);
    if (result.ok) return 0;
    if (!send) io.stderr(`rethink exec: stage ${spec.stage.id} failed: ${describeError(errorOf(result.error))}\n`);
    return result.error.userError ? 2 : 1;
  } catch (e) {
    // Under a coordinator, a refused spec is its result; the coordinator tells the user.
    if (!(e instanceof UserError) || !send) throw e;
    await send({ type: 'result', ok: false, error: jobError(e, true) });
    return e.exitCode;
  } finally {
    process.removeListener('SIGINT', ignore);
    restoreConsole();
    // The IPC channel would keep this process alive once the stage is done.
    if (process.connected) process.disconnect();
  }
};

// Not workspace.ts's openLocalStore: that module loads the YAML parser and the planner, which a
// stage process needs neither of (≈150 ms of every stage's start). And no ./cache default: whoever
// starts a job knows which cache it belongs to.
const CACHE_ENV = 'RETHINK_CACHE_DIR';

function cacheOf(io: CliIO, flag: string | undefined): LocalStore {
  const dir = flag ?? io.env[CACHE_ENV];
  if (dir === undefined || dir.trim() === '') throw UserError.of('E_BAD_FLAG', `rethink exec needs the cache to run in: --cache-dir DIR (or ${CACHE_ENV}), not empty`);
  return new LocalStore(isAbsolute(dir) ? dir : resolve(io.cwd, dir));
}

async function readSpec(source: string, io: CliIO): Promise<JobSpec> {
  let raw: string;
  try {
    raw = source === '-' ? await text(process.stdin) : await readFile(resolve(io.cwd, source), 'utf8');
  } catch (e) {
    throw UserError.of('E_BAD_SPEC', `cannot read the job spec ${source}: ${(e as Error).message}`);
  }
  try {
    const spec = parseJobSpec(raw);
    const bad = inconsistency(spec);
    if (bad) throw bad;
    return spec;
  } catch (e) {
    if (!(e instanceof JobSpecError)) throw e;
    throw UserError.of('E_BAD_SPEC', `job spec ${source === '-' ? '(stdin)' : source}: ${e.message}`, `field ${e.field}; a spec is written by \`rethink run --executor subprocess\``);
  }
}

/** The spec as a job, once this machine's plugin, params and the inputs in the store agree with it. */
async function checkedJob(spec: JobSpec, store: Store): Promise<StageJob> {
  const mismatch = (field: string, message: string) => UserError.of('E_SPEC_MISMATCH', `stage ${spec.stage.id}: ${field}: ${message}`, `field ${field}; the spec was made for other code than this machine has`);
  const resolved = await createRegistry(builtinPlugins).resolve(spec.plugin.uses, spec.plugin.baseDir);
  if (!resolved.ok) throw UserError.of('E_UNKNOWN_PLUGIN', `stage ${spec.stage.id}: ${resolved.message}`, resolved.hint);
  const { plugin, code } = resolved;
  if (plugin.name !== spec.plugin.name) throw mismatch('plugin.name', `"${spec.plugin.uses}" is plugin "${plugin.name}" here, not "${spec.plugin.name}"`);
  if (plugin.version !== spec.plugin.version) throw mismatch('plugin.version', `plugin "${plugin.name}" is version ${plugin.version} here, not ${spec.plugin.version}`);
  if (code?.hash !== spec.plugin.code) throw mismatch('plugin.code', `plugin "${plugin.name}" has code hash ${code?.hash ?? '(none: built in)'} here, not ${spec.plugin.code ?? '(none: built in)'}`);
  // ajv fills defaults in place: it gets a copy. The spec's params already carry every default.
  const params = resolveParams(plugin, structuredClone(spec.params));
  if (!params.ok || canonicalJson(params.params) !== canonicalJson(spec.params)) throw mismatch('params', `not what plugin "${plugin.name}"'s schema makes of them`);
  const inputs = Object.entries(spec.inputs).flatMap(([name, v]) => (Array.isArray(v) ? v : [v as InputArtifact]).map((a) => [name, a] as const));
  for (const [name, a] of inputs) {
    if (!(await store.hasObject(a.hash, a.size))) throw UserError.of('E_MISSING_INPUT', `stage ${spec.stage.id}: input ${name} (${a.from.id}.${a.from.output}, ${a.hash.slice(0, 12)}…) is not in ${store.location}`, 'run its upstream stage first, in this cache');
  }
  return jobOf(spec, plugin);
}

/** Runs the stage; aborted by SIGTERM, SIGINT, or the coordinator going away. */
async function runJob(job: StageJob, store: Store, send: ((m: JobMessage) => Promise<void>) | undefined, io: CliIO): Promise<JobResult> {
  const abort = new AbortController();
  const stop = (why: string) => () => abort.abort(new Error(why));
  const handlers = [['SIGTERM', stop('terminated')], ...(send ? [] : [['SIGINT', stop('interrupted')] as const]), ['SIGHUP', stop('hung up')]] as const;
  for (const [sig, h] of handlers) process.on(sig, h);
  const orphaned = stop('the coordinator went away');
  process.on('disconnect', orphaned);
  try {
    const result = await new InProcessRunner(store).run(job, {
      signal: abort.signal,
      onProgress: (update) => {
        if (send) void send({ type: 'progress', update });
        else if (update.message !== undefined) io.stderr(`progress ${job.instance.id}: ${update.message}\n`);
      },
      onLog: (message) => {
        if (send) void send({ type: 'log', message });
        else io.stderr(`log ${job.instance.id}: ${message}\n`);
      },
    });
    return { ok: true, outputs: result.outputs, provenance: result.provenance };
  } catch (e) {
    return { ok: false, error: jobError(e, isUserError(e)) };
  } finally {
    for (const [sig, h] of handlers) process.removeListener(sig, h);
    process.removeListener('disconnect', orphaned);
  }
}
