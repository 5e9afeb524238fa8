// The StageContext a plugin's `run` receives: typed inputs, params, seed, progress, and writers that
// stage every output in the store's tmp area until the stage has succeeded.
import { readFile, rm } from 'node:fs/promises';
import type { CacheKey, ObjectHash } from '../util/brand.js';
import type {
  Artifact,
  ArtifactKind,
  ArtifactOrigin,
  JsonValue,
  Plugin,
  ProgressUpdate,
  StageContext,
} from '../plugin/types.js';
import type { TensorData, TensorFile, TensorSpec, TensorStreamWriter } from '../tensors/types.js';
import { byteLength, layout, tensorBytes } from '../tensors/safetensors.js';
import type { ObjectRef, OutputRef, PendingObject, Store } from '../store/types.js';
import { shardPaths } from '../store/parts.js';
import { DEFAULT_SHARD_BYTES, openTensorArtifact, planShards } from '../tensors/sharded.js';
import { ENV } from '../util/env.js';
import { shardedTensorWriter } from './sharded-writer.js';
import type { StageInstance } from '../plan/plan.js';
import { jsonPath, nonFiniteNumbers } from '../util/non-finite.js';

/** A resolved input artifact: which object, and where it came from. */
export interface InputArtifact {
  readonly hash: ObjectHash;
  readonly kind: ArtifactKind;
  readonly size: number;
  /** A sharded tensors output's shards (OutputRef.parts). */
  readonly parts?: readonly ObjectRef[];
  readonly from: ArtifactOrigin;
}

export type ResolvedInputs = Readonly<Record<string, InputArtifact | readonly InputArtifact[] | undefined>>;

export interface ContextHooks {
  readonly signal: AbortSignal;
  readonly cores: number;
  /** The backend the run asked for (StageContext.backend). */
  readonly backend?: string | undefined;
  onProgress(update: ProgressUpdate): void;
  onLog(message: string): void;
}

export class StageOutputError extends Error {
  override readonly name = 'StageOutputError';
}

/** Owns the pending outputs of one stage attempt. */
export class StageSession {
  private readonly pending = new Map<string, PendingObject>();
  private readonly sealed = new Map<string, OutputRef>();
  /** The shards of sharded outputs, published and discarded with them. */
  private readonly parts: PendingObject[] = [];
  private scratch: string[] = [];
  private closed = false;
  readonly provenance: Record<string, JsonValue> = {};

  constructor(
    private readonly store: Store,
    private readonly plugin: Plugin<never>,
    private readonly instance: StageInstance,
    private readonly key: CacheKey,
  ) {}

  async context(inputs: ResolvedInputs, hooks: ContextHooks): Promise<StageContext<Record<string, unknown>>> {
    const resolved: Record<string, Artifact | readonly Artifact[] | undefined> = {};
    for (const [name, value] of Object.entries(inputs)) {
      if (value === undefined) resolved[name] = undefined;
      else if (Array.isArray(value)) resolved[name] = await Promise.all(value.map((a) => this.artifact(a)));
      else resolved[name] = await this.artifact(value as InputArtifact);
    }
    const session = this;
    return {
      stage: { id: this.instance.id, name: this.instance.stage, matrix: this.instance.matrix },
      params: this.instance.params as Record<string, unknown>,
      seed: this.instance.seed,
      inputs: resolved,
      cores: hooks.cores,
      ...(hooks.backend === undefined ? {} : { backend: hooks.backend }),
      signal: hooks.signal,
      progress: (u) => hooks.onProgress(u),
      log: (m) => hooks.onLog(m),
      provenance: (facts) => Object.assign(session.provenance, facts),
      writeJson: (output, value) => session.writeJson(output, value),
      writeFile: (output, data) => session.writeFile(output, data),
      writeTensors: (output, tensors, metadata) => session.writeTensors(output, tensors, metadata),
      createTensorWriter: (output, specs, metadata) => session.createTensorWriter(output, specs, metadata),
      tempDir: async () => {
        session.assertOpen('it gets no temporary directory');
        const dir = await session.store.createScratch();
        if (session.closed) {
          await rm(dir, { recursive: true, force: true });
          session.assertOpen('it gets no temporary directory');
        }
        session.scratch.push(dir);
        return dir;
      },
      checkpointDir: () => session.store.checkpointDir(session.key),
      checkpointSaved: async () => {
        session.assertOpen('its checkpoint is not copied');
        await session.store.saveCheckpoints?.(session.key);
      },
    };
  }

  private async artifact(a: InputArtifact): Promise<Artifact> {
    const path = await this.store.objectPath(a.hash);
    const parts = await shardPaths(this.store, a);
    return {
      ...a,
      path,
      readJson: async <T>() => JSON.parse(await readFile(path, 'utf8')) as T,
      readTensors: (): Promise<TensorFile> => openTensorArtifact(path, parts),
    };
  }

  private async begin(output: string, kind: ArtifactKind): Promise<PendingObject> {
    const spec = this.plugin.outputs[output];
    if (!spec) {
      throw new StageOutputError(
        `plugin "${this.plugin.name}" has no output "${output}" (declared: ${Object.keys(this.plugin.outputs).join(', ') || 'none'})`,
      );
    }
    if (spec.kind !== kind) throw new StageOutputError(`output "${output}" is declared as ${spec.kind}, written as ${kind}`);
    if (this.pending.has(output)) throw new StageOutputError(`output "${output}" written twice`);
    this.assertOpen(notKept(output));
    const obj = await this.store.createObject();
    if (this.closed) {
      await obj.discard();
      this.assertOpen(notKept(output));
    }
    this.pending.set(output, obj);
    return obj;
  }

  private async finish(output: string, obj: PendingObject, kind: ArtifactKind): Promise<void> {
    this.assertOpen(notKept(output));
    this.sealed.set(output, await obj.seal(kind));
  }

  /** JSON has no NaN or Infinity: JSON.stringify would write null without a word, so they are refused. */
  private async writeJson(output: string, value: unknown): Promise<void> {
    const bad = nonFiniteNumbers(value)[0];
    if (bad !== undefined) {
      throw new StageOutputError(
        `output "${output}" of ${this.instance.id}: ${bad.value} at ${jsonPath(bad.path)} cannot be written as JSON (it has no NaN or Infinity); record it explicitly (e.g. null with a flag saying why)`,
      );
    }
    await this.writeBytes(output, 'json', Buffer.from(`${JSON.stringify(value, null, 1)}\n`));
  }

  /** A stage left behind (timed out, stalled, interrupted) writes nothing more. */
  private assertOpen(consequence: string): void {
    if (this.closed) throw new StageOutputError(`stage ${this.instance.id} was stopped: ${consequence}`);
  }

  private async writeBytes(output: string, kind: ArtifactKind, bytes: Uint8Array): Promise<void> {
    const obj = await this.begin(output, kind);
    await obj.write(bytes);
    await this.finish(output, obj, kind);
  }

  private async writeFile(output: string, data: string | Uint8Array | AsyncIterable<Uint8Array>): Promise<void> {
    const obj = await this.begin(output, 'file');
    if (typeof data === 'string') await obj.write(Buffer.from(data, 'utf8'));
    else if (data instanceof Uint8Array) await obj.write(data);
    else for await (const chunk of data) await obj.write(chunk);
    await this.finish(output, obj, 'file');
  }

  private async writeTensors(
    output: string,
    tensors: Readonly<Record<string, TensorData>>,
    metadata?: Readonly<Record<string, string>>,
  ): Promise<void> {
    const specs = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape }]));
    const bytes = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, tensorBytes(t)])); // validates first
    const plan = layout(specs, metadata);
    const obj = await this.begin(output, 'tensors');
    await obj.write(plan.prefix);
    for (const name of plan.order) await obj.write(bytes[name]!);
    await this.finish(output, obj, 'tensors');
  }

  private async createTensorWriter(
    output: string,
    specs: Readonly<Record<string, TensorSpec>>,
    metadata?: Readonly<Record<string, string>>,
  ): Promise<TensorStreamWriter> {
    const shards = planShards(specs, ENV.shardBytes.read() ?? DEFAULT_SHARD_BYTES);
    if (shards !== null) {
      const manifest = await this.begin(output, 'tensors');
      const hooks = {
        createPart: async () => {
          this.assertOpen(notKept(output));
          const part = await this.store.createObject();
          this.parts.push(part);
          return part;
        },
        assertOpen: () => this.assertOpen(notKept(output)),
        error: (message: string) => new StageOutputError(message),
      };
      return shardedTensorWriter(output, specs, metadata ?? {}, shards, manifest, hooks, (ref) => this.sealed.set(output, ref));
    }
    const plan = layout(specs, metadata);
    const obj = await this.begin(output, 'tensors');
    await obj.write(plan.prefix);
    const written = new Map<string, number>(plan.order.map((n) => [n, 0]));
    let closed = false;
    return {
      write: async (name, chunk) => {
        this.assertOpen(notKept(output));
        if (closed) throw new StageOutputError(`tensor writer for "${output}" is closed`);
        const at = written.get(name);
        if (at === undefined) throw new StageOutputError(`output "${output}" declared no tensor "${name}" (declared: ${plan.order.join(', ')})`);
        const total = byteLength(specs[name]!);
        if (at + chunk.byteLength > total) {
          throw new StageOutputError(`tensor "${name}" of "${output}" overflows: ${at + chunk.byteLength} bytes written, ${total} declared`);
        }
        await obj.writeAt(chunk, plan.prefix.length + plan.offsets[name]![0] + at);
        written.set(name, at + chunk.byteLength);
      },
      close: async () => {
        closed = true;
        const short = plan.order.filter((n) => written.get(n) !== byteLength(specs[n]!));
        if (short.length > 0) {
          throw new StageOutputError(
            `output "${output}": tensors not fully written: ${short.map((n) => `${n} (${written.get(n)}/${byteLength(specs[n]!)} bytes)`).join(', ')}`,
          );
        }
        await this.finish(output, obj, 'tensors');
      },
    };
  }

  /** After `run` resolved: checks required outputs, then publishes every sealed object. */
  async publish(): Promise<Record<string, OutputRef>> {
    const unsealed = [...this.pending.keys()].filter((k) => !this.sealed.has(k));
    if (unsealed.length > 0) throw new StageOutputError(`outputs left unfinished: ${unsealed.join(', ')} (close their tensor writers)`);
    const missing = Object.entries(this.plugin.outputs)
      .filter(([name, spec]) => !spec.optional && !this.sealed.has(name))
      .map(([name]) => name);
    if (missing.length > 0) throw new StageOutputError(`plugin "${this.plugin.name}" did not write required output(s): ${missing.join(', ')}`);
    for (const part of this.parts) await part.publish();
    for (const obj of this.pending.values()) await obj.publish();
    return Object.fromEntries(this.sealed);
  }

  /**
   * Ends the attempt: every later write fails. The runner closes the session when it stops waiting
   * for the plugin, which may go on running after a timeout.
   */
  close(): void {
    this.closed = true;
  }

  /** Removes scratch directories and every output not yet published. */
  async cleanup(published: boolean): Promise<void> {
    if (!published) await Promise.all([...this.parts, ...this.pending.values()].map((o) => o.discard().catch(() => undefined)));
    await Promise.all(this.scratch.map((d) => rm(d, { recursive: true, force: true })));
    this.scratch = [];
  }
}

/** What happens to an output written after its stage was stopped. */
const notKept = (output: string): string => `its output "${output}" is not kept`;
