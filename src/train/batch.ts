// Turns stored images (0–255, NHWC) into one float32 training or evaluation batch, in plain JS:
// optional seeded augmentation (random crop from a zero-padded image, flip, small rotation), then
// the data stage's shared pipeline (src/data/preprocess.ts: ÷255, centre crop, per-image
// standardization), or TF-Slim's Inception pipeline (./inception-preprocess.ts) when asked for. Stored
// data stays uint8; only a batch is ever float.
import { preprocessBatch } from '../data/preprocess.js';
import { inceptionBatch } from './inception-preprocess.js';
import type { Batch } from '../data/preprocess.js';
import type { Rng } from '../util/random.js';
import type { Augmentation, ImageSet, Preprocessing } from './types.js';

export interface BatchShape {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

/** The network's input shape for stored images of `shape` under `pre`. */
export function batchShape(shape: ImageSet['shape'], pre: Preprocessing): BatchShape {
  const [, h, w, c] = shape;
  const [oh, ow] = pre.crop ?? [h, w];
  // The Inception pipeline resizes, so its output may be larger than the stored images.
  if (pre.inception === true) return { height: oh, width: ow, channels: c };
  if (oh > h || ow > w) throw new RangeError(`crop ${oh}x${ow} is larger than the ${h}x${w} images`);
  return { height: oh, width: ow, channels: c };
}

/** One image's geometry: crop origin in the stored image (may be negative: padding), mirror, rotation in radians. */
interface Warp {
  readonly oy: number;
  readonly ox: number;
  readonly flip: boolean;
  readonly angle: number;
}

function drawWarp(set: ImageSet, out: BatchShape, aug: Augmentation | null, rng: Rng | null): Warp {
  const [, h, w] = set.shape;
  const centre = { oy: (h - out.height) >> 1, ox: (w - out.width) >> 1 };
  if (aug === null || rng === null) return { ...centre, flip: false, angle: 0 };
  // Draws happen in a fixed order whatever is enabled, so toggling one option keeps the others' draws.
  const ry = rng.int(h + 2 * aug.pad - out.height + 1) - aug.pad;
  const rx = rng.int(w + 2 * aug.pad - out.width + 1) - aug.pad;
  const flip = rng.next() < 0.5;
  const angle = (rng.next() * 2 - 1) * aug.rotateDegrees * (Math.PI / 180);
  return {
    oy: aug.randomCrop ? ry : centre.oy,
    ox: aug.randomCrop ? rx : centre.ox,
    flip: aug.flip && flip,
    angle: aug.rotateDegrees > 0 ? angle : 0,
  };
}

/**
 * The batch of `set`'s images at `indices`, as [indices.length, H', W', C] float32 ready for the network.
 * `rng` is required when `aug` is set; pass null for evaluation (centre crop, no augmentation).
 */
export function makeBatch(set: ImageSet, indices: ArrayLike<number>, pre: Preprocessing, aug: Augmentation | null, rng: Rng | null, out?: Float32Array): Batch {
  const shape = batchShape(set.shape, pre);
  const [, h, w, c] = set.shape;
  const b = indices.length;
  if (pre.inception === true) {
    if (aug !== null && aug.inception !== true) throw new RangeError('the Inception preprocessing takes only the Inception augmentation');
    return inceptionBatch(set, indices, shape.height, shape.width, aug === null ? null : rng);
  }
  if (aug?.inception === true) throw new RangeError('the Inception augmentation needs the Inception preprocessing');
  const standardize = { standardize: pre.standardize, ...(out === undefined ? {} : { out }) };
  if (aug === null || rng === null) {
    // Gather the rows (unless they already are the batch, in order: a streamed batch is read so),
    // then the shared pipeline crops (centre), scales and standardizes.
    const per = h * w * c;
    let gathered = set.images.subarray(0, b * per);
    if (!inOrder(set, indices)) {
      gathered = set.images instanceof Uint8Array ? new Uint8Array(b * per) : new Float32Array(b * per);
      for (let i = 0; i < b; i++) gathered.set(set.images.subarray(indices[i]! * per, (indices[i]! + 1) * per), i * per);
    }
    return preprocessBatch(gathered, [b, h, w, c], pre.crop === null ? standardize : { ...standardize, crop: pre.crop });
  }
  // Augmented: warp each image into the crop window first (padding, flip, rotation need more than a
  // crop origin), then let the shared pipeline scale and standardize.
  const per = shape.height * shape.width * c;
  const warped = new Float32Array(b * per);
  for (let i = 0; i < b; i++) copyImage(warped.subarray(i * per, (i + 1) * per), set, indices[i]!, shape, drawWarp(set, shape, aug, rng));
  return preprocessBatch(warped, [b, shape.height, shape.width, c], standardize);
}

/** Whether `indices` are 0, 1, …, n − 1 over a set of exactly n images: the batch is the set itself. */
function inOrder(set: ImageSet, indices: ArrayLike<number>): boolean {
  if (indices.length !== set.shape[0]) return false;
  for (let i = 0; i < indices.length; i++) if (indices[i] !== i) return false;
  return true;
}

function copyImage(out: Float32Array, set: ImageSet, index: number, s: BatchShape, warp: Warp): void {
  const [, h, w, c] = set.shape;
  const src = set.images;
  const base = index * h * w * c;
  if (warp.angle === 0) {
    // Integer offsets: a straight copy, zero outside the stored image (the padding).
    for (let y = 0; y < s.height; y++) {
      const sy = y + warp.oy;
      for (let x = 0; x < s.width; x++) {
        const sx = warp.flip ? warp.ox + s.width - 1 - x : x + warp.ox;
        const o = (y * s.width + x) * c;
        if (sy < 0 || sy >= h || sx < 0 || sx >= w) {
          for (let k = 0; k < c; k++) out[o + k] = 0;
        } else {
          const i = base + (sy * w + sx) * c;
          for (let k = 0; k < c; k++) out[o + k] = src[i + k]!;
        }
      }
    }
    return;
  }
  // Rotation about the crop centre, bilinear, zero fill: inverse-map each output pixel into the source.
  const cy = warp.oy + (s.height - 1) / 2;
  const cx = warp.ox + (s.width - 1) / 2;
  const cos = Math.cos(warp.angle);
  const sin = Math.sin(warp.angle);
  for (let y = 0; y < s.height; y++) {
    for (let x = 0; x < s.width; x++) {
      const dy = y - (s.height - 1) / 2;
      const dx0 = x - (s.width - 1) / 2;
      const dx = warp.flip ? -dx0 : dx0;
      const fy = cy + cos * dy - sin * dx;
      const fx = cx + sin * dy + cos * dx;
      const y0 = Math.floor(fy);
      const x0 = Math.floor(fx);
      const ty = fy - y0;
      const tx = fx - x0;
      const o = (y * s.width + x) * c;
      for (let k = 0; k < c; k++) {
        const at = (yy: number, xx: number): number => (yy < 0 || yy >= h || xx < 0 || xx >= w ? 0 : src[base + (yy * w + xx) * c + k]!);
        out[o + k] =
          (1 - ty) * ((1 - tx) * at(y0, x0) + tx * at(y0, x0 + 1)) + ty * ((1 - tx) * at(y0 + 1, x0) + tx * at(y0 + 1, x0 + 1));
      }
    }
  }
}

