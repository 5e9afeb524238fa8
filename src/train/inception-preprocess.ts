// TF-Slim's Inception preprocessing (`preprocessing/inception_preprocessing.py`), the input pipeline the
// paper reused for Inception V3 on ImageNet (SPEC §3.1), on stored 0–255 NHWC images in plain JS.
//   train: a random box as tf.image.sample_distorted_bounding_box draws it (the whole image as the
//          object, min_object_covered 0.1, aspect ratio 3/4–4/3, area 5–100%, 100 attempts, else the
//          whole image), resized to the network's input, a random left-right flip, colour distortion
//          (brightness ±32/255, saturation ×0.5–1.5, hue ±0.2, contrast ×0.5–1.5, in one of slim's
//          four orders, then clipped to [0, 1]), and scaled to [−1, 1];
//   eval:  tf.image.central_crop of 87.5%, resized, scaled to [−1, 1].
// Every draw comes from the caller's seeded Rng, in a fixed order per image, so a run replays exactly.
// Two simplifications, both slim's `fast_mode` choices for the resize: always bilinear (slim picks one
// of four methods at random), with half-pixel centres (TF 2's tf.image.resize). No library does this
// on plain arrays, and the batch must stay on the JS side with the rest of the input pipeline.
import type { Rng } from '../util/random.js';
import type { Batch } from '../data/preprocess.js';
import type { ImageSet } from './types.js';

/** tf.image.central_crop's fraction in slim's preprocess_for_eval. */
export const INCEPTION_CENTRAL_FRACTION = 0.875;

/** sample_distorted_bounding_box's arguments in slim's distorted_bounding_box_crop. */
const BOX = { minObjectCovered: 0.1, aspect: [3 / 4, 4 / 3], area: [0.05, 1], maxAttempts: 100 } as const;
const BRIGHTNESS = 32 / 255;
const SATURATION = [0.5, 1.5] as const;
const HUE = 0.2;
const CONTRAST = [0.5, 1.5] as const;

/** A crop window in the stored image, in whole pixels. */
export interface Box {
  readonly y: number;
  readonly x: number;
  readonly height: number;
  readonly width: number;
}

const uniform = (rng: Rng, lo: number, hi: number): number => lo + (hi - lo) * rng.next();

/**
 * tf.image.sample_distorted_bounding_box for an image of `height`×`width` whose object is the whole
 * image (slim's default box), following TF's kernel: per attempt an aspect ratio, then a height
 * between those giving the smallest and largest allowed areas, then a position; the first box that
 * covers at least min_object_covered of the object wins; none in 100 attempts: the whole image.
 */
export function sampleDistortedBox(rng: Rng, height: number, width: number): Box {
  const imageArea = height * width;
  const [minArea, maxArea] = [BOX.area[0] * imageArea, BOX.area[1] * imageArea];
  for (let attempt = 0; attempt < BOX.maxAttempts; attempt++) {
    const aspect = uniform(rng, BOX.aspect[0], BOX.aspect[1]);
    const box = randomCrop(rng, height, width, minArea, maxArea, aspect);
    // The object is the whole image, so the box covers area(box)/area(image) of it.
    if (box !== undefined && (box.height * box.width) / imageArea >= BOX.minObjectCovered) return box;
  }
  return { y: 0, x: 0, height, width };
}

/** TF's GenerateRandomCrop (sample_distorted_bounding_box_op.cc), aspect = width / height. */
function randomCrop(rng: Rng, height: number, width: number, minArea: number, maxArea: number, aspect: number): Box | undefined {
  let minH = Math.round(Math.sqrt(minArea / aspect));
  let maxH = Math.round(Math.sqrt(maxArea / aspect));
  if (Math.round(maxH * aspect) > width) maxH = Math.floor((width + 0.5 - 1e-7) / aspect);
  maxH = Math.min(maxH, height);
  if (minH >= maxH) minH = maxH;
  let h = maxH > minH ? minH + rng.int(maxH - minH + 1) : minH;
  let w = Math.round(h * aspect);
  if (w * h < minArea) {
    h += 1;
    w = Math.round(h * aspect);
  }
  if (w * h > maxArea) {
    h -= 1;
    w = Math.round(h * aspect);
  }
  if (w * h < minArea || w * h > maxArea || w > width || h > height || w <= 0 || h <= 0) return undefined;
  // As TF's kernel: Uniform(n) is below n, so a box never touches the far edges (unless it spans the image).
  const y = h < height ? rng.int(height - h) : 0;
  const x = w < width ? rng.int(width - w) : 0;
  return { y, x, height: h, width: w };
}

/** tf.image.central_crop(image, fraction): the centred window, its margins rounded down. */
export function centralBox(height: number, width: number, fraction: number): Box {
  const y = Math.floor((height - height * fraction) / 2);
  const x = Math.floor((width - width * fraction) / 2);
  return { y, x, height: height - 2 * y, width: width - 2 * x };
}

/** Bilinear taps along one axis: for each output index, the two source indices and the second's weight. */
interface Taps {
  readonly lo: Int32Array;
  readonly hi: Int32Array;
  readonly t: Float32Array;
}

/** Half-pixel centres (TF 2's tf.image.resize), clamped to the window's edge pixels. */
function taps(size: number, out: number, flip: boolean): Taps {
  const lo = new Int32Array(out);
  const hi = new Int32Array(out);
  const t = new Float32Array(out);
  const scale = size / out;
  for (let i = 0; i < out; i++) {
    const f = Math.min(Math.max(((flip ? out - 1 - i : i) + 0.5) * scale - 0.5, 0), size - 1);
    lo[i] = Math.floor(f);
    hi[i] = Math.min(lo[i]! + 1, size - 1);
    t[i] = f - lo[i]!;
  }
  return { lo, hi, t };
}

/**
 * Bilinear resize of `box` of image `index` in `set` to `out` (oh × ow × channels, values ÷255 to
 * [0, 1]); `flip` mirrors left-right.
 */
function resizeBox(set: ImageSet, index: number, box: Box, out: Float32Array, oh: number, ow: number, flip: boolean): void {
  const [, h, w, c] = set.shape;
  const src = set.images;
  const base = index * h * w * c;
  const rows = taps(box.height, oh, false);
  const cols = taps(box.width, ow, flip);
  // Source offsets of each output column's two taps, within a row.
  const left = new Int32Array(ow);
  const right = new Int32Array(ow);
  for (let x = 0; x < ow; x++) {
    left[x] = (box.x + cols.lo[x]!) * c;
    right[x] = (box.x + cols.hi[x]!) * c;
  }
  for (let y = 0; y < oh; y++) {
    const top = base + (box.y + rows.lo[y]!) * w * c;
    const bottom = base + (box.y + rows.hi[y]!) * w * c;
    const ty = rows.t[y]!;
    let o = y * ow * c;
    for (let x = 0; x < ow; x++) {
      const tx = cols.t[x]!;
      const [l, r] = [left[x]!, right[x]!];
      for (let k = 0; k < c; k++, o++) {
        const upper = src[top + l + k]! + tx * (src[top + r + k]! - src[top + l + k]!);
        const lower = src[bottom + l + k]! + tx * (src[bottom + r + k]! - src[bottom + l + k]!);
        out[o] = (upper + ty * (lower - upper)) / 255;
      }
    }
  }
}

/** One image's colour distortion: the draws, in slim's order of operations for `ordering`. */
export interface ColourDistortion {
  readonly ordering: 0 | 1 | 2 | 3;
  readonly brightness: number;
  readonly saturation: number;
  readonly hue: number;
  readonly contrast: number;
}

type ColourOp = 'brightness' | 'saturation' | 'hue' | 'contrast';

/** slim's distort_color orderings (fast_mode off). */
const ORDERINGS: readonly (readonly ColourOp[])[] = [
  ['brightness', 'saturation', 'hue', 'contrast'],
  ['saturation', 'brightness', 'contrast', 'hue'],
  ['contrast', 'hue', 'brightness', 'saturation'],
  ['hue', 'saturation', 'contrast', 'brightness'],
];

/** Distorts an RGB image in [0, 1] in place (tf.image.adjust_* semantics), then clips to [0, 1]. */
export function distortColour(img: Float32Array, d: ColourDistortion): void {
  const pixels = img.length / 3;
  for (const op of ORDERINGS[d.ordering]!) {
    switch (op) {
      case 'brightness':
        for (let i = 0; i < img.length; i++) img[i]! += d.brightness;
        break;
      case 'contrast':
        // Per channel: (x − mean) · factor + mean.
        for (let k = 0; k < 3; k++) {
          let sum = 0;
          for (let p = 0; p < pixels; p++) sum += img[p * 3 + k]!;
          const mean = sum / pixels;
          for (let p = 0; p < pixels; p++) img[p * 3 + k] = (img[p * 3 + k]! - mean) * d.contrast + mean;
        }
        break;
      case 'saturation':
        adjustHsv(img, 0, d.saturation);
        break;
      case 'hue':
        adjustHsv(img, d.hue, 1);
        break;
    }
  }
  for (let i = 0; i < img.length; i++) img[i] = Math.min(Math.max(img[i]!, 0), 1);
}

/** tf.image.adjust_hue / adjust_saturation in place: hue shifted by `hueDelta` (mod 1), saturation ×`factor`, clipped. */
function adjustHsv(img: Float32Array, hueDelta: number, factor: number): void {
  const hsv: [number, number, number] = [0, 0, 0];
  const rgb: [number, number, number] = [0, 0, 0];
  for (let p = 0; p < img.length; p += 3) {
    rgbToHsvInto(img[p]!, img[p + 1]!, img[p + 2]!, hsv);
    const hue = hsv[0] + hueDelta;
    hsvToRgbInto(hue - Math.floor(hue), Math.min(Math.max(hsv[1] * factor, 0), 1), hsv[2], rgb);
    img[p] = rgb[0];
    img[p + 1] = rgb[1];
    img[p + 2] = rgb[2];
  }
}

/** RGB → HSV as tf.image.rgb_to_hsv: hue in [0, 1), saturation 0 for black. */
export function rgbToHsv(r: number, g: number, b: number): [number, number, number] {
  const hsv: [number, number, number] = [0, 0, 0];
  rgbToHsvInto(r, g, b, hsv);
  return hsv;
}

/** HSV → RGB as tf.image.hsv_to_rgb. */
export function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const rgb: [number, number, number] = [0, 0, 0];
  hsvToRgbInto(h, s, v, rgb);
  return rgb;
}

/** rgbToHsv into `out` (the per-pixel loops allocate nothing). */
function rgbToHsvInto(r: number, g: number, b: number, out: [number, number, number]): void {
  const v = Math.max(r, g, b);
  const range = v - Math.min(r, g, b);
  out[1] = v > 0 ? range / v : 0;
  out[2] = v;
  if (range <= 0) {
    out[0] = 0;
    return;
  }
  const h = (v === r ? (g - b) / range : v === g ? (b - r) / range + 2 : (r - g) / range + 4) / 6;
  out[0] = h < 0 ? h + 1 : h;
}

/** hsvToRgb into `out`: channel n is v − v·s·clamp(min(k, 4 − k), 0, 1), k = (n + 6h) mod 6. */
function hsvToRgbInto(h: number, s: number, v: number, out: [number, number, number]): void {
  const channel = (n: number): number => {
    const k = (n + h * 6) % 6;
    return v - v * s * Math.max(0, Math.min(k, 4 - k, 1));
  };
  out[0] = channel(5);
  out[1] = channel(3);
  out[2] = channel(1);
}

/** The draws for one training image after its box: flip, then the colour distortion. */
function drawDistortion(rng: Rng): { readonly flip: boolean; readonly colour: ColourDistortion } {
  const flip = rng.next() < 0.5;
  const ordering = rng.int(4) as ColourDistortion['ordering'];
  return {
    flip,
    colour: {
      ordering,
      brightness: uniform(rng, -BRIGHTNESS, BRIGHTNESS),
      saturation: uniform(rng, SATURATION[0], SATURATION[1]),
      hue: uniform(rng, -HUE, HUE),
      contrast: uniform(rng, CONTRAST[0], CONTRAST[1]),
    },
  };
}

/**
 * A batch of `set`'s images at `indices` through the Inception pipeline, `height`×`width` each: slim's
 * train preprocessing when `rng` is given, its eval preprocessing (central 87.5% crop) when null.
 */
export function inceptionBatch(set: ImageSet, indices: ArrayLike<number>, height: number, width: number, rng: Rng | null, centralFraction = INCEPTION_CENTRAL_FRACTION): Batch {
  const [, h, w, c] = set.shape;
  if (c !== 3) throw new RangeError(`Inception preprocessing needs RGB images, not ${c} channel(s)`);
  const b = indices.length;
  const per = height * width * c;
  const data = new Float32Array(b * per);
  const central = centralBox(h, w, centralFraction);
  for (let i = 0; i < b; i++) {
    const out = data.subarray(i * per, (i + 1) * per);
    if (rng === null) {
      resizeBox(set, indices[i]!, central, out, height, width, false);
    } else {
      const box = sampleDistortedBox(rng, h, w);
      const { flip, colour } = drawDistortion(rng);
      resizeBox(set, indices[i]!, box, out, height, width, flip);
      distortColour(out, colour);
    }
    // slim: image = (image − 0.5) · 2.
    for (let k = 0; k < per; k++) out[k] = (out[k]! - 0.5) * 2;
  }
  return { data, shape: [b, height, width, c] };
}
