import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from '../../src/util/canonical-json.js';
import { Rng } from '../../src/util/random.js';

/** The definition, written the plain way: every cache key ever made is this text's SHA-256. */
function reference(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`cannot key a non-finite number (${value})`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return 'null';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${Array.from(value, (v) => reference(v)).join(',')}]`;
      const obj = value as Record<string, unknown>;
      const parts = Object.keys(obj).sort().filter((k) => obj[k] !== undefined).map((k) => `${JSON.stringify(k)}:${reference(obj[k])}`);
      return `{${parts.join(',')}}`;
    }
    default:
      throw new TypeError(`cannot key a ${typeof value}`);
  }
}

// Keys that sort differently from their insertion order, integer-like ones (which objects list
// first, numerically), ones that need escaping and astral ones.
const KEYS = ['b', 'a', 'A', '_', 'seed', 'params', '10', '9', '0', '', 'é', 'z\u0000', '"q"', '😀', 'a.b', 'plugin', 'inputs'];

function randomValue(rng: Rng, depth: number): unknown {
  const r = rng.int(depth > 3 ? 7 : 10);
  switch (r) {
    case 0: return rng.int(3) === 0 ? -0 : rng.int(2000) - 1000;
    case 1: return (rng.next() - 0.5) * 10 ** (rng.int(40) - 20);
    case 2: return KEYS[rng.int(KEYS.length)]! + String.fromCharCode(rng.int(0x3000));
    case 3: return rng.int(2) === 0;
    case 4: return null;
    case 5: return undefined;
    case 6: return Number.MAX_SAFE_INTEGER;
    case 7: {
      const a: unknown[] = [];
      for (let i = rng.int(5); i > 0; i--) a.push(randomValue(rng, depth + 1));
      if (rng.int(4) === 0) a[a.length + 1] = 1; // a hole
      return a;
    }
    default: {
      const o: Record<string, unknown> = rng.int(5) === 0 ? Object.create(null) as Record<string, unknown> : {};
      const keys = [...KEYS];
      for (let n = rng.int(6); n > 0; n--) {
        const k = keys.splice(rng.int(keys.length), 1)[0]!;
        o[k] = randomValue(rng, depth + 1);
      }
      // Half the objects are built in sorted key order, as most keyed values are.
      if (rng.int(2) === 0) return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
      return o;
    }
  }
}

test('canonicalJson writes exactly the reference text for 20,000 random JSON values, sorted or not', () => {
  const rng = Rng.derive(20261207, 'canonical-json');
  for (let i = 0; i < 20_000; i++) {
    const v = randomValue(rng, 0);
    assert.equal(canonicalJson(v), reference(v), JSON.stringify(v));
  }
});

test('canonicalJson sorts keys at every level, integer-like keys as strings', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: null }], c: 'x' }, 10: true, 9: false }), '{"10":true,"9":false,"a":{"c":"x","d":[1,{"y":null,"z":0}]},"b":1}');
  assert.equal(canonicalJson({ a: undefined, b: [undefined] }), '{"b":[null]}');
  assert.equal(canonicalJson(undefined), 'null');
});

test('canonicalJson refuses what has no JSON text, nested or not', () => {
  assert.throws(() => canonicalJson({ a: { b: Number.NaN } }), /non-finite number \(NaN\)/);
  assert.throws(() => canonicalJson([Infinity]), /non-finite/);
  assert.throws(() => canonicalJson({ a: () => 1 }), /cannot key a function/);
  assert.throws(() => canonicalJson({ a: 1n }), /cannot key a bigint/);
  // An object with a toJSON method is not written through it (JSON.stringify would).
  assert.throws(() => canonicalJson({ toJSON: () => 'x' }), /cannot key a function/);
  assert.equal(canonicalJson(new Date(0)), '{}');
});
