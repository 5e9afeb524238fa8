// Finds the numbers JSON cannot hold (NaN, ±Infinity) in a plain value, with where they are:
// JSON.stringify would silently write them as null, and canonical keys refuse them.

export type ValuePath = readonly (string | number)[];

export interface NonFinite {
  readonly path: ValuePath;
  readonly value: number;
}

/**
 * Every non-finite number in `value`, in the order JSON.stringify would visit them (it follows
 * `toJSON`; a cycle is left to JSON.stringify to report).
 */
export function nonFiniteNumbers(value: unknown): NonFinite[] {
  const found: NonFinite[] = [];
  const ancestors = new Set<object>();
  const visit = (v: unknown, path: (string | number)[]): void => {
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) found.push({ path: [...path], value: v });
      return;
    }
    if (v === null || typeof v !== 'object' || ancestors.has(v)) return;
    const json = (v as { toJSON?: unknown }).toJSON;
    if (typeof json === 'function') return visit((json as () => unknown).call(v), path);
    ancestors.add(v);
    const entries: [string | number, unknown][] = Array.isArray(v) ? v.map((item, i) => [i, item]) : Object.entries(v);
    for (const [k, item] of entries) {
      path.push(k);
      visit(item, path);
      path.pop();
    }
    ancestors.delete(v);
  };
  visit(value, []);
  return found;
}

/** `$.history[3].loss`. */
export function jsonPath(path: ValuePath): string {
  return `$${path.map((s) => (typeof s === 'number' ? `[${s}]` : /^[A-Za-z_$][\w$]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`)).join('')}`;
}

/** The same path as a field reads in a pipeline: `stages.train.with.lr[1]`. */
export function fieldPath(path: ValuePath): string {
  const p = jsonPath(path);
  return p.startsWith('$.') ? p.slice(2) : p.slice(1);
}

