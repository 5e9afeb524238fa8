// Runs one plugin against a throwaway store, the way the executor would: for plugin tests.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asStageId } from '../util/brand.js';
import { instanceId } from '../plan/expand.js';
import type { Artifact, ArtifactKind, JsonValue, Plugin, ProgressUpdate, Scalar } from '../plugin/types.js';
import type { TensorData } from '../tensors/types.js';
import { layout, tensorBytes } from '../tensors/safetensors.js';
import { openTensorArtifact } from '../tensors/sharded.js';
import { shardPaths } from '../store/parts.js';
import { LocalStore } from '../store/local.js';
import type { OutputRef } from '../store/types.js';
import { formatParamErrors, resolveParams } from '../config/params.js';
import { InProcessRunner } from '../exec/runner.js';
import type { InputArtifact } from '../exec/context.js';
import type { StageInstance } from '../plan/plan.js';
import { cacheKey, type InputKey } from '../plan/key.js';

/**
 * An input given to the harness: raw JSON, tensors, file bytes, or an output of an earlier harness
 * run; `origin` sets the upstream stage name and matrix the plugin sees in `artifact.from`.
 */
export type HarnessInput = (
  | { readonly json: unknown }
  | { readonly tensors: Readonly<Record<string, TensorData>>; readonly metadata?: Readonly<Record<string, string>> }
  | { readonly file: string | Uint8Array }
  | HarnessOutput
) & { readonly origin?: { readonly stage?: string; readonly matrix?: Readonly<Record<string, Scalar>> } };

/** An output of a harness run: an artifact as a downstream plugin would see it, minus its origin. */
export type HarnessOutput = Omit<Artifact, 'from'>;

export interface HarnessResult {
  readonly outputs: Readonly<Record<string, HarnessOutput>>;
  readonly provenance: Readonly<Record<string, JsonValue>>;
  readonly progress: readonly ProgressUpdate[];
  readonly logs: readonly string[];
}

export interface HarnessOptions {
  readonly params?: Record<string, unknown>;
  readonly seed?: number;
  readonly inputs?: Readonly<Record<string, HarnessInput | readonly HarnessInput[]>>;
  readonly matrix?: Readonly<Record<string, Scalar>>;
  readonly cores?: number;
  readonly signal?: AbortSignal;
  /** Reuse a store across runs (e.g. to chain stages); by default each call gets a fresh temp store. */
  readonly store?: LocalStore;
}

export interface Harness {
  readonly store: LocalStore;
  run<P>(plugin: Plugin<P>, options?: HarnessOptions): Promise<HarnessResult>;
  /** Deletes the temp store. */
  close(): Promise<void>;
}

/** A harness over one temp store; outputs of one run can be passed as inputs of the next. */
export async function createHarness(): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'rethink-harness-'));
  const store = new LocalStore(dir);
  return {
    store,
    run: (plugin, options = {}) => runPlugin(plugin, { ...options, store }),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Runs `plugin` once; throws the plugin's own error if it fails. */
export async function runPlugin<P>(plugin: Plugin<P>, options: HarnessOptions = {}): Promise<HarnessResult> {
  const store = options.store ?? new LocalStore(await mkdtemp(join(tmpdir(), 'rethink-harness-')));
  const p = plugin as unknown as Plugin<never>;
  const resolved = resolveParams(p, structuredClone(options.params ?? {}));
  if (!resolved.ok) throw new Error(`invalid params:\n${formatParamErrors(plugin.name, resolved.errors)}`);
  const inputs: Record<string, InputArtifact | InputArtifact[]> = {};
  for (const [name, value] of Object.entries(options.inputs ?? {})) {
    inputs[name] = Array.isArray(value)
      ? await Promise.all(value.map((v: HarnessInput, i: number) => storeInput(store, v, `${name}[${i}]`)))
      : await storeInput(store, value as HarnessInput, name);
  }
  const seed = options.seed ?? 0;
  const id = asStageId(`${plugin.name}`);
  const instance: StageInstance = {
    id,
    stage: plugin.name,
    plugin: p,
    uses: plugin.name,
    matrix: options.matrix ?? {},
    params: resolved.params,
    seed,
    inputs: [],
    keyBase: { plugin: plugin.name, version: plugin.version, params: resolved.params, seed },
    where: '(test harness)',
  };
  const progress: ProgressUpdate[] = [];
  const logs: string[] = [];
  const keyRecord = { ...instance.keyBase, inputs: inputKeys(inputs) };
  const result = await new InProcessRunner(store).run(
    { instance, key: cacheKey(keyRecord), keyRecord, inputs, cores: options.cores ?? 1 },
      {
        signal: options.signal ?? new AbortController().signal,
        onProgress: (u) => progress.push(u),
        onLog: (m) => logs.push(m),
      },
    );
  const outputs: Record<string, HarnessOutput> = {};
  for (const [name, ref] of Object.entries(result.outputs)) outputs[name] = await handle(store, ref);
  return { outputs, provenance: result.provenance, progress, logs };
}

/** What the key holds of the inputs, as the planner makes it: a hash, or {stage, matrix, hash} per fan-in member. */
function inputKeys(inputs: Readonly<Record<string, InputArtifact | InputArtifact[]>>): Record<string, InputKey> {
  return Object.fromEntries(
    Object.entries(inputs).map(([name, v]) => [name, Array.isArray(v) ? v.map((a) => ({ stage: a.from.stage, matrix: a.from.matrix, hash: a.hash })) : v.hash]),
  );
}

async function storeInput(store: LocalStore, input: HarnessInput, label: string): Promise<InputArtifact> {
  // With an origin, the id is the one the planner would give that instance (`fig1a`, `train[p=0.5]`).
  const id = input.origin?.stage ? instanceId(input.origin.stage, input.origin.matrix ?? {}) : `input:${label}`;
  const from = { id: asStageId(id), stage: input.origin?.stage ?? 'input', matrix: input.origin?.matrix ?? {}, output: label };
  if ('hash' in input) return { hash: input.hash, kind: input.kind, size: input.size, ...(input.parts === undefined ? {} : { parts: input.parts }), from };
  const obj = await store.createObject();
  let kind: ArtifactKind;
  if ('json' in input) {
    kind = 'json';
    await obj.write(Buffer.from(JSON.stringify(input.json)));
  } else if ('tensors' in input) {
    kind = 'tensors';
    const specs = Object.fromEntries(Object.entries(input.tensors).map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape }]));
    const plan = layout(specs, input.metadata);
    await obj.write(plan.prefix);
    for (const name of plan.order) await obj.write(tensorBytes(input.tensors[name]!));
  } else {
    kind = 'file';
    await obj.write(typeof input.file === 'string' ? Buffer.from(input.file) : input.file);
  }
  const ref = await obj.seal(kind);
  await obj.publish();
  return { ...ref, from };
}

async function handle(store: LocalStore, ref: OutputRef): Promise<HarnessOutput> {
  const path = await store.objectPath(ref.hash);
  const parts = await shardPaths(store, ref);
  return {
    ...ref,
    path,
    readJson: async <T>() => JSON.parse(await readFile(path, 'utf8')) as T,
    readTensors: () => openTensorArtifact(path, parts),
  };
}
