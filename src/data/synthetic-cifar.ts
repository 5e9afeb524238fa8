// Synthetic CIFAR-10 binary archives: ustar headers written by hand (so tests can also forge
// unsafe entries) and a full-size archive (50,000 + 10,000 records of seeded random bytes) for the
// peak-memory check in scripts/profile/cifar-memory.ts. Random bytes keep gzip from shrinking it.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import { Rng } from '../util/random.js';
import { CIFAR_RECORD_BYTES } from './cifar.js';

export interface TarEntry {
  readonly name: string;
  readonly type?: 'file' | 'dir' | 'symlink' | 'hardlink';
  readonly data?: Uint8Array;
  readonly linkname?: string;
}

const TYPEFLAG = { file: '0', hardlink: '1', symlink: '2', dir: '5' } as const;

/** A ustar header for one entry. */
export function tarHeader(entry: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (s: string, at: number, len: number): void => void h.write(s.slice(0, len), at, len, 'latin1');
  const octal = (n: number, len: number): string => n.toString(8).padStart(len - 1, '0') + '\0';
  put(entry.name, 0, 100);
  put(octal(entry.type === 'dir' ? 0o755 : 0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(0, 12), 136, 12);
  put(TYPEFLAG[entry.type ?? 'file'], 156, 1);
  put(entry.linkname ?? '', 157, 100);
  put('ustar\u000000', 257, 8);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

const RECORDS = 10_000;
const FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'];

/** Writes a full-size CIFAR-10 binary archive (about 184 MB) to `path`. */
export async function buildSyntheticCifar(path: string): Promise<void> {
  const gzip = createGzip({ level: 1 });
  const out = gzip.pipe(createWriteStream(path));
  const write = async (b: Uint8Array): Promise<void> => {
    if (!gzip.write(b)) await once(gzip, 'drain');
  };
  const rng = Rng.derive(0, 'cifar-memory');
  for (const name of FILES) {
    const size = RECORDS * CIFAR_RECORD_BYTES;
    await write(tarHeader({ name: `cifar-10-batches-bin/${name}` }, size));
    for (let r = 0; r < RECORDS; r += 1000) {
      const chunk = new Uint8Array(1000 * CIFAR_RECORD_BYTES);
      const words = new Uint32Array(chunk.buffer, 0, Math.floor(chunk.length / 4));
      for (let k = 0; k < words.length; k++) words[k] = rng.nextU32();
      for (let i = 0; i < 1000; i++) chunk[i * CIFAR_RECORD_BYTES] = rng.int(10);
      await write(chunk);
    }
    await write(new Uint8Array((512 - (size % 512)) % 512));
  }
  await write(new Uint8Array(1024));
  gzip.end();
  await once(out, 'finish');
}

