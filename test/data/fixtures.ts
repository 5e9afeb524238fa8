// Test fixtures for the data stages: hand-built tar archives (so tests can forge unsafe entries),
// CIFAR-format records, IDX files, and a loopback HTTP server.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { constants, crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { Rng } from '../../src/util/random.js';
import { CIFAR_IMAGE_BYTES, CIFAR_RECORD_BYTES } from '../../src/data/cifar.js';
import { tarHeader, type TarEntry } from '../../src/data/synthetic-cifar.js';

export type { TarEntry };

export function buildTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.type === 'file' || e.type === undefined ? (e.data ?? new Uint8Array(0)) : new Uint8Array(0);
    parts.push(tarHeader(e, data.length), Buffer.from(data), Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function buildTarGz(entries: readonly TarEntry[]): Buffer {
  return gzipSync(buildTar(entries));
}

/** `count` seeded CIFAR records; returns the records and the images/labels they encode (CHW order). */
export function cifarRecords(count: number, seed: number): { readonly bytes: Uint8Array; readonly labels: number[] } {
  const rng = Rng.derive(seed, 'cifar-fixture');
  const bytes = new Uint8Array(count * CIFAR_RECORD_BYTES);
  const labels: number[] = [];
  for (let i = 0; i < count; i++) {
    const label = rng.int(10);
    labels.push(label);
    bytes[i * CIFAR_RECORD_BYTES] = label;
    for (let k = 1; k <= CIFAR_IMAGE_BYTES; k++) bytes[i * CIFAR_RECORD_BYTES + k] = rng.int(256);
  }
  return { bytes, labels };
}

export const CIFAR_META = 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n';

/** A small CIFAR-10 binary archive: `perBatch` records in each of the six batch files. */
export function smallCifarArchive(perBatch: number, extra: readonly TarEntry[] = []): Buffer {
  const dir = 'cifar-10-batches-bin/';
  // Deliberately out of order, like the official archive, to show the order does not matter.
  const names = ['data_batch_1', 'data_batch_3', 'data_batch_4', 'test_batch', 'data_batch_2', 'data_batch_5'];
  return buildTarGz([
    { name: dir, type: 'dir' },
    { name: `${dir}batches.meta.txt`, data: Buffer.from(CIFAR_META) },
    ...names.map((n, i) => ({ name: `${dir}${n}.bin`, data: cifarRecords(perBatch, i).bytes })),
    { name: `${dir}readme.html`, data: Buffer.from('<html></html>') },
    ...extra,
  ]);
}

/** The fixture seed used for each batch file in `smallCifarArchive`. */
export const CIFAR_FIXTURE_SEEDS: Readonly<Record<string, number>> = {
  data_batch_1: 0, data_batch_3: 1, data_batch_4: 2, test_batch: 3, data_batch_2: 4, data_batch_5: 5,
};

/** An IDX file of unsigned bytes. */
export function idxBytes(dims: readonly number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

/**
 * A real gzip bomb: `head` followed by `zeroMiB` MiB of zeros, about 1 KB of gzip per MiB (deflate's
 * limit is ~1032:1). It is built from one compressed MiB of zeros repeated: each piece is its own
 * byte-aligned, non-final deflate block sequence (a full flush resets the window), so copies chain;
 * the trailer's CRC and length are the real ones (length mod 2³², as gzip stores it).
 */
export function gzipBomb(head: Uint8Array, zeroMiB: number): Buffer {
  const MiB = 1 << 20;
  const zeros = Buffer.alloc(MiB);
  const piece = (b: Uint8Array) => deflateRawSync(b, { finishFlush: constants.Z_FULL_FLUSH, level: 9 });
  const block = piece(zeros);
  let crc = crc32(head);
  for (let i = 0; i < zeroMiB; i++) crc = crc32(zeros, crc);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE((head.length + zeroMiB * MiB) % 2 ** 32, 4);
  const gzipHeader = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
  const finalEmptyBlock = Buffer.from([0x03, 0x00]); // BFINAL, fixed Huffman, end of block
  return Buffer.concat([gzipHeader, piece(head), ...Array<Buffer>(zeroMiB).fill(block), finalEmptyBlock, trailer]);
}

export interface Served {
  readonly url: (path: string) => string;
  readonly requests: string[];
  close(): Promise<void>;
}

/**
 * Serves `files` on 127.0.0.1. A file served with `truncateTo` announces its full length but
 * sends only that many bytes, as a dropped connection would.
 */
export async function serve(files: Readonly<Record<string, { readonly body: Uint8Array; readonly truncateTo?: number }>>): Promise<Served> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/^\//, '');
    requests.push(path);
    const file = files[path];
    if (!file) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': String(file.body.length), 'content-type': 'application/octet-stream' });
    if (file.truncateTo !== undefined) {
      res.write(file.body.subarray(0, file.truncateTo), () => res.destroy());
      return;
    }
    res.end(file.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}/${path}`,
    requests,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
