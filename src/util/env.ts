// Every environment variable rethink reads or sets, declared once: its name, what is valid, its
// default and one line on what it does. Code reads a variable through its declaration (`ENV.x.read()`,
// at call time, so tests that set process.env still work); a malformed value is a user error that
// names the variable and what would be valid (exit code 2). The README's table and `rethink help env`
// are rendered from here (env-table.ts), and a test keeps the README equal to it.
// It lives in util/ because every room reads the environment: cli, exec, store, backends, stages.
// Written here rather than with envalid or znv: those validate one snapshot of process.env up front,
// while rethink reads lazily from an injected record (the CLI's io.env, a test's), reports through
// UserError's diagnostics, and renders its own documentation; what remains is a few small parsers.
import { parseDuration, showDuration } from './duration.js';
import { DEFAULT_S3_TIMEOUTS } from './s3.js';
import { UserError } from './user-error.js';

/** Where variables are read from: process.env by default, an injected record in tests and in-process CLI runs. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

/** Who gives the variable its value: the user (read by rethink), or rethink (set for a command stage's program). */
export type EnvOrigin = 'read' | 'set-for-stage';

export interface EnvVariable<T> {
  readonly name: string;
  /** What is valid, in words: "auto, on or off". */
  readonly values: string;
  /** The default, in words ('' when unset means "none"). */
  readonly default: string;
  /** One line: what it does. */
  readonly description: string;
  readonly origin: EnvOrigin;
  /** The value of `raw` (undefined: unset); throws a UserError naming the variable when malformed. */
  parse(raw: string | undefined): T;
  /** The variable's value in `env` (default process.env), parsed. */
  read(env?: EnvSource): T;
}

interface Doc {
  readonly values: string;
  readonly default: string;
  readonly description: string;
  readonly origin?: EnvOrigin;
}

function defineVariable<T>(name: string, doc: Doc, parse: (raw: string) => T | undefined, unset: T, emptyIsUnset = true): EnvVariable<T> {
  const variable: EnvVariable<T> = {
    name,
    values: doc.values,
    default: doc.default,
    description: doc.description,
    origin: doc.origin ?? 'read',
    parse(raw) {
      if (raw === undefined || (emptyIsUnset && raw.trim() === '')) return unset;
      const value = parse(raw.trim());
      if (value === undefined) throw badValue(variable, raw);
      return value;
    },
    read(env = process.env) {
      return variable.parse(env[name]);
    },
  };
  return variable;
}

function badValue(variable: EnvVariable<unknown>, raw: string): UserError {
  const hint = variable.default === '' ? `unset ${variable.name}` : `unset ${variable.name} for the default (${variable.default})`;
  return UserError.of('E_BAD_ENV', `${variable.name}=${raw}: expected ${variable.values}`, hint);
}

/** Text taken as written (an empty value too: some callers refuse it with their own message). */
function text(name: string, doc: Doc): EnvVariable<string | undefined> {
  return defineVariable<string | undefined>(name, doc, (raw) => raw, undefined, false);
}

const TRUE = /^(1|true|yes|on)$/i;
const FALSE = /^(0|false|no|off)$/i;

/** A switch: 1/true/yes/on or 0/false/no/off. */
function flag(name: string, unset: boolean, description: string): EnvVariable<boolean> {
  const doc = { values: 'on (1, true, yes) or off (0, false, no)', default: unset ? 'on' : 'off', description };
  return defineVariable(name, doc, (raw) => (TRUE.test(raw) ? true : FALSE.test(raw) ? false : undefined), unset);
}

/** A whole number ≥ 1, or unset (the caller's default). */
function count(name: string, doc: Omit<Doc, 'values'>): EnvVariable<number | undefined> {
  return defineVariable<number | undefined>(name, { ...doc, values: 'a whole number ≥ 1' }, (raw) => {
    const n = Number(raw);
    return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
  }, undefined);
}

/** A number ≥ 0 (of seconds or milliseconds, as `values` says). */
function nonNegative(name: string, unset: number, doc: Omit<Doc, 'default'> & { readonly unit: string }): EnvVariable<number> {
  return defineVariable(name, { ...doc, default: `${unset}${doc.unit}` }, (raw) => {
    const n = Number(raw);
    return Number.isFinite(n) && n >= 0 ? n : undefined;
  }, unset);
}

/** A duration in milliseconds, at least 1ms: seconds, or "500ms", "30s", "2m", "1h". */
function duration(name: string, unsetMs: number, description: string): EnvVariable<number> {
  const doc = { values: 'seconds, or a duration such as 500ms, 30s, 2m, 1h (at least 1ms)', default: showDuration(unsetMs), description };
  return defineVariable(name, doc, (raw) => {
    const ms = parseDuration(raw);
    return ms !== undefined && ms >= 1 && Number.isSafeInteger(Math.round(ms)) ? Math.round(ms) : undefined;
  }, unsetMs);
}

/** One of a few words. */
function choice<const C extends string>(name: string, options: readonly C[], unset: C, description: string): EnvVariable<C> {
  const values = `${options.slice(0, -1).join(', ')} or ${options.at(-1) ?? ''}`;
  return defineVariable(name, { values, default: unset, description }, (raw) => options.find((o) => o === raw), unset);
}

/** Set by rethink in the environment of a command stage's program; never read by rethink itself. */
function forStage(name: string, values: string, description: string): EnvVariable<string | undefined> {
  return text(name, { values, default: '', description, origin: 'set-for-stage' });
}

/** Seconds ≥ 0, or off (null). */
function secondsOrOff(name: string, unset: number, description: string): EnvVariable<number | null> {
  return defineVariable<number | null>(name, { values: 'a number of seconds ≥ 0, or off', default: `${unset}`, description }, (raw) => {
    if (raw === 'off') return null;
    const s = Number(raw);
    return Number.isFinite(s) && s >= 0 ? s : undefined;
  }, unset);
}

/** Every variable, by the name code uses for it. */
export const ENV = {
  // Where results live.
  cacheDir: text('RETHINK_CACHE_DIR', { values: 'a directory', default: './cache', description: 'the local cache (--cache-dir)' }),
  remote: text('RETHINK_REMOTE', { values: 's3://bucket/prefix or a directory', default: '', description: 'a shared cache behind the local one (--remote)' }),
  remoteReadOnly: flag('RETHINK_REMOTE_READ_ONLY', false, 'take results from the remote, never upload (--remote-read-only)'),
  remoteSigningKey: text('RETHINK_REMOTE_SIGNING_KEY', { values: 'a PEM file with an Ed25519 private key', default: '', description: 'signs every record this machine uploads' }),
  remoteTrustedKeys: text('RETHINK_REMOTE_TRUSTED_KEYS', { values: 'PEM files with Ed25519 public keys, comma-separated', default: '', description: 'take only remote records these keys signed (and job specs they signed may run plugin code)' }),
  remoteConnectTimeout: duration('RETHINK_REMOTE_CONNECT_TIMEOUT', DEFAULT_S3_TIMEOUTS.connectMs, "an S3 remote's connect timeout, per attempt"),
  remoteIdleTimeout: duration('RETHINK_REMOTE_IDLE_TIMEOUT', DEFAULT_S3_TIMEOUTS.idleMs, 'an S3 call with nothing sent or received this long is retried (a silent server, a stalled transfer)'),
  remoteTimeout: duration('RETHINK_REMOTE_TIMEOUT', DEFAULT_S3_TIMEOUTS.callMs, 'one S3 call, retries included, until its answer begins (not an object\'s bytes)'),
  validatorCache: text('RETHINK_VALIDATOR_CACHE', { values: 'a directory', default: '~/.cache/rethink/validators ($XDG_CACHE_HOME/rethink/…)', description: 'where compiled schema validators are kept between runs' }),
  // Where and how stages run.
  backend: text('RETHINK_BACKEND', { values: 'auto, native, wasm, cpu, webgpu, tfjs-node or tfjs-node-gpu', default: 'auto', description: 'the tfjs backend of stages that leave theirs open (--backend)' }),
  executor: text('RETHINK_EXECUTOR', { values: 'local, subprocess, slurm or queue', default: 'local', description: 'where stages run (--executor)' }),
  queue: text('RETHINK_QUEUE', { values: 'redis://[:password@]host:port/db or rediss://…', default: '', description: 'the Redis of --executor queue and rethink worker (--queue)' }),
  slurmArgs: text('RETHINK_SLURM_ARGS', { values: 'sbatch options, quoted as for a shell', default: '', description: "more sbatch options for --executor slurm, after the pipeline's slurm: block (--slurm-args)" }),
  slurmGpu: text('RETHINK_SLURM_GPU', { values: 'gres, constraint or constraint=FEATURES', default: 'gres', description: 'how a Slurm job asks for GPUs: --gres=gpu:N, or --constraint' }),
  workerCache: text('RETHINK_WORKER_CACHE', { values: 'a directory on the node', default: '$TMPDIR/rethink-worker-$UID', description: "a Slurm job's local cache, read by the job's shell on its node" }),
  allowPluginCode: flag('RETHINK_ALLOW_PLUGIN_CODE', false, 'rethink exec and worker run plugins loaded from a path, their code fetched from the remote by hash (--allow-plugin-code)'),
  retryDelayMs: nonNegative('RETHINK_RETRY_DELAY_MS', 1000, { values: 'milliseconds ≥ 0', unit: '', description: "the first wait before a failed stage's next attempt (it doubles after each)" }),
  checkpointSeconds: secondsOrOff('RETHINK_CHECKPOINT_SECONDS', 120, 'least seconds between training checkpoints (0: every epoch; off: never)'),
  shardBytes: count('RETHINK_SHARD_BYTES', { default: '268435456 (256 MiB)', description: 'the largest shard of a streamed tensors output (a dataset): a bigger output is stored as a manifest of shards this size' }),
  // Backends.
  wasmThreads: count('RETHINK_WASM_THREADS', { default: 'the cores, at most 4', description: "the wasm backend's XNNPACK threads (1: the stock single-threaded build)" }),
  nativeThreads: count('RETHINK_NATIVE_THREADS', { default: 'all cores', description: "the native backend's onnxruntime intra-op threads" }),
  nativeArena: flag('RETHINK_NATIVE_ARENA', false, "keep onnxruntime's per-session memory arenas (faster, but each cached session holds its peak memory)"),
  nativeOutputCopies: flag('RETHINK_NATIVE_OUTPUT_COPIES', false, "let onnxruntime-node's binding copy every output of a run, as it does by default (rethink stops it where it can; for comparisons)"),
  nativeSpin: flag('RETHINK_NATIVE_SPIN', false, "onnxruntime's intra-op threads spin while waiting for work (faster on an idle machine, costly on a shared one)"),
  fusedBn: flag('RETHINK_FUSED_BN', true, 'our fused batch-norm kernels on webgpu, wasm and native (off: composed from tfjs ops)'),
  fusedSgd: flag('RETHINK_FUSED_SGD', true, 'the fused momentum-SGD update where the backend has one (off: composed from tfjs ops)'),
  webgpuKernels: text('RETHINK_WEBGPU_KERNELS', { values: 'kernel names, comma-separated, or all or none', default: 'all', description: "which of our WebGPU kernels replace tfjs's" }),
  webgpuRecord: flag('RETHINK_WEBGPU_RECORD', true, "record WebGPU dispatches (off: every kernel through tfjs's own dispatch path)"),
  webgpuTune: choice('RETHINK_WEBGPU_TUNE', ['auto', 'on', 'off'], 'auto', 'time the GEMM tiles after the first step (auto: on hardware adapters only)'),
  webgpuTuneBudgetS: nonNegative('RETHINK_WEBGPU_TUNE_BUDGET_S', 20, { values: 'a number of seconds ≥ 0', unit: '', description: 'seconds a GEMM tiling may take' }),
  webgpuTuneTiles: text('RETHINK_WEBGPU_TUNE_TILES', { values: 'tile keys such as 64x64x16_4x4, comma-separated', default: 'all', description: 'the candidate GEMM tiles' }),
  webgpuTuneCache: text('RETHINK_WEBGPU_TUNE_CACHE', { values: 'a file, or off', default: '~/.cache/rethink/webgpu-tiles-ADAPTER.json ($XDG_CACHE_HOME/rethink/…)', description: 'where tuned tiles are kept for later runs on the same GPU' }),
  // Set by rethink for a command stage's program.
  stageSeed: forStage('RETHINK_SEED', 'a whole number', "the instance's seed"),
  stageId: forStage('RETHINK_STAGE_ID', 'a stage id', "the instance's id, e.g. torch[model=mlp_1x512]"),
  stageCores: forStage('RETHINK_CORES', 'a whole number ≥ 1', 'the cores it was given'),
  // Standard variables rethink honours.
  noColor: text('NO_COLOR', { values: 'any non-empty value', default: '', description: 'no colours in the output (no-color.org; as --no-color)' }),
  forceColor: text('FORCE_COLOR', { values: 'any value but 0 or false', default: '', description: 'colours even when stderr is not a terminal (NO_COLOR and --no-color win)' }),
  xdgCacheHome: text('XDG_CACHE_HOME', { values: 'an absolute directory', default: '~/.cache', description: "machine-level caches go in its rethink/ folder (compiled validators, memos of parsed pipelines and plugin imports, WebGPU tiles), never in the package" }),
  awsEndpointUrlS3: text('AWS_ENDPOINT_URL_S3', { values: 'a URL', default: '', description: 'the S3 endpoint of an s3:// remote that is not AWS (MinIO, R2, …); AWS_ENDPOINT_URL also works' }),
} as const;

/** Every declared variable, in declaration order. */
export const ENVIRONMENT: readonly EnvVariable<unknown>[] = Object.values(ENV);

/**
 * Parses every declared variable `env` sets, so that a malformed one stops a command before it does
 * anything, with every bad variable named at once.
 */
export function checkEnvironment(env: EnvSource = process.env): void {
  const bad: UserError[] = [];
  for (const variable of ENVIRONMENT) {
    try {
      variable.read(env);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      bad.push(e);
    }
  }
  if (bad.length > 0) throw new UserError(bad.flatMap((e) => e.diagnostics));
}
