// Sweep expansion: `matrix:` axes → one instance per combination, minus `exclude:` entries.
import type { Scalar } from '../plugin/types.js';

export type Combo = Readonly<Record<string, Scalar>>;

export function combinations(axes: readonly (readonly [string, readonly Scalar[]])[]): Combo[] {
  let out: Record<string, Scalar>[] = [{}];
  for (const [axis, values] of axes) {
    const next: Record<string, Scalar>[] = [];
    for (const partial of out) for (const v of values) next.push({ ...partial, [axis]: v });
    out = next;
  }
  return out;
}

export function excluded(combo: Combo, exclude: readonly Readonly<Record<string, unknown>>[]): boolean {
  return exclude.some((e) => Object.entries(e).every(([k, v]) => k in combo && sameValue(combo[k], v)));
}

/** Matrix values compare by their text, so `p=0.2` in a selector matches the number 0.2. */
export function sameValue(a: unknown, b: unknown): boolean {
  return String(a) === String(b);
}

export function instanceId(stage: string, combo: Combo): string {
  const parts = Object.entries(combo).map(([k, v]) => `${k}=${String(v)}`);
  return parts.length > 0 ? `${stage}[${parts.join(',')}]` : stage;
}
