// The stage plugin API: a plain descriptor plus the context its `run` receives.
// Keep plugin modules light: import heavy libraries (tfjs, sharp, the S3 SDK) inside `run`,
// so that planning, `status` and no-op reruns never pay for them.
import type { StageId, ObjectHash } from '../util/brand.js';
import type { TensorData, TensorFile, TensorSpec, TensorStreamWriter } from '../tensors/types.js';
import type { GpuNeed } from '../plan/resources.js';

export type Scalar = string | number | boolean | null;
export type JsonValue = Scalar | readonly JsonValue[] | { readonly [k: string]: JsonValue };

/** A JSON Schema (draft 2020-12 / ajv) object; plugin params schemas must be `type: object`. */
export type JsonSchema = { readonly [k: string]: unknown };

export type ArtifactKind = 'tensors' | 'json' | 'file';

export interface OutputSpec {
  readonly kind: ArtifactKind;
  readonly description?: string;
  /** For `file` outputs: the extension the file gets when materialized (e.g. `.png`). */
  readonly extension?: string;
  /** Optional outputs may be left unwritten; required ones must be written by `run`. */
  readonly optional?: boolean;
}

export interface InputSpec {
  readonly kind?: ArtifactKind;
  readonly description?: string;
  /** Fan-in: the input receives every matching upstream instance, as an array. */
  readonly many?: boolean;
  readonly optional?: boolean;
}

/** Which upstream stage instance an artifact came from. */
export interface ArtifactOrigin {
  readonly id: StageId;
  readonly stage: string;
  readonly matrix: Readonly<Record<string, Scalar>>;
  readonly output: string;
}

/** An input artifact, always available as a local, verified, read-only file. */
export interface Artifact {
  readonly kind: ArtifactKind;
  readonly hash: ObjectHash;
  readonly size: number;
  /** A sharded tensors artifact's shards (its `path` is then their manifest): `readTensors` reads across them. */
  readonly parts?: readonly { readonly hash: ObjectHash; readonly size: number }[];
  readonly path: string;
  readonly from: ArtifactOrigin;
  readJson<T = unknown>(): Promise<T>;
  readTensors(): Promise<TensorFile>;
}

export interface ProgressUpdate {
  /** One short line, e.g. `epoch 3/20 loss 1.234 acc 0.56`: complete on its own, for whoever knows no other field. */
  readonly message?: string;
  readonly done?: number;
  readonly total?: number;
  /** Work counted in epochs: lets a display show the epoch and an ETA from measured epoch times. */
  readonly epochs?: EpochProgress;
  /** Throughput over the latest stretch of work: `{ perSecond: 5120, unit: 'img' }`. */
  readonly rate?: { readonly perSecond: number; readonly unit: string };
  /** Figures worth showing beside the progress, by name, in the order given: `{ loss: 0.42, acc: 0.91 }`. */
  readonly metrics?: Readonly<Record<string, number>>;
}

export interface EpochProgress {
  /** The epoch under way, from 1. */
  readonly current: number;
  /** Epochs at most. */
  readonly total: number;
  /** Epochs finished so far (a resumed training counts those before the resume). */
  readonly finished: number;
  /** Mean seconds of the epochs this attempt finished; absent until the first one ends. */
  readonly meanSeconds?: number;
  /** The work stops at a target before `total` when it can (a train accuracy): `total` is a ceiling. */
  readonly upTo?: boolean;
}


export interface StageContext<P = Record<string, unknown>> {
  readonly stage: { readonly id: StageId; readonly name: string; readonly matrix: Readonly<Record<string, Scalar>> };
  readonly params: Readonly<P>;
  /** The instance's seed (stage `seed:` or the pipeline's); derive streams with `Rng.derive(seed, ...)`. */
  readonly seed: number;
  /** `Artifact` for a plain input, `Artifact[]` for a `many` input, absent for an unbound optional one. */
  readonly inputs: Readonly<Record<string, Artifact | readonly Artifact[] | undefined>>;
  /** Cores this stage was granted (see `Plugin.cores`). */
  readonly cores: number;
  /**
   * The tfjs backend the run asked for (`rethink run --backend`, else RETHINK_BACKEND where the run
   * started), for stages that leave theirs open; absent: none was asked for (auto).
   */
  readonly backend?: string;
  readonly signal: AbortSignal;
  progress(update: ProgressUpdate): void;
  log(message: string): void;
  /** Adds facts to the run record's provenance (backend, library versions, hardware). */
  provenance(facts: Readonly<Record<string, JsonValue>>): void;
  writeJson(output: string, value: unknown): Promise<void>;
  writeTensors(output: string, tensors: Readonly<Record<string, TensorData>>, metadata?: Readonly<Record<string, string>>): Promise<void>;
  /** Streams large tensors to an output without holding them in memory. */
  createTensorWriter(
    output: string,
    specs: Readonly<Record<string, TensorSpec>>,
    metadata?: Readonly<Record<string, string>>,
  ): Promise<TensorStreamWriter>;
  writeFile(output: string, data: string | Uint8Array | AsyncIterable<Uint8Array>): Promise<void>;
  /** A scratch directory, deleted when the stage ends. */
  tempDir(): Promise<string>;
  /**
   * A directory that outlives a failed or interrupted attempt (Ctrl-C, a crash, a preempted machine):
   * the next attempt of the same key (same plugin, params, seed, inputs) finds what was saved there
   * and can resume. Deleted once the stage's outputs are stored. Never part of a result.
   */
  checkpointDir(): Promise<string>;
  /**
   * Call after each save into `checkpointDir()`: with a shared remote, the directory is copied there,
   * so that a machine that dies loses at most the work since its last checkpoint (a no-op without
   * one). Rejects when the copy failed; what was saved locally stays.
   */
  checkpointSaved(): Promise<void>;
}

export interface Plugin<P = Record<string, unknown>> {
  readonly name: string;
  /** Bump when the plugin's outputs would change for the same inputs: it is part of every cache key. */
  readonly version: string;
  readonly description: string;
  /** JSON Schema of `with:`; defaults declared here are filled in and become part of the key. */
  readonly params: JsonSchema;
  readonly inputs: Readonly<Record<string, InputSpec>>;
  readonly outputs: Readonly<Record<string, OutputSpec>>;
  /** Cores one instance needs; `'all'` takes every core the run was given (training). Default 1. */
  readonly cores?: number | 'all';
  /**
   * Whether it needs a GPU: `preferred` (uses one where there is one: training), `required` (goes only
   * to GPU workers and partitions), `none` (CPU only, the default). A stage's `resources:` overrides it.
   */
  readonly gpu?: GpuNeed;
  /** Whether the seed affects the outputs (and so belongs in the key). Default true. */
  readonly seeded?: boolean;
  /**
   * For plugins that read outside the store (a local folder, a file path): a cheap summary of what
   * they would read (e.g. names, sizes and mtimes), added to the cache key so a changed folder
   * reruns the stage. Called on every lookup, so keep it fast.
   */
  fingerprint?(params: Readonly<P>): Promise<JsonValue>;
  /**
   * For a plugin whose stages declare their own inputs and outputs (`command`): the descriptor one
   * stage runs with. Such a stage may have `outputs:` (name → kind), which reach the plugin as the
   * param `outputs`, so that they are in the key and travel with every job spec; `${inputs.…}` and
   * `${outputs.…}` in its `with:` are left for the plugin to fill in when it runs. Called by the
   * planner once per stage and by `rethink exec` once per job: keep it cheap and pure.
   */
  forStage?(stage: StageDeclaration<P>): Plugin<P>;
  /**
   * How a `${vars.…}` or `${matrix.…}` value is spliced into the text of one of its params, by param
   * name (default: as plain text). `command` shell-quotes values into `run`, so a value stays one
   * argument. `before` is the text that precedes the reference, as already interpolated.
   */
  readonly splice?: Readonly<Record<string, (value: JsonValue, before: string) => string>>;
  run(ctx: StageContext<P>): Promise<void>;
}

/** What one stage of a `forStage` plugin declares, and where its pipeline lives. */
export interface StageDeclaration<P = Record<string, unknown>> {
  /** One instance's params (the stage-wide ones, such as `outputs`, are the same in every instance). */
  readonly params: Readonly<P>;
  /** The inputs the stage binds, by name: `many` where it lists several refs or selects with `[…]`. */
  readonly inputs: Readonly<Record<string, InputSpec>>;
  /** The pipeline file's folder: relative paths in the stage's params are read from there. */
  readonly baseDir: string;
}

/** Identity helper that types `run`'s params from the generic argument. */
export function definePlugin<P = Record<string, unknown>>(plugin: Plugin<P>): Plugin<P> {
  return plugin;
}
