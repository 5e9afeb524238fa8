// IDX files (MNIST, Fashion-MNIST; SPEC §7.2): big-endian header `0 0 type ndim`, ndim uint32
// sizes, then the data row-major. Only unsigned-byte data (type 0x08) occurs in these datasets.
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { DataError } from './errors.js';

export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

const gunzipAsync = promisify(gunzip);

/** Accepts raw or gzipped IDX bytes (gzip is recognized by its magic number, not by the name). */
export async function decodeIdx(bytes: Uint8Array, label: string): Promise<IdxArray> {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const raw = await gunzipAsync(bytes).catch((e: unknown) => {
      const message = e instanceof Error ? e.message : String(e);
      const reason = /unexpected end/i.test(message) ? 'truncated' : 'bad_format';
      throw new DataError(reason, `${label}: gzip data is ${reason === 'truncated' ? 'truncated' : 'corrupt'} (${message})`, { cause: e });
    });
    return parseIdx(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), label);
  }
  return parseIdx(bytes, label);
}

export function parseIdx(bytes: Uint8Array, label: string): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError('bad_format', `${label} is not an IDX file (bad magic number)`);
  }
  if (bytes[2] !== 0x08) {
    throw new DataError('bad_format', `${label}: IDX data type 0x${bytes[2]!.toString(16)} is not supported (only unsigned bytes, 0x08)`);
  }
  const ndim = bytes[3]!;
  const headerBytes = 4 + 4 * ndim;
  if (ndim === 0 || bytes.length < headerBytes) throw new DataError('truncated', `${label}: IDX header is truncated`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerBytes;
  if (actual < expected) {
    throw new DataError('truncated', `${label} is truncated: header promises ${expected} bytes of data (${dims.join('×')}), found ${actual}`);
  }
  if (actual > expected) {
    throw new DataError('bad_format', `${label} has ${actual - expected} bytes after the ${dims.join('×')} data its header declares`);
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/** Pairs an IDX image file [N,H,W] (or [N,H,W,C]) with its label file [N]. */
export function idxSplit(images: IdxArray, labels: IdxArray, label: string): {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly x: Uint8Array;
  readonly y: Int32Array;
} {
  if (images.dims.length !== 3 && images.dims.length !== 4) {
    throw new DataError('bad_format', `${label}: images must be [N,H,W] or [N,H,W,C], got [${images.dims.join(',')}]`);
  }
  if (labels.dims.length !== 1 || labels.dims[0] !== images.dims[0]) {
    throw new DataError('bad_format', `${label}: ${labels.dims[0]} labels for ${images.dims[0]} images`);
  }
  const [, height = 0, width = 0, channels = 1] = images.dims;
  return { height, width, channels, x: images.data, y: Int32Array.from(labels.data) };
}
