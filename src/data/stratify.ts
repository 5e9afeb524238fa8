// Seeded, stratified selection of example indices by label: dataset splits and quick-run subsets.
import type { Rng } from '../util/random.js';
import { DataError } from './errors.js';

/** Indices of each class, in dataset order. */
export function indicesByClass(labels: Int32Array, classCount: number): Uint32Array[] {
  const counts = new Uint32Array(classCount);
  for (const l of labels) {
    if (l < 0 || l >= classCount) throw new DataError('bad_format', `label ${l} is outside 0..${classCount - 1}`);
    counts[l]!++;
  }
  const out = Array.from(counts, (n) => new Uint32Array(n));
  const fill = new Uint32Array(classCount);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    out[l]![fill[l]!++] = i;
  }
  return out;
}

export type SubsetSpec = { readonly per_class: number } | { readonly fraction: number };

/** How many of `available` examples of a class a spec keeps. */
export function keepCount(spec: SubsetSpec, available: number, className: string): number {
  if ('per_class' in spec) {
    if (spec.per_class > available) {
      throw new DataError('bad_params', `per_class ${spec.per_class} exceeds the ${available} examples of class ${className}`);
    }
    return spec.per_class;
  }
  return Math.round(available * spec.fraction);
}

/**
 * Picks a stratified subset: for each class, a seeded random choice of `keepCount` examples.
 * Returned indices are sorted, so the subset keeps the dataset's order.
 */
export function stratifiedSubset(
  labels: Int32Array,
  classes: readonly string[],
  spec: SubsetSpec,
  rng: Rng,
): Uint32Array {
  const byClass = indicesByClass(labels, classes.length);
  const keep = byClass.map((idx, c) => keepCount(spec, idx.length, classes[c] ?? String(c)));
  const out = new Uint32Array(keep.reduce((a, b) => a + b, 0));
  let n = 0;
  byClass.forEach((idx, c) => {
    const chosen = rng.shuffle(Uint32Array.from(idx)).subarray(0, keep[c]);
    out.set(chosen, n);
    n += chosen.length;
  });
  return out.sort();
}

/** A seeded stratified train/test split; both index lists come back in a seeded random order. */
export function stratifiedSplit(
  labels: Int32Array,
  classes: readonly string[],
  testFraction: number,
  rng: Rng,
): { readonly train: Uint32Array; readonly test: Uint32Array } {
  const test = stratifiedSubset(labels, classes, { fraction: testFraction }, rng);
  const inTest = new Uint8Array(labels.length);
  for (const i of test) inTest[i] = 1;
  const train = new Uint32Array(labels.length - test.length);
  let n = 0;
  for (let i = 0; i < labels.length; i++) if (!inTest[i]) train[n++] = i;
  return { train: rng.shuffle(train), test: rng.shuffle(Uint32Array.from(test)) };
}

/** Copies the chosen images and labels into fresh contiguous arrays. */
export function gather(
  x: Uint8Array,
  y: Int32Array,
  imageBytes: number,
  indices: Uint32Array,
): { readonly x: Uint8Array; readonly y: Int32Array } {
  const outX = new Uint8Array(indices.length * imageBytes);
  const outY = new Int32Array(indices.length);
  indices.forEach((src, dst) => {
    outX.set(x.subarray(src * imageBytes, (src + 1) * imageBytes), dst * imageBytes);
    outY[dst] = y[src]!;
  });
  return { x: outX, y: outY };
}
