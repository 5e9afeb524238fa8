// IDX files (MNIST, Fashion-MNIST; SPEC §7.2): big-endian header `0 0 type ndim`, ndim uint32
// sizes, then the data row-major. Only unsigned-byte data (type 0x08) occurs in these datasets.
// Sizes are checked before memory is given to them: a header may declare at most IDX_MAX_BYTES, and
// gzip is inflated as a stream that stops where the header says the data ends, so a bomb (a few MB
// of gzip that inflate to GBs, declared or not) costs no more than the data it claims to be.
import { createGunzip } from 'node:zlib';
import { DataError } from './errors.js';

export interface IdxArray {
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

/**
 * The most data bytes one IDX file may declare: 1 GiB, 20 times MNIST's largest file (47 MB), far
 * below what would exhaust a machine's memory.
 */
export const IDX_MAX_BYTES = 2 ** 30;

/** Deflate cannot inflate one byte to more than ~1032 (258-byte matches in 2-bit codes). */
const MAX_DEFLATE_RATIO = 1032;

/** Bytes per element of each supported IDX data type. */
const ELEMENT_BYTES: Readonly<Record<number, number>> = { 0x08: 1 };

interface IdxHeader {
  readonly dims: readonly number[];
  readonly headerBytes: number;
  readonly dataBytes: number;
}

/** Accepts raw or gzipped IDX bytes (gzip is recognized by its magic number, not by the name). */
export async function decodeIdx(bytes: Uint8Array, label: string, maxBytes = IDX_MAX_BYTES): Promise<IdxArray> {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return parseIdx(await inflateIdx(bytes, label, maxBytes), label, maxBytes);
  return parseIdx(bytes, label, maxBytes);
}

export function parseIdx(bytes: Uint8Array, label: string, maxBytes = IDX_MAX_BYTES): IdxArray {
  const header = readHeader(bytes, label, maxBytes);
  if (header === undefined) {
    if (bytes.length < 4) throw new DataError('bad_format', `${label} is not an IDX file (bad magic number)`);
    throw new DataError('truncated', `${label}: IDX header is truncated`);
  }
  const { dims, headerBytes, dataBytes: expected } = header;
  const actual = bytes.length - headerBytes;
  if (actual < expected) {
    throw new DataError('truncated', `${label} is truncated: header promises ${expected} bytes of data (${dims.join('×')}), found ${actual}`);
  }
  if (actual > expected) {
    throw new DataError('bad_format', `${label} has ${actual - expected} bytes after the ${dims.join('×')} data its header declares`);
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

/**
 * The header, once `bytes` holds all of it (undefined before); throws when what is there already
 * shows the file is not IDX, or declares more than `maxBytes` of data.
 */
function readHeader(bytes: Uint8Array, label: string, maxBytes: number): IdxHeader | undefined {
  if ((bytes.length > 0 && bytes[0] !== 0) || (bytes.length > 1 && bytes[1] !== 0)) {
    throw new DataError('bad_format', `${label} is not an IDX file (bad magic number)`);
  }
  if (bytes.length < 4) return undefined;
  const elementBytes = ELEMENT_BYTES[bytes[2]!];
  if (elementBytes === undefined) {
    throw new DataError('bad_format', `${label}: IDX data type 0x${bytes[2]!.toString(16)} is not supported (only unsigned bytes, 0x08)`);
  }
  const ndim = bytes[3]!;
  if (ndim === 0) throw new DataError('bad_format', `${label}: IDX header declares no dimensions`);
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
  // Multiplied only while within the limit (so no overflow, whatever the header says); a zero dimension means no data.
  let dataBytes = dims.includes(0) ? 0 : elementBytes;
  for (const d of dims) {
    if (dataBytes > maxBytes) break;
    dataBytes *= d;
  }
  if (dataBytes > maxBytes) {
    throw new DataError(
      'bad_format',
      `${label}: IDX header declares ${dims.join('×')} bytes of data, more than the ${maxBytes.toLocaleString('en-US')}-byte limit for one IDX file (IDX_MAX_BYTES); refused before reading it`,
    );
  }
  return { dims, headerBytes, dataBytes };
}

/**
 * Inflates gzipped IDX bytes as a stream, stopping as soon as the output is known to be wrong: a
 * header over the limit, data beyond what the header declares, or a declared size the compressed
 * bytes could not hold. Memory stays within the declared size (and the limit) whatever the gzip holds.
 */
async function inflateIdx(bytes: Uint8Array, label: string, maxBytes: number): Promise<Uint8Array> {
  const gunzip = createGunzip();
  gunzip.end(bytes);
  const chunks: Buffer[] = [];
  let length = 0;
  let expected: number | undefined;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.length;
      if (expected === undefined) {
        const header = readHeader(chunks.length === 1 ? chunk : Buffer.concat(chunks), label, maxBytes);
        if (header !== undefined) {
          expected = header.headerBytes + header.dataBytes;
          if (expected > bytes.length * MAX_DEFLATE_RATIO) {
            throw new DataError(
              'truncated',
              `${label}: IDX header declares ${header.dims.join('×')} (${header.dataBytes.toLocaleString('en-US')} bytes), more than ${bytes.length.toLocaleString('en-US')} bytes of gzip can hold`,
            );
          }
        }
      }
      if (expected !== undefined && length > expected) {
        throw new DataError(
          'bad_format',
          `${label}: gzip data inflates past the ${expected.toLocaleString('en-US')} bytes its IDX header declares; refused (a gzip bomb, or a corrupt file)`,
        );
      }
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    const message = e instanceof Error ? e.message : String(e);
    const reason = /unexpected end/i.test(message) ? 'truncated' : 'bad_format';
    throw new DataError(reason, `${label}: gzip data is ${reason === 'truncated' ? 'truncated' : 'corrupt'} (${message})`, { cause: e });
  } finally {
    gunzip.destroy();
  }
  const raw = Buffer.concat(chunks, length);
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
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
