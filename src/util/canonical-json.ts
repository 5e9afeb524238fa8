// JSON with sorted keys: the one text form of a value that cache keys, signatures and the compiled-
// validator cache hash, so that equal values always give equal bytes.
//
// Every cache key goes through here, a no-op rerun of a 512-stage sweep once per stage, mostly on
// cold code: so a subtree that is already canonical (plain objects whose keys come in sorted order,
// finite numbers; the common case for params, matrices and fan-in entries) is written by the native
// JSON.stringify, which gives the same bytes for it; only objects whose keys are out of order are
// sorted and written here. On that rerun: 4.5 of its 23 MB of allocations were this function's
// (the keys' arrays, their sorts, the concatenations); test/util/canonical-json.test.ts checks the
// two paths against each other on random values.

/** JSON with object keys sorted at every level: equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (isCanonical(value)) return value === undefined ? 'null' : JSON.stringify(value);
  switch (typeof value) {
    case 'number':
      throw new TypeError(`cannot key a non-finite number (${value})`);
    case 'object': {
      if (value === null) return 'null'; // unreachable: null is canonical
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + canonicalJson(value[i]);
        return `${out}]`;
      }
      const obj = value as Record<string, unknown>;
      const keys = sortInPlace(Object.keys(obj));
      // Out of order here only (a key record's fields): a copy in sorted order is written natively.
      // Not with an integer-like key, which an object lists first whatever the order it was added in.
      if (keys.every((k) => !INDEX_LIKE.test(k) && isCanonical(obj[k]))) {
        const sorted: Record<string, unknown> = {};
        for (const k of keys) sorted[k] = obj[k];
        return JSON.stringify(sorted);
      }
      let out = '{';
      let first = true;
      for (const k of keys) {
        const v = obj[k];
        if (v === undefined) continue;
        out += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalJson(v)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`cannot key a ${typeof value}`);
  }
}

/** Keys an object lists before all others, in numeric order: array indices (canonical uint32 < 2³² − 1). */
const INDEX_LIKE = /^(?:0|[1-9][0-9]{0,9})$/;

/**
 * Whether JSON.stringify writes `value` exactly as canonicalJson must: finite numbers, strings,
 * booleans, null, arrays of such (a hole or undefined is `null` in both), and objects with
 * Object.prototype or no prototype (no toJSON, no class), whose own keys come in sorted order
 * (Object.keys puts integer-like keys first, numerically: then they are out of order as strings and
 * this says no), and whose values are such or undefined (left out by both).
 */
function isCanonical(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isCanonical(value[i])) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) return false;
      let prev: string | undefined;
      for (const k in value) {
        if (prev !== undefined && !(prev < k)) return false;
        prev = k;
        if (!isCanonical((value as Record<string, unknown>)[k])) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/** Sorts a short array of strings in place, as Array.prototype.sort would, without its work copy. */
function sortInPlace(keys: string[]): string[] {
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}
