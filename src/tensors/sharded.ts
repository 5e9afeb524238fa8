// Sharded tensor artifacts: a tensors output too big for one file (a dataset of hundreds of GB) is a
// small JSON manifest plus shards, each an ordinary safetensors file of bounded size holding a range
// of rows of some of the tensors. The manifest names every shard by content hash, and the output's
// run record names them too (OutputRef.parts), so the store keeps, copies and checks them with the
// manifest without knowing this format. Reading presents the same TensorFile as one file would:
// tensors keep their global shapes, and row reads span shards.
import type { ObjectHash } from '../util/brand.js';
import { readFile } from 'node:fs/promises';
import { byteLength, bytesPerElement, gatherRowsInto, layout, openSafetensors, typedTensor, type SafetensorsFile } from './safetensors.js';
import type { TensorData, TensorFile, TensorSpec } from './types.js';

export const SHARDED_FORMAT = 'rethink-sharded-tensors/1';

/** 256 MiB: big enough that a shard's per-file costs vanish, small enough to move and verify one at a time. */
export const DEFAULT_SHARD_BYTES = 256 << 20;

/** One shard: which rows of which tensors it holds, as [start, end) of the whole tensor. */
export interface ShardPlan {
  readonly rows: Readonly<Record<string, readonly [number, number]>>;
}

export interface ShardEntry extends ShardPlan {
  readonly hash: ObjectHash;
  readonly size: number;
}

export interface ShardManifest {
  readonly format: typeof SHARDED_FORMAT;
  readonly metadata: Readonly<Record<string, string>>;
  readonly tensors: Readonly<Record<string, TensorSpec>>;
  readonly shards: readonly ShardEntry[];
}

function rowsOf(spec: TensorSpec): number {
  return spec.shape.length === 0 ? 1 : spec.shape[0]!;
}

function rowBytesOf(spec: TensorSpec): number {
  return spec.shape.length === 0 ? bytesPerElement(spec.dtype) : byteLength({ dtype: spec.dtype, shape: spec.shape.slice(1) });
}

/**
 * How tensors of these specs are cut into shards of at most `shardBytes` of data each (a single row
 * bigger than that gets a shard of its own), or null when they fit in one: then the output stays one
 * plain safetensors file, byte for byte what it was before shards existed. Tensors are laid out in
 * name order, as in one file, and cut at row boundaries; a shard may hold the end of one tensor and
 * the start of the next. Deterministic: equal specs give equal plans.
 */
export function planShards(specs: Readonly<Record<string, TensorSpec>>, shardBytes: number): ShardPlan[] | null {
  if (!(Number.isSafeInteger(shardBytes) && shardBytes >= 1)) throw new RangeError(`shard size must be a whole number of bytes ≥ 1, got ${shardBytes}`);
  const names = Object.keys(specs).sort();
  const total = names.reduce((n, k) => n + byteLength(specs[k]!), 0);
  if (total <= shardBytes) return null;
  const shards: Record<string, [number, number]>[] = [];
  let current: Record<string, [number, number]> = {};
  let used = 0;
  const cut = (): void => {
    if (Object.keys(current).length > 0) shards.push(current);
    current = {};
    used = 0;
  };
  for (const name of names) {
    const spec = specs[name]!;
    const rows = rowsOf(spec);
    const rowBytes = rowBytesOf(spec);
    let at = 0;
    while (at < rows) {
      const room = Math.floor((shardBytes - used) / rowBytes);
      if (room === 0 && used > 0) {
        cut();
        continue;
      }
      const take = Math.min(rows - at, Math.max(1, room));
      current[name] = [at, at + take];
      used += take * rowBytes;
      at += take;
      if (used >= shardBytes) cut();
    }
  }
  cut();
  return shards.map((rows) => ({ rows }));
}

/** A shard's own tensor specs: its rows of each tensor it holds, under the tensor's name. */
export function shardSpecs(specs: Readonly<Record<string, TensorSpec>>, shard: ShardPlan): Record<string, TensorSpec> {
  return Object.fromEntries(
    Object.entries(shard.rows).map(([name, [start, end]]) => {
      const spec = specs[name]!;
      return [name, { dtype: spec.dtype, shape: spec.shape.length === 0 ? [] : [end - start, ...spec.shape.slice(1)] }];
    }),
  );
}

/** A shard's safetensors layout (no metadata: shards with equal rows are one object). */
export function shardLayout(specs: Readonly<Record<string, TensorSpec>>, shard: ShardPlan): ReturnType<typeof layout> {
  return layout(shardSpecs(specs, shard));
}

export function manifestBytes(manifest: ShardManifest): Uint8Array {
  return Buffer.from(`${JSON.stringify(manifest)}\n`, 'utf8');
}

export class ShardedFormatError extends Error {
  override readonly name = 'ShardedFormatError';
}

function parseManifest(text: string, where: string): ShardManifest {
  let m: Partial<ShardManifest>;
  try {
    m = JSON.parse(text) as Partial<ShardManifest>;
  } catch (e) {
    throw new ShardedFormatError(`${where}: not a shard manifest (${(e as Error).message})`);
  }
  if (m.format !== SHARDED_FORMAT || typeof m.tensors !== 'object' || !Array.isArray(m.shards)) {
    throw new ShardedFormatError(`${where}: not a shard manifest (format ${String(m.format)}, expected ${SHARDED_FORMAT})`);
  }
  return m as ShardManifest;
}

/** Where each shard's file is, by hash (the store's objectPath of each part). */
export type ShardPaths = ReadonlyMap<string, string>;

/**
 * Opens a tensors artifact: one safetensors file, or (when `shardPaths` is given: the output has
 * parts) a manifest whose shards are at those paths.
 */
export async function openTensorArtifact(path: string, shardPaths?: ShardPaths): Promise<TensorFile> {
  if (shardPaths === undefined) return openSafetensors(path);
  const manifest = parseManifest(await readFile(path, 'utf8'), path);
  for (const s of manifest.shards) {
    if (!shardPaths.has(s.hash)) throw new ShardedFormatError(`${path}: shard ${s.hash} is not among the output's parts`);
  }
  return new ShardedTensorFile(manifest, shardPaths);
}

/** Open shard files at most at once: an ImageNet-sized dataset has more shards than a process has descriptors. */
const OPEN_SHARDS = 64;

/** One tensor's pieces, in row order: which shard holds rows [start, end). */
interface Piece {
  readonly shard: number;
  readonly start: number;
  readonly end: number;
}

class ShardedTensorFile implements TensorFile {
  readonly metadata: Readonly<Record<string, string>>;
  readonly tensors: Readonly<Record<string, TensorSpec>>;
  private readonly pieces = new Map<string, Piece[]>();
  /** Open shards, least recently used first, with how many reads use each now. */
  private readonly open = new Map<number, { readonly file: Promise<SafetensorsFile>; busy: number }>();
  private closed = false;

  constructor(
    private readonly manifest: ShardManifest,
    private readonly paths: ShardPaths,
  ) {
    this.metadata = manifest.metadata;
    this.tensors = manifest.tensors;
    manifest.shards.forEach((s, shard) => {
      for (const [name, [start, end]] of Object.entries(s.rows)) {
        const list = this.pieces.get(name) ?? [];
        list.push({ shard, start, end });
        this.pieces.set(name, list);
      }
    });
    for (const [name, list] of this.pieces) {
      list.sort((a, b) => a.start - b.start);
      const spec = this.tensors[name];
      const covered = list.every((p, i) => p.start === (i === 0 ? 0 : list[i - 1]!.end)) && list.at(-1)?.end === (spec === undefined ? -1 : rowsOf(spec));
      if (!covered) throw new ShardedFormatError(`shard manifest: the shards' rows of "${name}" do not cover it exactly once`);
    }
  }

  private spec(name: string): TensorSpec {
    const spec = this.tensors[name];
    if (!spec) throw new Error(`no tensor "${name}" (has: ${Object.keys(this.tensors).join(', ') || 'none'})`);
    return spec;
  }

  /** Runs `use` on shard `index`, opening it if need be; closes the least recently used idle shards beyond OPEN_SHARDS. */
  private async withShard(index: number, use: (file: SafetensorsFile) => Promise<void>): Promise<void> {
    if (this.closed) throw new Error('sharded tensor file is closed');
    let entry = this.open.get(index);
    if (entry === undefined) {
      const shard = this.manifest.shards[index]!;
      entry = { file: openShard(this.paths.get(shard.hash)!, index, shard, this.manifest.tensors), busy: 0 };
      this.evict();
    } else {
      this.open.delete(index);
    }
    this.open.set(index, entry);
    entry.busy++;
    try {
      await use(await entry.file);
    } catch (e) {
      if (this.open.get(index) === entry) this.open.delete(index);
      throw e;
    } finally {
      entry.busy--;
    }
  }

  private evict(): void {
    for (const [index, entry] of this.open) {
      if (this.open.size < OPEN_SHARDS) return;
      if (entry.busy > 0) continue;
      this.open.delete(index);
      void entry.file.then((f) => f.close()).catch(() => undefined);
    }
  }

  async read(name: string): Promise<TensorData> {
    return this.readRows(name, 0, rowsOf(this.spec(name)));
  }

  async readRows(name: string, start: number, end: number): Promise<TensorData> {
    const spec = this.spec(name);
    const rows = rowsOf(spec);
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= rows)) {
      throw new RangeError(`rows [${start}, ${end}) out of range for "${name}" with ${rows} rows`);
    }
    const buf = new Uint8Array((end - start) * rowBytesOf(spec));
    await this.readRunInto(name, start, end, buf);
    return typedTensor(spec, spec.shape.length === 0 ? [] : [end - start, ...spec.shape.slice(1)], buf);
  }

  async gather(name: string, rows: ArrayLike<number>): Promise<TensorData> {
    const spec = this.spec(name);
    if (spec.shape.length === 0) throw new RangeError(`"${name}" is a scalar: it has no rows to gather`);
    const total = rowsOf(spec);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (!(Number.isInteger(r) && r >= 0 && r < total)) throw new RangeError(`row ${r} out of range for "${name}" with ${total} rows`);
    }
    const buf = new Uint8Array(rows.length * rowBytesOf(spec));
    await gatherRowsInto(rows, rowBytesOf(spec), buf, (s, e, target) => this.readRunInto(name, s, e, target));
    return typedTensor(spec, [rows.length, ...spec.shape.slice(1)], buf);
  }

  /** Rows [start, end) into `target`, one read per shard they span. */
  private async readRunInto(name: string, start: number, end: number, target: Uint8Array): Promise<void> {
    const rowBytes = rowBytesOf(this.spec(name));
    const reads: Promise<void>[] = [];
    for (const p of this.pieces.get(name) ?? []) {
      const from = Math.max(start, p.start);
      const to = Math.min(end, p.end);
      if (from >= to) continue;
      const into = target.subarray((from - start) * rowBytes, (to - start) * rowBytes);
      reads.push(this.withShard(p.shard, (f) => f.readRowsInto(name, from - p.start, to - p.start, into)));
    }
    await Promise.all(reads);
  }

  async close(): Promise<void> {
    this.closed = true;
    const files = [...this.open.values()];
    this.open.clear();
    await Promise.all(files.map((e) => e.file.then((file) => file.close()).catch(() => undefined)));
  }
}

/** Opens one shard and checks it holds what the manifest says: a short or foreign file names the shard. */
async function openShard(path: string, index: number, entry: ShardEntry, specs: Readonly<Record<string, TensorSpec>>): Promise<SafetensorsFile> {
  const what = `shard ${index + 1} (${entry.hash.slice(0, 12)}…)`;
  let file: SafetensorsFile;
  try {
    file = await openSafetensors(path);
  } catch (e) {
    throw new ShardedFormatError(`${what} at ${path} cannot be read: ${(e as Error).message}`);
  }
  const expected = shardSpecs(specs, entry);
  for (const [name, spec] of Object.entries(expected)) {
    const got = file.tensors[name];
    if (got === undefined || got.dtype !== spec.dtype || got.shape.join() !== spec.shape.join()) {
      await file.close();
      throw new ShardedFormatError(`${what} at ${path} does not hold ${name} ${spec.dtype}[${spec.shape.join(',')}] as its manifest says`);
    }
  }
  return file;
}
