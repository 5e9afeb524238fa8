// Where training and evaluation get their images: an ImageSet in memory, or a dataset artifact read
// batch by batch (each batch's rows gathered with positional reads, coalesced where adjacent, across
// shards: the page cache holds the data, not the heap). Labels are always in memory (4 bytes an
// image), so a label stays with its image whatever order the images are read in. Batches are read
// one ahead: the next batch's reads run while the current step computes, and at most two batches of
// images are held at once, whatever the dataset's size.
import type { TensorFile } from '../tensors/types.js';
import type { ImageSet } from './types.js';

export interface ImageSource {
  /** [N, H, W, C] of the whole set. */
  readonly shape: ImageSet['shape'];
  readonly labels: Int32Array;
  /** The images at `indices` (any order), as an ImageSet of those rows in that order. */
  rows(indices: ArrayLike<number>): Promise<ImageSet>;
}

/** A source, or an in-memory set read as one. */
export type Images = ImageSource | ImageSet;

export function isSource(images: Images): images is ImageSource {
  return 'rows' in images;
}

/** An in-memory set as a source: rows are copied out (uint8, one batch at a time). */
export function memorySource(set: ImageSet): ImageSource {
  const [, h, w, c] = set.shape;
  const per = h * w * c;
  return {
    shape: set.shape,
    labels: set.labels,
    rows: async (indices) => {
      const b = indices.length;
      const images = set.images instanceof Uint8Array ? new Uint8Array(b * per) : new Float32Array(b * per);
      const labels = new Int32Array(b);
      for (let i = 0; i < b; i++) {
        images.set(set.images.subarray(indices[i]! * per, (indices[i]! + 1) * per), i * per);
        labels[i] = set.labels[indices[i]!]!;
      }
      return { images, shape: [b, h, w, c], labels };
    },
  };
}

export function asSource(images: Images): ImageSource {
  return isSource(images) ? images : memorySource(images);
}

/**
 * One split of an open dataset artifact (one file or sharded) as a source; only its labels are read
 * now. The file must stay open while the source is used.
 */
export async function fileSource(file: TensorFile, split: 'train' | 'test'): Promise<ImageSource> {
  const x = file.tensors[`x_${split}`];
  if (x === undefined) throw new Error(`dataset has no x_${split}`);
  if (x.shape.length !== 4) throw new Error(`x_${split} must be [N,H,W,C], got [${x.shape}]`);
  if (x.dtype !== 'uint8' && x.dtype !== 'float32') throw new Error(`x_${split} must be uint8 or float32, got ${x.dtype}`);
  const y = await file.read(`y_${split}`);
  const labels = y.data instanceof Int32Array ? y.data : Int32Array.from(y.data as ArrayLike<number>);
  const [n, h, w, c] = x.shape as [number, number, number, number];
  if (labels.length !== n) throw new Error(`y_${split} has ${labels.length} labels for ${n} images`);
  return {
    shape: [n, h, w, c],
    labels,
    rows: async (indices) => {
      const t = await file.gather(`x_${split}`, indices);
      const images = t.data as Uint8Array | Float32Array;
      const picked = new Int32Array(indices.length);
      for (let i = 0; i < indices.length; i++) picked[i] = labels[indices[i]!]!;
      return { images, shape: [indices.length, h, w, c], labels: picked };
    },
  };
}

/** 0..n-1: where a batch's own rows are, once read. */
export function identityIndices(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

/** The indices of each batch of `order`, `batchSize` at a time (the last may be short). */
export function batchIndices(order: Uint32Array, batchSize: number, step: number): Uint32Array {
  return order.subarray(step * batchSize, Math.min(order.length, (step + 1) * batchSize));
}

/**
 * The batches of `order` read from `source`, each read started while the one before is in use.
 * Break out early and call `return()` (a for-await does): the read in flight is then let go.
 */
export async function* readAhead(source: ImageSource, order: Uint32Array, batchSize: number): AsyncGenerator<ImageSet> {
  const steps = Math.ceil(order.length / batchSize);
  let ahead: Promise<ImageSet> | undefined = steps > 0 ? source.rows(batchIndices(order, batchSize, 0)) : undefined;
  try {
    for (let step = 0; step < steps; step++) {
      const batch: ImageSet = await ahead!;
      ahead = step + 1 < steps ? source.rows(batchIndices(order, batchSize, step + 1)) : undefined;
      yield batch;
    }
  } finally {
    ahead?.catch(() => undefined);
  }
}
