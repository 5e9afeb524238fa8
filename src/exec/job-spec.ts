// A job spec: one resolved stage instance as self-contained JSON, for `rethink exec` in a child
// process (and later on another machine). It carries everything the stage's key depends on, so the
// process that runs it can recompute the key and refuse a spec that does not match what it has.
import { dirname } from 'node:path';
import { asCacheKey, asObjectHash, asStageId, type CacheKey, type StageId } from '../util/brand.js';
import type { ArtifactKind, JsonValue, Plugin, Scalar } from '../plugin/types.js';
import type { InputBinding, Plan, StageInstance } from '../plan/plan.js';
import { cacheKey, type InputKey, type KeyRecord } from '../plan/key.js';
import { canonicalJson } from '../util/canonical-json.js';
import type { InputArtifact, ResolvedInputs } from './context.js';
import type { StageJob } from './runner.js';
import { GPU_NEEDS, type GpuNeed, type Resources } from '../plan/resources.js';

export const JOB_SPEC_FORMAT = 1;

export interface JobSpec {
  readonly format: typeof JOB_SPEC_FORMAT;
  readonly key: CacheKey;
  readonly keyRecord: KeyRecord;
  readonly stage: { readonly id: StageId; readonly name: string; readonly matrix: Readonly<Record<string, Scalar>> };
  /** The pipeline file's absolute path (for messages and provenance; never read by the job). */
  readonly pipeline: string;
  readonly plugin: JobPlugin;
  readonly params: { readonly [k: string]: JsonValue };
  readonly seed: number;
  readonly inputs: ResolvedInputs;
  readonly cores: number;
  /** The time one attempt may take; the coordinator enforces it, a worker may too. */
  readonly timeoutMs?: number;
  /** What it needs where it runs (routing: GPU queue or partition, sbatch options). */
  readonly resources?: Resources;
  /** The tfjs backend the run asked for (`--backend`): it wins over the defaults of the process that runs the job. */
  readonly backend?: string;
}

/** How to find the plugin, and what it must be once found. */
export interface JobPlugin {
  /** `uses:` as written: a built-in name, or a module path relative to `baseDir`. */
  readonly uses: string;
  /** The pipeline's folder. */
  readonly baseDir: string;
  readonly name: string;
  readonly version: string;
  /** For path plugins: the hash of their code closure (code-closure.ts). */
  readonly code?: string;
}

/** A spec field that is missing, malformed or inconsistent: `field` is its JSON path (`keyRecord.params`). */
export class JobSpecError extends Error {
  override readonly name = 'JobSpecError';

  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** The spec of a job the executor handed to a runner. */
export function buildJobSpec(job: StageJob, plan: Plan): JobSpec {
  const inst = job.instance;
  return {
    format: JOB_SPEC_FORMAT,
    key: job.key,
    keyRecord: job.keyRecord,
    stage: { id: inst.id, name: inst.stage, matrix: inst.matrix },
    pipeline: plan.pipeline,
    plugin: {
      uses: inst.uses,
      baseDir: dirname(plan.pipeline),
      name: inst.plugin.name,
      version: inst.plugin.version,
      ...(inst.keyBase.code === undefined ? {} : { code: inst.keyBase.code }),
    },
    params: inst.params,
    seed: inst.seed,
    inputs: job.inputs,
    cores: job.cores,
    ...(inst.timeoutMs === undefined ? {} : { timeoutMs: inst.timeoutMs }),
    ...(inst.resources === undefined ? {} : { resources: inst.resources }),
    ...(job.backend === undefined ? {} : { backend: job.backend }),
  };
}

/**
 * The first way the spec contradicts itself: its key is not the hash of its key record, or the key
 * record names another plugin, version, code, params or seed than the spec runs.
 */
export function inconsistency(spec: JobSpec): JobSpecError | undefined {
  const recomputed = cacheKey(spec.keyRecord);
  if (recomputed !== spec.key) return new JobSpecError('key', `is not the hash of keyRecord (${recomputed})`);
  const r = spec.keyRecord;
  const pairs: readonly [string, unknown, unknown][] = [
    ['plugin.name', spec.plugin.name, r.plugin],
    ['plugin.version', spec.plugin.version, r.version],
    ['plugin.code', spec.plugin.code, r.code],
    ['params', spec.params, r.params],
    // Unseeded plugins keep no seed in their key.
    ['seed', spec.seed, r.seed ?? spec.seed],
  ];
  for (const [field, value, keyed] of pairs) {
    if (canonicalJson(value) !== canonicalJson(keyed)) return new JobSpecError(field, `${canonicalJson(value)} differs from keyRecord's ${canonicalJson(keyed)}`);
  }
  // The spec's inputs are the key record's, artifact for artifact (an absent one is keyed as null).
  for (const [name, keyed] of Object.entries(r.inputs)) {
    const given = inputKeyOf(spec.inputs[name]);
    if (canonicalJson(keyed) !== canonicalJson(given)) return new JobSpecError(`inputs.${name}`, `${canonicalJson(given)} differs from keyRecord's ${canonicalJson(keyed)}`);
  }
  const extra = Object.keys(spec.inputs).find((name) => !(name in r.inputs));
  if (extra !== undefined) return new JobSpecError(`inputs.${extra}`, 'is not in keyRecord.inputs');
  return undefined;
}

/** How the key records an input: its hash, each fan-in member's stage, matrix and hash, or null when absent. */
function inputKeyOf(value: InputArtifact | readonly InputArtifact[] | undefined): InputKey {
  if (value === undefined) return null;
  if (Array.isArray(value)) return (value as readonly InputArtifact[]).map((a) => ({ stage: a.from.stage, matrix: a.from.matrix, hash: a.hash }));
  return (value as InputArtifact).hash;
}

// ---- Parsing: every field checked, each failure naming its path. ----

type Json = { readonly [k: string]: unknown };

export function parseJobSpec(text: string): JobSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new JobSpecError('(spec)', `is not JSON: ${(e as Error).message}`);
  }
  const spec = object(raw, '(spec)');
  if (spec.format !== JOB_SPEC_FORMAT) throw new JobSpecError('format', `must be ${JOB_SPEC_FORMAT}, got ${JSON.stringify(spec.format)}`);
  const stage = object(spec.stage, 'stage');
  const plugin = object(spec.plugin, 'plugin');
  const keyRecord = object(spec.keyRecord, 'keyRecord');
  object(keyRecord.params, 'keyRecord.params');
  object(keyRecord.inputs, 'keyRecord.inputs');
  string(keyRecord.plugin, 'keyRecord.plugin');
  string(keyRecord.version, 'keyRecord.version');
  const code = plugin.code === undefined ? undefined : hex(plugin.code, 'plugin.code');
  const timeoutMs = spec.timeoutMs === undefined ? undefined : count(spec.timeoutMs, 'timeoutMs', 1);
  const resources = spec.resources === undefined ? undefined : resourcesIn(spec.resources);
  const backend = spec.backend === undefined ? undefined : string(spec.backend, 'backend');
  return {
    format: JOB_SPEC_FORMAT,
    key: asCacheKey(hex(spec.key, 'key')),
    keyRecord: keyRecord as unknown as KeyRecord,
    stage: { id: asStageId(string(stage.id, 'stage.id')), name: string(stage.name, 'stage.name'), matrix: scalars(stage.matrix, 'stage.matrix') },
    pipeline: string(spec.pipeline, 'pipeline'),
    plugin: {
      uses: string(plugin.uses, 'plugin.uses'),
      baseDir: string(plugin.baseDir, 'plugin.baseDir'),
      name: string(plugin.name, 'plugin.name'),
      version: string(plugin.version, 'plugin.version'),
      ...(code === undefined ? {} : { code }),
    },
    params: object(spec.params, 'params') as { readonly [k: string]: JsonValue },
    seed: count(spec.seed, 'seed', 0),
    inputs: inputsOf(spec.inputs),
    cores: count(spec.cores, 'cores', 1),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(resources === undefined ? {} : { resources }),
    ...(backend === undefined ? {} : { backend }),
  };
}

function resourcesIn(raw: unknown): Resources {
  const r = object(raw, 'resources');
  const gpu = r.gpu;
  if (gpu === undefined) throw new JobSpecError('resources.gpu', 'is missing');
  if (!(GPU_NEEDS as readonly unknown[]).includes(gpu)) throw new JobSpecError('resources.gpu', `must be one of ${GPU_NEEDS.join(', ')}, got ${JSON.stringify(gpu)}`);
  const gpus = r.gpus === undefined ? undefined : count(r.gpus, 'resources.gpus', 1);
  if (gpus !== undefined && gpu !== 'required') throw new JobSpecError('resources.gpus', `is only for gpu "required", not ${JSON.stringify(gpu)}`);
  const cores = r.cores === 'all' ? 'all' : count(r.cores, 'resources.cores', 1);
  const memoryMb = r.memoryMb === undefined ? undefined : count(r.memoryMb, 'resources.memoryMb', 1);
  const timeMs = r.timeMs === undefined ? undefined : positive(r.timeMs, 'resources.timeMs');
  return {
    gpu: gpu as GpuNeed,
    ...(gpus === undefined ? {} : { gpus }),
    cores,
    ...(memoryMb === undefined ? {} : { memoryMb }),
    ...(timeMs === undefined ? {} : { timeMs }),
  };
}

function inputsOf(raw: unknown): ResolvedInputs {
  const out: Record<string, InputArtifact | readonly InputArtifact[]> = {};
  for (const [name, value] of Object.entries(object(raw, 'inputs'))) {
    const field = `inputs.${name}`;
    out[name] = Array.isArray(value) ? value.map((a, i) => artifact(a, `${field}[${i}]`)) : artifact(value, field);
  }
  return out;
}

const KINDS: readonly ArtifactKind[] = ['tensors', 'json', 'file'];

function artifact(raw: unknown, field: string): InputArtifact {
  const a = object(raw, field);
  const kind = string(a.kind, `${field}.kind`);
  if (!(KINDS as readonly string[]).includes(kind)) throw new JobSpecError(`${field}.kind`, `must be one of ${KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  const from = object(a.from, `${field}.from`);
  return {
    hash: asObjectHash(hex(a.hash, `${field}.hash`)),
    kind: kind as ArtifactKind,
    size: count(a.size, `${field}.size`, 0),
    from: {
      id: asStageId(string(from.id, `${field}.from.id`)),
      stage: string(from.stage, `${field}.from.stage`),
      matrix: scalars(from.matrix, `${field}.from.matrix`),
      output: string(from.output, `${field}.from.output`),
    },
  };
}

function object(v: unknown, field: string): Json {
  if (v === undefined) throw new JobSpecError(field, 'is missing');
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new JobSpecError(field, `must be an object, got ${JSON.stringify(v)}`);
  return v as Json;
}

function string(v: unknown, field: string): string {
  if (v === undefined) throw new JobSpecError(field, 'is missing');
  if (typeof v !== 'string' || v === '') throw new JobSpecError(field, `must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function hex(v: unknown, field: string): string {
  const s = string(v, field);
  if (!/^[0-9a-f]{64}$/.test(s)) throw new JobSpecError(field, `must be 64 lowercase hex digits (a SHA-256), got ${JSON.stringify(s)}`);
  return s;
}

function count(v: unknown, field: string, min: number): number {
  if (v === undefined) throw new JobSpecError(field, 'is missing');
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new JobSpecError(field, `must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return v;
}

function positive(v: unknown, field: string): number {
  if (v === undefined) throw new JobSpecError(field, 'is missing');
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new JobSpecError(field, `must be a number > 0, got ${JSON.stringify(v)}`);
  return v;
}

function scalars(v: unknown, field: string): Readonly<Record<string, Scalar>> {
  const o = object(v, field);
  for (const [k, x] of Object.entries(o)) {
    if (x !== null && typeof x === 'object') throw new JobSpecError(`${field}.${k}`, `must be a scalar, got ${JSON.stringify(x)}`);
  }
  return o as Readonly<Record<string, Scalar>>;
}

/** The job a spec describes, with the plugin this process resolved for it (checked against the spec by the caller). */
export function jobOf(spec: JobSpec, plugin: Plugin<never>): StageJob {
  const { inputs: _inputs, ...keyBase } = spec.keyRecord;
  const bindings: InputBinding[] = Object.keys(spec.keyRecord.inputs).map((name) => {
    const value = spec.inputs[name];
    const arts: readonly InputArtifact[] = value === undefined ? [] : Array.isArray(value) ? value : [value as InputArtifact];
    return { name, many: Array.isArray(value), sources: arts.map((a) => ({ id: a.from.id, output: a.from.output })) };
  });
  const instance: StageInstance = {
    id: spec.stage.id,
    stage: spec.stage.name,
    plugin,
    uses: spec.plugin.uses,
    matrix: spec.stage.matrix,
    params: spec.params,
    seed: spec.seed,
    inputs: bindings,
    keyBase,
    where: `${spec.pipeline} (stage ${spec.stage.name})`,
    ...(spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs }),
    ...(spec.resources === undefined ? {} : { resources: spec.resources }),
  };
  return { instance, key: spec.key, keyRecord: spec.keyRecord, inputs: spec.inputs, cores: spec.cores, ...(spec.backend === undefined ? {} : { backend: spec.backend }) };
}
