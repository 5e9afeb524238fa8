// Pixel permutations (SPEC §1.3): a "pixel" is a spatial position, so a pixel's channels move
// together. A permutation may be confined to the centre region the training crop keeps, which
// is the same as permuting after the crop while keeping the stored size.
import type { Rng } from '../util/random.js';
import type { ImageShape } from './dataset.js';

/** Where a permutation acts: the centre `[height, width]` of each image. */
export interface Region {
  readonly top: number;
  readonly left: number;
  readonly height: number;
  readonly width: number;
}

export function centreRegion(shape: ImageShape, size?: readonly [number, number]): Region {
  const [height, width] = size ?? [shape.height, shape.width];
  if (height > shape.height || width > shape.width || height < 1 || width < 1) {
    throw new RangeError(`region ${height}×${width} does not fit ${shape.height}×${shape.width} images`);
  }
  return { top: (shape.height - height) >> 1, left: (shape.width - width) >> 1, height, width };
}

/**
 * A source map over all H·W positions: output position q takes input position map[q]. Positions
 * outside the region map to themselves; inside, a uniformly random permutation of the region.
 */
export function randomPositionMap(shape: ImageShape, region: Region, rng: Rng, out?: Uint32Array): Uint32Array {
  const map = out ?? new Uint32Array(shape.height * shape.width);
  for (let q = 0; q < map.length; q++) map[q] = q;
  const inside = new Uint32Array(region.height * region.width);
  let k = 0;
  for (let r = 0; r < region.height; r++) {
    for (let c = 0; c < region.width; c++) inside[k++] = (region.top + r) * shape.width + region.left + c;
  }
  const shuffled = rng.shuffle(Uint32Array.from(inside));
  for (let j = 0; j < inside.length; j++) map[inside[j]!] = shuffled[j]!;
  return map;
}

/** Applies one position map to `count` NHWC images, from `x` into `out` (which must not alias `x`). */
export function applyPositionMap(
  x: Uint8Array,
  out: Uint8Array,
  count: number,
  channels: number,
  map: Uint32Array,
): void {
  const imageBytes = map.length * channels;
  for (let i = 0; i < count; i++) {
    const base = i * imageBytes;
    for (let q = 0; q < map.length; q++) {
      const dst = base + q * channels;
      const src = base + map[q]! * channels;
      for (let c = 0; c < channels; c++) out[dst + c] = x[src + c]!;
    }
  }
}
