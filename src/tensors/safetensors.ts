// safetensors files (https://github.com/huggingface/safetensors): 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets}, __metadata__}, then raw little-endian data.
// Chosen because numpy/torch/jax read it directly and it streams: the header is known up front.
import { open, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import type { DType, TensorData, TensorFile, TensorSpec, TypedArray } from './types.js';

const ST_DTYPE: Readonly<Record<DType, string>> = {
  bool: 'BOOL',
  uint8: 'U8',
  int8: 'I8',
  uint16: 'U16',
  int16: 'I16',
  uint32: 'U32',
  int32: 'I32',
  float32: 'F32',
  float64: 'F64',
};
const FROM_ST: Readonly<Record<string, DType>> = Object.fromEntries(
  Object.entries(ST_DTYPE).map(([k, v]) => [v, k as DType]),
);

type TypedArrayCtor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray; BYTES_PER_ELEMENT: number };
const CTOR: Readonly<Record<DType, TypedArrayCtor>> = {
  bool: Uint8Array,
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
};

if (endianness() !== 'LE') throw new Error('rethink stores tensors little-endian and needs a little-endian host');

export function bytesPerElement(dtype: DType): number {
  return CTOR[dtype].BYTES_PER_ELEMENT;
}

export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`invalid tensor dimension ${d} in shape [${shape.join(',')}]`);
    n *= d;
  }
  return n;
}

export function byteLength(spec: TensorSpec): number {
  return elementCount(spec.shape) * bytesPerElement(spec.dtype);
}

/** The raw little-endian bytes of a tensor's data (a view, no copy). */
export function tensorBytes(t: TensorData): Uint8Array {
  const expected = byteLength(t);
  if (t.data.byteLength !== expected) {
    throw new RangeError(`tensor data has ${t.data.byteLength} bytes but ${t.dtype}[${t.shape.join(',')}] needs ${expected}`);
  }
  if (!(t.data instanceof CTOR[t.dtype])) {
    throw new TypeError(`tensor dtype ${t.dtype} needs a ${CTOR[t.dtype].name}, got ${t.data.constructor.name}`);
  }
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

export interface Layout {
  /** Tensor names in data order (sorted, so equal tensors always give equal bytes). */
  readonly order: readonly string[];
  readonly offsets: Readonly<Record<string, readonly [number, number]>>;
  /** The 8-byte length prefix plus the space-padded JSON header. */
  readonly prefix: Uint8Array;
  readonly totalBytes: number;
}

/** The header and offsets for tensors of the given specs; deterministic for equal inputs. */
export function layout(specs: Readonly<Record<string, TensorSpec>>, metadata: Readonly<Record<string, string>> = {}): Layout {
  const order = Object.keys(specs).sort();
  const header: Record<string, unknown> = {};
  const meta = Object.fromEntries(Object.entries(metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  if (Object.keys(meta).length > 0) header.__metadata__ = meta;
  const offsets: Record<string, readonly [number, number]> = {};
  let at = 0;
  for (const name of order) {
    if (name === '__metadata__') throw new Error('"__metadata__" is reserved and cannot name a tensor');
    const spec = specs[name]!;
    if (!(spec.dtype in ST_DTYPE)) throw new TypeError(`tensor "${name}": unsupported dtype "${spec.dtype}"`);
    const end = at + byteLength(spec);
    offsets[name] = [at, end];
    header[name] = { dtype: ST_DTYPE[spec.dtype], shape: [...spec.shape], data_offsets: [at, end] };
    at = end;
  }
  let json = JSON.stringify(header);
  const jsonBytes = Buffer.byteLength(json);
  json += ' '.repeat((8 - (jsonBytes % 8)) % 8); // align data to 8 bytes, as the reference writer does
  const headerBytes = Buffer.from(json, 'utf8');
  const prefix = new Uint8Array(8 + headerBytes.length);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  prefix.set(headerBytes, 8);
  return { order, offsets, prefix, totalBytes: prefix.length + at };
}

export class SafetensorsFormatError extends Error {
  override readonly name = 'SafetensorsFormatError';
}

/** Views `bytes` (which it owns) as the typed array of `spec`'s dtype, with `shape`. */
export function typedTensor(spec: TensorSpec, shape: readonly number[], bytes: Uint8Array): TensorData {
  const Ctor = CTOR[spec.dtype];
  return { dtype: spec.dtype, shape, data: new Ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / Ctor.BYTES_PER_ELEMENT) };
}

/**
 * Fills `out` with the rows at `rows` (`rowBytes` each, in the order given) through `readRun`, which
 * reads a run of consecutive rows into a buffer of exactly their size. Rows are visited sorted, and
 * each run of consecutive rows is one read (all in flight together): a batch drawn from a shuffled
 * order costs one read per row at worst, a sorted range one read in all.
 */
export async function gatherRowsInto(
  rows: ArrayLike<number>,
  rowBytes: number,
  out: Uint8Array,
  readRun: (start: number, end: number, target: Uint8Array) => Promise<void>,
): Promise<void> {
  const n = rows.length;
  if (out.byteLength !== n * rowBytes) throw new RangeError(`gather: ${n} rows of ${rowBytes} bytes need ${n * rowBytes} bytes, the target has ${out.byteLength}`);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => rows[a]! - rows[b]! || a - b);
  const reads: Promise<void>[] = [];
  for (let i = 0; i < n; ) {
    // A run: consecutive distinct rows (a repeated row joins the run it repeats, copied after the read).
    let j = i + 1;
    let last = rows[order[i]!]!;
    while (j < n && (rows[order[j]!]! === last || rows[order[j]!]! === last + 1)) last = rows[order[j++]!]!;
    const first = rows[order[i]!]!;
    const members = order.slice(i, j);
    const straight = members.length === last - first + 1 && members.every((m, k) => m === members[0]! + k);
    if (straight) {
      // The run lands in consecutive slots of `out`, in order: read straight into them.
      reads.push(readRun(first, last + 1, out.subarray(members[0]! * rowBytes, (members[0]! + members.length) * rowBytes)));
    } else {
      reads.push(
        (async () => {
          const staged = new Uint8Array((last + 1 - first) * rowBytes);
          await readRun(first, last + 1, staged);
          for (const m of members) {
            const from = (rows[m]! - first) * rowBytes;
            out.set(staged.subarray(from, from + rowBytes), m * rowBytes);
          }
        })(),
      );
    }
    i = j;
  }
  await Promise.all(reads);
}

/** Opens a safetensors file; tensors are read lazily. */
export async function openSafetensors(path: string): Promise<SafetensorsFile> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const lenBuf = Buffer.alloc(8);
    if (size < 8 || (await fh.read(lenBuf, 0, 8, 0)).bytesRead !== 8) throw new SafetensorsFormatError(`${path}: too short for a safetensors file`);
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen > size - 8 || headerLen > 100_000_000) throw new SafetensorsFormatError(`${path}: header length ${headerLen} exceeds file size ${size}`);
    const headerBuf = Buffer.alloc(headerLen);
    await fh.read(headerBuf, 0, headerLen, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(headerBuf.toString('utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new SafetensorsFormatError(`${path}: header is not JSON (${(e as Error).message})`);
    }
    const dataStart = 8 + headerLen;
    const tensors: Record<string, TensorSpec> = {};
    const offsets: Record<string, [number, number]> = {};
    for (const [name, entry] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const e = entry as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
      const dtype = FROM_ST[e.dtype ?? ''];
      if (!dtype || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) {
        throw new SafetensorsFormatError(`${path}: tensor "${name}" has an unsupported or malformed entry (${JSON.stringify(entry)})`);
      }
      const spec: TensorSpec = { dtype, shape: e.shape };
      const [b, en] = e.data_offsets;
      if (en - b !== byteLength(spec) || dataStart + en > size) {
        throw new SafetensorsFormatError(`${path}: tensor "${name}" offsets [${b}, ${en}] do not match its shape or the file size`);
      }
      tensors[name] = spec;
      offsets[name] = [b, en];
    }
    const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
    return new SafetensorsFile(fh, dataStart, tensors, offsets, metadata);
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** An open safetensors file: a TensorFile that also reads rows straight into a caller's buffer. */
export class SafetensorsFile implements TensorFile {
  constructor(
    private readonly fh: FileHandle,
    private readonly dataStart: number,
    readonly tensors: Readonly<Record<string, TensorSpec>>,
    private readonly offsets: Readonly<Record<string, readonly [number, number]>>,
    readonly metadata: Readonly<Record<string, string>>,
  ) {}

  private spec(name: string): TensorSpec {
    const spec = this.tensors[name];
    if (!spec) throw new Error(`no tensor "${name}" (has: ${Object.keys(this.tensors).join(', ') || 'none'})`);
    return spec;
  }

  async read(name: string): Promise<TensorData> {
    const spec = this.spec(name);
    return this.readRows(name, 0, spec.shape.length === 0 ? 1 : spec.shape[0]!);
  }

  async readRows(name: string, start: number, end: number): Promise<TensorData> {
    const spec = this.spec(name);
    const rowBytes = this.rowBytes(name);
    const buf = new Uint8Array((end - start) * rowBytes);
    await this.readRowsInto(name, start, end, buf);
    const shape = spec.shape.length === 0 ? [] : [end - start, ...spec.shape.slice(1)];
    return typedTensor(spec, shape, buf);
  }

  async gather(name: string, rows: ArrayLike<number>): Promise<TensorData> {
    const spec = this.spec(name);
    if (spec.shape.length === 0) throw new RangeError(`"${name}" is a scalar: it has no rows to gather`);
    const rowBytes = this.rowBytes(name);
    const buf = new Uint8Array(rows.length * rowBytes);
    await gatherRowsInto(rows, rowBytes, buf, (start, end, target) => this.readRowsInto(name, start, end, target));
    return typedTensor(spec, [rows.length, ...spec.shape.slice(1)], buf);
  }

  /** Bytes of one row along axis 0 (of the whole tensor for a scalar). */
  rowBytes(name: string): number {
    const spec = this.spec(name);
    return spec.shape.length === 0 ? bytesPerElement(spec.dtype) : byteLength({ dtype: spec.dtype, shape: spec.shape.slice(1) });
  }

  /** Reads rows [start, end) of one tensor into `target` (exactly their size): one positional read. */
  async readRowsInto(name: string, start: number, end: number, target: Uint8Array): Promise<void> {
    const spec = this.spec(name);
    const rows = spec.shape.length === 0 ? 1 : spec.shape[0]!;
    if (!(Number.isInteger(start) && Number.isInteger(end) && 0 <= start && start <= end && end <= rows)) {
      throw new RangeError(`rows [${start}, ${end}) out of range for "${name}" with ${rows} rows`);
    }
    const len = (end - start) * this.rowBytes(name);
    if (target.byteLength !== len) throw new RangeError(`rows [${start}, ${end}) of "${name}" take ${len} bytes, the target has ${target.byteLength}`);
    const at = this.dataStart + this.offsets[name]![0] + start * this.rowBytes(name);
    let done = 0;
    while (done < len) {
      const { bytesRead } = await this.fh.read(target, done, len - done, at + done);
      if (bytesRead === 0) throw new SafetensorsFormatError(`unexpected end of file reading "${name}"`);
      done += bytesRead;
    }
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}
