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

/**
 * Whether a combination matches an `exclude:` entry (every axis the entry names, by sameValue).
 * Entries are grouped by the axes they name, so a combination costs one look-up per group rather
 * than a comparison with every entry (a long exclude list on a big sweep was entries × combinations).
 */
export function excluder(exclude: readonly Readonly<Record<string, unknown>>[]): (combo: Combo) => boolean {
  const groups = new Map<string, { readonly axes: readonly string[]; readonly values: Set<string> }>();
  for (const entry of exclude) {
    const axes = Object.keys(entry);
    const id = JSON.stringify([...axes].sort());
    let group = groups.get(id);
    if (group === undefined) groups.set(id, (group = { axes, values: new Set() }));
    group.values.add(valuesKey(group.axes, entry));
  }
  const list = [...groups.values()];
  return (combo) => list.some(({ axes, values }) => axes.every((k) => k in combo) && values.has(valuesKey(axes, combo)));
}

/** The values on `axes`, compared by their text as sameValue does. */
export function valuesKey(axes: readonly string[], values: Readonly<Record<string, unknown>>): string {
  return JSON.stringify(axes.map((k) => String(values[k])));
}

/** Matrix values compare by their text, so `p=0.2` in a selector matches the number 0.2. */
export function sameValue(a: unknown, b: unknown): boolean {
  return String(a) === String(b);
}

export function instanceId(stage: string, combo: Combo): string {
  const parts = Object.entries(combo).map(([k, v]) => `${k}=${String(v)}`);
  return parts.length > 0 ? `${stage}[${parts.join(',')}]` : stage;
}
