// Partially corrupted labels (SPEC §1.2): each label is replaced, with probability p, by a class
// drawn uniformly from all K classes, the true one included (the author's convention, so the
// expected fraction changed is p·(1 − 1/K)); `excludeTrue` draws from the other K − 1 instead.
import type { Rng } from '../util/random.js';

export interface LabelCorruption {
  readonly labels: Int32Array;
  /** Examples whose label was redrawn (≈ p·N). */
  readonly selected: number;
  /** Examples whose label actually differs from the original. */
  readonly changed: number;
}

/**
 * Draws two numbers per example whatever p is, so runs with the same seed are nested: the
 * examples corrupted at p = 0.2 are a subset of those at p = 0.4, with the same new labels.
 */
export function corruptLabels(labels: Int32Array, classCount: number, p: number, rng: Rng, excludeTrue = false): LabelCorruption {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`corruptLabels: p must be in [0, 1], got ${p}`);
  if (classCount < (excludeTrue ? 2 : 1)) throw new RangeError(`corruptLabels: need more classes than ${classCount}`);
  const out = Int32Array.from(labels);
  let selected = 0;
  let changed = 0;
  for (let i = 0; i < out.length; i++) {
    const u = rng.next();
    const draw = rng.int(excludeTrue ? classCount - 1 : classCount);
    if (u >= p) continue;
    selected++;
    const original = out[i]!;
    const next = excludeTrue && draw >= original ? draw + 1 : draw;
    out[i] = next;
    if (next !== original) changed++;
  }
  return { labels: out, selected, changed };
}
