// The paper's input pipeline (SPEC §2.1), applied per training batch so stored images stay uint8:
// divide by 255, crop (centre by default, 32→28 takes x[2:30, 2:30]), then per-image
// standardization (x − mean) / max(std, 1/√N) over all H·W·C values (population std, as TF's
// per_image_standardization).

export interface PreprocessOptions {
  /** Output [height, width]; absent keeps the full image. */
  readonly crop?: readonly [number, number];
  /**
   * Per-image crop origins as (dy, dx) pairs, for random-crop augmentation; absent = centre crop.
   * The caller draws them from a seeded Rng.
   */
  readonly offsets?: ArrayLike<number>;
  /** Per-image standardization; default true. */
  readonly standardize?: boolean;
  /** Where to write the batch (exactly its size), e.g. a slot of a compiled step's chunk; absent: a new array. */
  readonly out?: Float32Array;
}

export interface Batch {
  /** NHWC float32. */
  readonly data: Float32Array;
  readonly shape: readonly [number, number, number, number];
}

/**
 * `x` is an NHWC batch of pixel values in 0..255 (uint8 as stored, or float32 for generated data);
 * `shape` is its [N, H, W, C].
 */
export function preprocessBatch(
  x: Uint8Array | Float32Array,
  shape: readonly [number, number, number, number],
  options: PreprocessOptions = {},
): Batch {
  const [n, h, w, c] = shape;
  if (x.length !== n * h * w * c) throw new RangeError(`preprocessBatch: ${x.length} values for shape [${shape.join(',')}]`);
  const [ch, cw] = options.crop ?? [h, w];
  if (ch > h || cw > w || ch < 1 || cw < 1) throw new RangeError(`preprocessBatch: crop ${ch}×${cw} does not fit ${h}×${w}`);
  const offsets = options.offsets;
  if (offsets !== undefined && offsets.length !== 2 * n) throw new RangeError('preprocessBatch: offsets needs one (dy, dx) pair per image');
  const standardize = options.standardize ?? true;
  const imageOut = ch * cw * c;
  const rowOut = cw * c;
  const out = options.out ?? new Float32Array(n * imageOut);
  if (out.length !== n * imageOut) throw new RangeError(`preprocessBatch: out holds ${out.length} values, the batch ${n * imageOut}`);
  const centreY = (h - ch) >> 1;
  const centreX = (w - cw) >> 1;
  const minStd = 1 / Math.sqrt(imageOut);
  // One image in float64, so standardization subtracts the exact mean (a constant image gives 0s).
  const image = new Float64Array(imageOut);
  for (let i = 0; i < n; i++) {
    const dy = offsets === undefined ? centreY : offsets[2 * i]!;
    const dx = offsets === undefined ? centreX : offsets[2 * i + 1]!;
    if (dy < 0 || dx < 0 || dy + ch > h || dx + cw > w) throw new RangeError(`preprocessBatch: crop offset (${dy}, ${dx}) out of range`);
    let sum = 0;
    let sumSq = 0;
    for (let r = 0; r < ch; r++) {
      const src = ((i * h + dy + r) * w + dx) * c;
      const dst = r * rowOut;
      for (let k = 0; k < rowOut; k++) {
        const v = x[src + k]! / 255;
        image[dst + k] = v;
        sum += v;
        sumSq += v * v;
      }
    }
    const base = i * imageOut;
    if (!standardize) {
      out.set(image, base);
      continue;
    }
    const mean = sum / imageOut;
    const variance = Math.max(0, sumSq / imageOut - mean * mean);
    const scale = 1 / Math.max(Math.sqrt(variance), minStd);
    for (let k = 0; k < imageOut; k++) out[base + k] = (image[k]! - mean) * scale;
  }
  return { data: out, shape: [n, ch, cw, c] };
}
