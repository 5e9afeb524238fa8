// CIFAR-10 binary format (SPEC §7.1): records of 1 label byte + 3072 pixel bytes, channel-major
// (1024 R, 1024 G, 1024 B, each row-major 32×32); we store images NHWC.
import type { TarFileSink } from './tar.js';
import { DataError } from './errors.js';

export const CIFAR_SIDE = 32;
export const CIFAR_PIXELS = CIFAR_SIDE * CIFAR_SIDE;
export const CIFAR_IMAGE_BYTES = CIFAR_PIXELS * 3;
export const CIFAR_RECORD_BYTES = CIFAR_IMAGE_BYTES + 1;
export const CIFAR10_CLASSES = [
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
] as const;
export const CIFAR_TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
export const CIFAR_TEST_FILE = 'test_batch.bin';
export const CIFAR_META_FILE = 'batches.meta.txt';

/** One decoded batch file. */
export interface CifarBatch {
  readonly x: Uint8Array;
  readonly y: Int32Array;
}

/** Converts one channel-major record (without its label byte) to HWC at `out[offset..]`. */
export function recordToHwc(record: Uint8Array, recordOffset: number, out: Uint8Array, offset: number): void {
  for (let p = 0; p < CIFAR_PIXELS; p++) {
    const o = offset + p * 3;
    out[o] = record[recordOffset + p]!;
    out[o + 1] = record[recordOffset + CIFAR_PIXELS + p]!;
    out[o + 2] = record[recordOffset + 2 * CIFAR_PIXELS + p]!;
  }
}

/**
 * A tar sink that decodes a batch file's records as they stream in, straight into its final
 * NHWC buffer, so the archive's bytes are never held beyond one partial record.
 */
export class CifarBatchSink implements TarFileSink {
  readonly x: Uint8Array;
  readonly y: Int32Array;
  private readonly carry = new Uint8Array(CIFAR_RECORD_BYTES);
  private carried = 0;
  private count = 0;
  private done = false;

  constructor(
    readonly name: string,
    size: number,
    private readonly classCount: number,
  ) {
    if (size % CIFAR_RECORD_BYTES !== 0) {
      throw new DataError(
        'bad_format',
        `${name} is ${size} bytes, not a whole number of ${CIFAR_RECORD_BYTES}-byte CIFAR records (is this the binary version?)`,
      );
    }
    const records = size / CIFAR_RECORD_BYTES;
    this.x = new Uint8Array(records * CIFAR_IMAGE_BYTES);
    this.y = new Int32Array(records);
  }

  get complete(): boolean {
    return this.done;
  }

  data(chunk: Buffer): void {
    let pos = 0;
    if (this.carried > 0) {
      const take = Math.min(CIFAR_RECORD_BYTES - this.carried, chunk.length);
      this.carry.set(chunk.subarray(0, take), this.carried);
      this.carried += take;
      pos = take;
      if (this.carried < CIFAR_RECORD_BYTES) return;
      this.decode(this.carry, 0);
      this.carried = 0;
    }
    while (pos + CIFAR_RECORD_BYTES <= chunk.length) {
      this.decode(chunk, pos);
      pos += CIFAR_RECORD_BYTES;
    }
    if (pos < chunk.length) {
      this.carry.set(chunk.subarray(pos), 0);
      this.carried = chunk.length - pos;
    }
  }

  end(): void {
    if (this.carried !== 0 || this.count !== this.y.length) {
      throw new DataError('truncated', `${this.name} ended after ${this.count} of ${this.y.length} records`);
    }
    this.done = true;
  }

  private decode(bytes: Uint8Array, pos: number): void {
    if (this.count >= this.y.length) throw new DataError('bad_format', `${this.name} has more records than its size says`);
    const label = bytes[pos]!;
    if (label >= this.classCount) {
      throw new DataError('bad_format', `${this.name} record ${this.count} has label ${label}, expected 0..${this.classCount - 1}`);
    }
    this.y[this.count] = label;
    recordToHwc(bytes, pos + 1, this.x, this.count * CIFAR_IMAGE_BYTES);
    this.count++;
  }
}

/** Class names from `batches.meta.txt` (one per line, blank lines ignored). */
export function parseCifarMeta(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
}
