// Image geometry changes that keep every pixel: zero-padding (or any fill) centred to a larger
// height × width, and replicating a single channel to several. Used to give Fashion-MNIST and MNIST
// (28×28×1) the paper's CIFAR-10 geometry (32×32×3), so that its 28×28 crop and models apply as
// printed (SPEC §2.4: MLP 1x512 has 2352 = 28·28·3 inputs).
import type { ImageShape } from './dataset.js';

/** The side of the centre (test) or random (train) crop the paper takes of its 32×32 images (SPEC §2.1). */
export const PAPER_CROP = 28;

export interface PadGeometry {
  readonly from: ImageShape;
  readonly to: ImageShape;
  /** Rows and columns of fill above and to the left; the rest goes below and to the right. */
  readonly top: number;
  readonly left: number;
  /** The byte written into the border. */
  readonly fill: number;
}

/**
 * The geometry that takes `from` images to `height × width × channels`: the image centred (an odd
 * difference puts the extra row or column below or on the right), each channel copied from the one
 * channel of a grayscale image. Throws a RangeError for a smaller target or a channel count that
 * is neither the source's nor a replication of one channel.
 */
export function padGeometry(from: ImageShape, to: ImageShape, fill = 0): PadGeometry {
  if (to.height < from.height || to.width < from.width) {
    throw new RangeError(`cannot pad ${from.height}×${from.width} images to the smaller ${to.height}×${to.width}`);
  }
  if (to.channels !== from.channels && from.channels !== 1) {
    throw new RangeError(`cannot turn ${from.channels}-channel images into ${to.channels} channels: only 1 channel can be replicated`);
  }
  if (!Number.isInteger(fill) || fill < 0 || fill > 255) throw new RangeError(`fill ${fill} is not a byte (0–255)`);
  return { from, to, top: (to.height - from.height) >> 1, left: (to.width - from.width) >> 1, fill };
}

export function isIdentity(g: PadGeometry): boolean {
  return g.from.height === g.to.height && g.from.width === g.to.width && g.from.channels === g.to.channels;
}

/** Applies `g` to `count` NHWC images in `x`; returns the new images (a fresh array). */
export function applyPadGeometry(g: PadGeometry, x: Uint8Array, count: number): Uint8Array {
  const { from, to } = g;
  const inSize = from.height * from.width * from.channels;
  const outSize = to.height * to.width * to.channels;
  if (x.length !== count * inSize) throw new RangeError(`expected ${count} images of ${inSize} bytes, got ${x.length} bytes`);
  const out = new Uint8Array(count * outSize);
  if (g.fill !== 0) out.fill(g.fill);
  const replicate = from.channels !== to.channels;
  for (let i = 0; i < count; i++) {
    const src = i * inSize;
    const dst = i * outSize;
    for (let r = 0; r < from.height; r++) {
      const inRow = src + r * from.width * from.channels;
      const outRow = dst + ((g.top + r) * to.width + g.left) * to.channels;
      if (!replicate) {
        out.set(x.subarray(inRow, inRow + from.width * from.channels), outRow);
        continue;
      }
      for (let c = 0; c < from.width; c++) {
        const v = x[inRow + c]!;
        const o = outRow + c * to.channels;
        for (let k = 0; k < to.channels; k++) out[o + k] = v;
      }
    }
  }
  return out;
}
