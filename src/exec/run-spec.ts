// Runs one job spec on this machine: what `rethink exec` and a worker's warm child both call. The
// spec is checked against what this machine has (plugin, version, code hash, params, inputs) and
// refused (JobRefused, exit 3) when they differ. Against a shared remote (a TieredStore) the job is
// the whole stage: a result already on the remote is taken as it is (engines may start a job twice),
// each attempt leaves a note of where it ran, the outputs go up and then the run record, the commit
// marker; only then are the job's progress file and checkpoints deleted. Against a local cache alone
// (the subprocess executor) the outputs are published and the record is left to the coordinator.
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Diagnostic } from '../util/user-error.js';
import { resolveParams } from '../config/params.js';
import { canonicalJson } from '../util/canonical-json.js';
import type { PluginRegistry } from '../plan/registry.js';
import type { JsonValue, Plugin, ProgressUpdate } from '../plugin/types.js';
import type { LocalStore } from '../store/local.js';
import { jobAttemptPathOf, jobFolderOf, jobProgressPathOf, RemoteError, type Remote } from '../store/remote.js';
import type { TieredStore } from '../store/tiered.js';
import { outputObjects, recordObjects, type RunRecord, type Store } from '../store/types.js';
import { errorText } from '../util/error-text.js';
import type { InputArtifact } from './context.js';
import { environment } from './environment.js';
import { isUserError } from './errors.js';
import { jobError, type JobError, type JobResult, type RanOn } from './job-messages.js';
import { inconsistency, jobOf, JobSpecError, parseJobSpec, type JobSpec } from './job-spec.js';
import { RemoteProgress } from './job-progress.js';
import { fetchPluginCode, PluginCodeError } from './plugin-code.js';
import { InProcessRunner, type StageJob } from './runner.js';
import { ENV } from '../util/env.js';

export interface RunSpecOptions {
  /** The local cache, or the local cache with the shared remote behind it. */
  readonly store: LocalStore | TieredStore;
  readonly registry: PluginRegistry;
  /** Aborts the stage: it settles promptly with the signal's reason and publishes nothing. */
  readonly signal: AbortSignal;
  readonly onProgress: (update: ProgressUpdate) => void;
  readonly onLog: (message: string) => void;
  /** This process's backend (`rethink exec --backend`, else its RETHINK_BACKEND), for a spec that asks for none. */
  readonly backend?: string | undefined;
  /** Where this attempt runs (default: this host), for the run record's provenance. */
  readonly ranOn?: RanOn;
  /**
   * Against a shared remote, a plugin loaded from a path (`plugin.code` set) runs only when this
   * machine allows plugin code (`--allow-plugin-code`) or a key it trusts signed the spec
   * (spec-signing.ts's specSigner); its code then comes from the remote by hash (plugin-code.ts).
   * Without a remote (a child process of the coordinator) it is imported from `plugin.baseDir`.
   */
  readonly pluginCode?: { readonly allow: boolean; readonly signer?: { readonly by: string } | { readonly why: string } };
}

/** The job was refused before its stage ran: nothing ran and nothing was published (exit 3). */
export class JobRefused extends Error {
  override readonly name = 'JobRefused';

  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }

  static of(code: string, message: string, hint?: string): JobRefused {
    return new JobRefused({ code, message, ...(hint === undefined ? {} : { hint }) });
  }
}

/**
 * A refusal as the process that started the job gets it (over IPC, or the result line): what was
 * refused and what to do about it, since that process shows the message alone, without a hint.
 */
export function refusalError(e: JobRefused): JobError {
  const { message, hint } = e.diagnostic;
  return { ...jobError(e, true, true), message: hint === undefined ? message : `${message}; ${hint}` };
}

/** Parses and checks a spec's text (`source` names it in messages: a file, `(stdin)`, a remote path). */
export function parseSpec(raw: string, source: string): JobSpec {
  try {
    const spec = parseJobSpec(raw);
    const bad = inconsistency(spec);
    if (bad) throw bad;
    return spec;
  } catch (e) {
    if (!(e instanceof JobSpecError)) throw e;
    throw JobRefused.of('E_BAD_SPEC', `job spec ${source}: ${e.message}`, `field ${e.field}; a spec is written by \`rethink run --executor …\``);
  }
}

/** What a remote that cannot be reached is refused with: which URL, and what to check. */
export function unreachable(url: string, why: string): JobRefused {
  return JobRefused.of(
    'E_REMOTE_UNREACHABLE',
    `the remote ${url} cannot be reached: ${why}`,
    'check --remote (or RETHINK_REMOTE), the network, and the credentials (AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, or the directory\'s mount and permissions)',
  );
}

/**
 * Runs the spec. Resolves with the stage's result (a failed stage is `ok: false`, never a
 * rejection); rejects with JobRefused when the spec does not fit this machine or the remote cannot
 * be reached at the start.
 */
export async function runJobSpec(spec: JobSpec, options: RunSpecOptions): Promise<JobResult> {
  const { store } = options;
  const tiered = 'remote' in store ? store : undefined;
  // The remote first: one that cannot be reached is said so, not taken for a missing input or code.
  if (tiered) {
    const done = await resultOnRemote(spec, tiered);
    if (done) return done;
  }
  const plugin = await checkedPlugin(spec, options);
  await checkInputs(spec, store);
  const asked = jobOf(spec, plugin);
  const backend = asked.backend ?? options.backend;
  const job: StageJob = backend === undefined ? asked : { ...asked, backend };
  if (!tiered) return runStage(job, store, options, undefined);
  const ranOn: RanOn = options.ranOn ?? { host: hostname() };
  const startedAt = new Date();
  try {
    await tiered.remote.putText(jobAttemptPathOf(spec.key, attemptName(startedAt, ranOn)), `${JSON.stringify({ ...ranOn, startedAt: startedAt.toISOString(), pid: process.pid })}\n`);
  } catch (e) {
    throw unreachable(tiered.remote.url, errorText(e));
  }
  const progress = new RemoteProgress(tiered.remote, spec.key, ranOnJson(ranOn), options.onLog);
  const t = performance.now();
  const result = await runStage(job, tiered, { ...options, onProgress: (update) => (progress.update(update), options.onProgress(update)) }, progress);
  if (!result.ok) return result;
  if (options.signal.aborted) return { ok: false, error: jobError(options.signal.reason, false) };
  const record: RunRecord = {
    format: 1,
    key: spec.key,
    keyRecord: spec.keyRecord,
    stage: { id: spec.stage.id, name: spec.stage.name, pipeline: spec.pipeline },
    outputs: result.outputs,
    startedAt: startedAt.toISOString(),
    seconds: (performance.now() - t) / 1000,
    provenance: { ...environment(), ...result.provenance, ranOn: ranOnJson(ranOn), attempts: await attemptsOf(tiered.remote, spec.key) },
  };
  // Objects first, then the record: TieredStore uploads in that order, and flush waits for both.
  await tiered.writeRun(record);
  const report = await tiered.flush();
  if (report.error !== undefined) return { ok: false, error: { name: 'Error', message: `outputs could not be uploaded to ${tiered.remote.url}: ${report.error}` } };
  await tidyJob(tiered.remote, spec.key, options.onLog);
  return { ok: true, outputs: record.outputs, provenance: record.provenance, record };
}

/** The plugin this machine has for the spec, once its name, version, code and params agree with it. */
async function checkedPlugin(spec: JobSpec, options: RunSpecOptions): Promise<Plugin<never>> {
  const mismatch = (field: string, message: string) =>
    JobRefused.of('E_SPEC_MISMATCH', `stage ${spec.stage.id}: ${field}: ${message}`, `field ${field}; the spec was made for other code than this machine has`);
  const where = spec.plugin.code !== undefined && 'remote' in options.store ? await remotePluginCode(spec, spec.plugin.code, options.store, options) : spec.plugin;
  const resolved = await options.registry.resolve(where.uses, where.baseDir);
  if (!resolved.ok) throw JobRefused.of('E_UNKNOWN_PLUGIN', `stage ${spec.stage.id}: ${resolved.message}`, resolved.hint);
  const { plugin, code } = resolved;
  if (plugin.name !== spec.plugin.name) throw mismatch('plugin.name', `"${spec.plugin.uses}" is plugin "${plugin.name}" here, not "${spec.plugin.name}"`);
  if (plugin.version !== spec.plugin.version) throw mismatch('plugin.version', `plugin "${plugin.name}" is version ${plugin.version} here, not ${spec.plugin.version}`);
  if (code?.hash !== spec.plugin.code) throw mismatch('plugin.code', `plugin "${plugin.name}" has code hash ${code?.hash ?? '(none: built in)'} here, not ${spec.plugin.code ?? '(none: built in)'}`);
  // ajv fills defaults in place: it gets a copy. The spec's params already carry every default.
  const params = resolveParams(plugin, structuredClone(spec.params));
  if (!params.ok || canonicalJson(params.params) !== canonicalJson(spec.params)) throw mismatch('params', `not what plugin "${plugin.name}"'s schema makes of them`);
  // A plugin whose stages declare their ports (`command`) runs as the planner made it for the stage.
  const inputs = Object.fromEntries(Object.entries(spec.inputs).map(([name, value]) => [name, { many: Array.isArray(value) }]));
  return plugin.forStage?.({ params: spec.params as never, inputs, baseDir: spec.plugin.baseDir }) ?? plugin;
}

/** Where this machine imports a path plugin from: its code from the remote by hash, if it runs plugin code at all. */
async function remotePluginCode(spec: JobSpec, hash: string, store: TieredStore, options: RunSpecOptions): Promise<{ readonly uses: string; readonly baseDir: string }> {
  const signer = options.pluginCode?.signer;
  if (options.pluginCode?.allow !== true && !(signer !== undefined && 'by' in signer)) {
    throw JobRefused.of(
      'E_PLUGIN_CODE_REFUSED',
      `stage ${spec.stage.id}: plugin "${spec.plugin.uses}" is loaded from a path, and this machine runs only built-in plugins${signer !== undefined && 'why' in signer ? ` (the spec is not signed by a trusted key: ${signer.why})` : ''}`,
      `to run plugin code from the remote (by its hash), start this worker with --allow-plugin-code (or ${ENV.allowPluginCode.name}=1), or have the coordinator sign its job specs (RETHINK_REMOTE_SIGNING_KEY) with a key this machine trusts (RETHINK_REMOTE_TRUSTED_KEYS)`,
    );
  }
  try {
    return await fetchPluginCode(store.remote, store.local.location, hash);
  } catch (e) {
    if (e instanceof PluginCodeError) throw JobRefused.of('E_PLUGIN_CODE', `stage ${spec.stage.id}: ${e.message}`, e.hint);
    throw e;
  }
}

/**
 * The key's result when the remote already holds it (another attempt of the job finished it), or
 * one in this machine's cache that the remote lacks (a flush that failed here), uploaded now.
 */
async function resultOnRemote(spec: JobSpec, store: TieredStore): Promise<JobResult | undefined> {
  const record = await store.readRun(spec.key);
  if (store.error !== undefined) throw unreachable(store.remote.url, store.error);
  if (!record) return undefined;
  const present = await Promise.all(recordObjects(record).map((o) => store.hasObject(o.hash, o.size)));
  if (!present.every(Boolean)) return undefined;
  if (store.originOf(spec.key) === 'local') {
    await store.upload(record);
    const report = await store.flush();
    if (report.error !== undefined) return { ok: false, error: { name: 'Error', message: `outputs could not be uploaded to ${store.remote.url}: ${report.error}` } };
  }
  return { ok: true, outputs: record.outputs, provenance: record.provenance, record, already: true };
}

/** Every input is in the store (with a remote: there or on the remote, downloaded when read). */
async function checkInputs(spec: JobSpec, store: Store): Promise<void> {
  const inputs = Object.entries(spec.inputs).flatMap(([name, v]) => (Array.isArray(v) ? v : [v as InputArtifact]).map((a) => [name, a] as const));
  for (const [name, a] of inputs) {
    if ((await Promise.all(outputObjects(a).map((o) => store.hasObject(o.hash, o.size)))).every(Boolean)) continue;
    const remote = 'remote' in store ? (store as TieredStore) : undefined;
    if (remote?.error !== undefined) throw unreachable(remote.remote.url, remote.error);
    throw JobRefused.of(
      'E_MISSING_INPUT',
      `stage ${spec.stage.id}: input ${name} (${a.from.id}.${a.from.output}, ${a.hash.slice(0, 12)}…) is not in ${store.location}`,
      remote ? 'its upstream stage must have uploaded it first: check that the coordinator and this machine share the remote' : 'run its upstream stage first, in this cache',
    );
  }
}

/** Runs the stage in this process; its failure is the result, not a rejection. */
async function runStage(job: StageJob, store: Store, options: RunSpecOptions, progress: RemoteProgress | undefined): Promise<JobResult> {
  const stop = new AbortController();
  const stopOnAbort = () => stop.abort(options.signal.reason);
  options.signal.addEventListener('abort', stopOnAbort, { once: true });
  if (options.signal.aborted) stopOnAbort();
  // A worker enforces the spec's timeout too: a coordinator that is gone cannot.
  const timeoutMs = job.instance.timeoutMs;
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => stop.abort(new Error(`timed out after ${timeoutMs / 1000} s`)), timeoutMs);
  try {
    const result = await new InProcessRunner(store).run(job, { signal: stop.signal, onProgress: options.onProgress, onLog: options.onLog });
    return { ok: true, outputs: result.outputs, provenance: result.provenance };
  } catch (e) {
    return { ok: false, error: { ...jobError(e, isUserError(e)), ...(stop.signal.aborted ? { stopped: true as const } : {}) } };
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener('abort', stopOnAbort);
    await progress?.close();
  }
}

/** An attempt's file name: when, where, which process; sortable by time. */
function attemptName(startedAt: Date, ranOn: RanOn): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');
  return `${startedAt.toISOString().replace(/:/g, '')}-${safe(ranOn.worker ?? ranOn.host)}-${process.pid}`;
}

function ranOnJson(ranOn: RanOn): { [k: string]: JsonValue } {
  return Object.fromEntries(Object.entries(ranOn).filter(([, v]) => v !== undefined)) as { [k: string]: JsonValue };
}

/** Every attempt of the job so far (this one included), oldest first, as its attempt files say. */
async function attemptsOf(remote: Remote, key: string): Promise<JsonValue[]> {
  const attempts: { [k: string]: JsonValue }[] = [];
  try {
    for await (const entry of remote.list(`${jobFolderOf(key)}/attempts`)) {
      const text = await remote.getText(entry.path);
      if (text === undefined) continue;
      try {
        const a = JSON.parse(text) as Record<string, unknown>;
        const pick = Object.fromEntries(['host', 'worker', 'engine', 'jobId', 'attempt', 'startedAt'].flatMap((f) => (typeof a[f] === 'string' || typeof a[f] === 'number' ? [[f, a[f] as JsonValue]] : [])));
        attempts.push(pick);
      } catch {
        // Not ours: an attempt file is always JSON.
      }
    }
  } catch (e) {
    if (!(e instanceof RemoteError)) throw e;
    return []; // the record still goes up; its upload reports the remote's failure
  }
  return attempts.sort((a, b) => String(a.startedAt).localeCompare(String(b.startedAt)));
}

/**
 * Once the record is up, the progress file is done with (the remote checkpoints went with the
 * record's upload: TieredStore.dropCheckpoints). The spec and the attempt notes stay (small;
 * `gc --remote` sweeps a finished job's folder).
 */
async function tidyJob(remote: Remote, key: string, log: (message: string) => void): Promise<void> {
  try {
    await remote.remove([jobProgressPathOf(key)]);
  } catch (e) {
    log(`the result is stored, but its progress file on ${remote.url} was not deleted (gc --remote will): ${errorText(e)}`);
  }
}
