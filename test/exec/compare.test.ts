import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffValues } from '../../src/exec/compare.js';
import { jsonChanges } from '../../src/util/json-diff.js';

test('diffValues counts bitwise differences (-0 against 0 counts, the same NaN does not) and the largest |Δ|', () => {
  const t = (...xs: number[]) => ({ dtype: 'float32' as const, shape: [xs.length], data: Float32Array.from(xs) });
  assert.deepEqual(diffValues(t(0, Number.NaN, 1, 2), t(-0, Number.NaN, 1.5, 2)), { count: 2, total: 4, maxAbs: 0.5 });
  assert.deepEqual(diffValues(t(1, 2), t(1, Number.NaN)), { count: 1, total: 2, maxAbs: Number.POSITIVE_INFINITY }, 'a NaN on one side only is infinitely far');
  const i = (...xs: number[]) => ({ dtype: 'int32' as const, shape: [xs.length], data: Int32Array.from(xs) });
  assert.deepEqual(diffValues(i(1, 2, 3), i(1, 5, 3)), { count: 1, total: 3, maxAbs: 3 });
  const d = (...xs: number[]) => ({ dtype: 'float64' as const, shape: [xs.length], data: Float64Array.from(xs) });
  assert.equal(diffValues(d(0.1 + 0.2), d(0.3)).count, 1, 'float64 compared at full width');
});

test('jsonChanges walks objects and equal-length arrays down to the leaves that differ', () => {
  const before = { a: 1, b: { c: [1, 2, 3], d: 'x' }, gone: true, list: [1] };
  const after = { a: 1, b: { c: [1, 4, 3], d: 'y' }, added: null, list: [1, 2] };
  assert.deepEqual(jsonChanges(before, after), [
    { path: 'added', kind: 'added', after: null },
    { path: 'b.c[1]', kind: 'changed', before: 2, after: 4 },
    { path: 'b.d', kind: 'changed', before: 'x', after: 'y' },
    { path: 'gone', kind: 'removed', before: true },
    { path: 'list', kind: 'changed', before: [1], after: [1, 2] },
  ]);
  assert.deepEqual(jsonChanges({ x: [1, { y: 2 }] }, { x: [1, { y: 2 }] }), []);
});
