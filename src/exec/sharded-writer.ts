// The streamed tensor writer of an output too big for one shard (src/tensors/sharded.ts): each
// tensor's bytes go, as they come, to the shard that holds those rows; a shard is sealed (hashed and
// closed) as soon as its last byte is written, so only the shards being filled are open, whatever
// the output's size; the manifest is written last and the output's ref names every shard as a part.
// Nothing is published here: the session publishes the shards with the manifest when the stage has
// succeeded, and discards them all otherwise.
import { byteLength } from '../tensors/safetensors.js';
import { manifestBytes, shardLayout, SHARDED_FORMAT, type ShardEntry, type ShardPlan } from '../tensors/sharded.js';
import type { TensorSpec, TensorStreamWriter } from '../tensors/types.js';
import type { ObjectRef, OutputRef, PendingObject } from '../store/types.js';

/** Where a range of one tensor's bytes goes: [from, to) of the tensor, at `offset` in shard `shard`. */
interface Piece {
  readonly shard: number;
  readonly from: number;
  readonly to: number;
  readonly offset: number;
}

interface ShardState {
  readonly plan: ShardPlan;
  readonly prefix: Uint8Array;
  readonly totalBytes: number;
  object: Promise<PendingObject> | undefined;
  written: number;
  sealed: Promise<ObjectRef> | undefined;
}

export interface ShardedWriterHooks {
  /** A new store object for a shard; the session discards it if the stage fails. */
  createPart(): Promise<PendingObject>;
  /** Throws once the stage was stopped (nothing more is kept). */
  assertOpen(): void;
  /** Raised for a misuse of the writer (an unknown tensor, too many bytes, a short tensor). */
  error(message: string): Error;
}

export function shardedTensorWriter(
  output: string,
  specs: Readonly<Record<string, TensorSpec>>,
  metadata: Readonly<Record<string, string>>,
  plans: readonly ShardPlan[],
  manifestObject: PendingObject,
  hooks: ShardedWriterHooks,
  finish: (ref: OutputRef) => void,
): TensorStreamWriter {
  const shards: ShardState[] = plans.map((plan) => {
    const l = shardLayout(specs, plan);
    return { plan, prefix: l.prefix, totalBytes: l.totalBytes, object: undefined, written: l.prefix.length, sealed: undefined };
  });
  const pieces = new Map<string, Piece[]>(Object.keys(specs).map((name) => [name, []]));
  plans.forEach((plan, shard) => {
    const l = shardLayout(specs, plan);
    for (const [name, [start, end]] of Object.entries(plan.rows)) {
      const spec = specs[name]!;
      const rowBytes = spec.shape.length === 0 ? byteLength(spec) : byteLength(spec) / spec.shape[0]!;
      pieces.get(name)!.push({ shard, from: start * rowBytes, to: end * rowBytes, offset: l.prefix.length + l.offsets[name]![0] });
    }
  });
  for (const list of pieces.values()) list.sort((a, b) => a.from - b.from);
  const written = new Map<string, number>(Object.keys(specs).map((n) => [n, 0]));
  let closed = false;

  const objectOf = (s: ShardState): Promise<PendingObject> => {
    s.object ??= hooks.createPart().then(async (obj) => {
      await obj.write(s.prefix);
      return obj;
    });
    return s.object;
  };

  const put = async (index: number, chunk: Uint8Array, position: number): Promise<void> => {
    const s = shards[index]!;
    const obj = await objectOf(s);
    await obj.writeAt(chunk, position);
    s.written += chunk.byteLength;
    if (s.written === s.totalBytes) s.sealed = obj.seal('tensors');
  };

  return {
    write: async (name, chunk) => {
      hooks.assertOpen();
      if (closed) throw hooks.error(`tensor writer for "${output}" is closed`);
      const at = written.get(name);
      if (at === undefined) throw hooks.error(`output "${output}" declared no tensor "${name}" (declared: ${Object.keys(specs).sort().join(', ')})`);
      const total = byteLength(specs[name]!);
      if (at + chunk.byteLength > total) throw hooks.error(`tensor "${name}" of "${output}" overflows: ${at + chunk.byteLength} bytes written, ${total} declared`);
      written.set(name, at + chunk.byteLength);
      for (const p of pieces.get(name)!) {
        const from = Math.max(at, p.from);
        const to = Math.min(at + chunk.byteLength, p.to);
        if (from < to) await put(p.shard, chunk.subarray(from - at, to - at), p.offset + (from - p.from));
      }
    },
    close: async () => {
      closed = true;
      const short = Object.keys(specs).filter((n) => written.get(n) !== byteLength(specs[n]!));
      if (short.length > 0) {
        throw hooks.error(
          `output "${output}": tensors not fully written: ${short.map((n) => `${n} (${written.get(n)}/${byteLength(specs[n]!)} bytes)`).join(', ')}`,
        );
      }
      const entries: ShardEntry[] = [];
      for (const s of shards) {
        // A shard of nothing but zero-byte rows never saw a write: it is just its header.
        if (s.sealed === undefined) s.sealed = objectOf(s).then((obj) => obj.seal('tensors'));
        const ref = await s.sealed;
        entries.push({ hash: ref.hash, size: ref.size, rows: s.plan.rows });
      }
      const tensors = Object.fromEntries(Object.keys(specs).sort().map((n) => [n, { dtype: specs[n]!.dtype, shape: [...specs[n]!.shape] }]));
      const sortedMetadata = Object.fromEntries(Object.entries(metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      await manifestObject.write(manifestBytes({ format: SHARDED_FORMAT, metadata: sortedMetadata, tensors, shards: entries }));
      hooks.assertOpen();
      const ref = await manifestObject.seal('tensors');
      finish({ ...ref, parts: entries.map((e) => ({ hash: e.hash, size: e.size })) });
    },
  };
}
