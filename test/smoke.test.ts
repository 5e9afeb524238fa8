import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/util/random.js';

test('Rng.derive is reproducible and label-separated', () => {
  const a = Rng.derive(7, 'x');
  const b = Rng.derive(7, 'x');
  const c = Rng.derive(7, 'y');
  const sa = [a.nextU32(), a.nextU32()];
  assert.deepEqual(sa, [b.nextU32(), b.nextU32()]);
  assert.notDeepEqual(sa, [c.nextU32(), c.nextU32()]);
});

test('Rng.int is uniform enough over 10 bins', () => {
  const r = Rng.derive(1);
  const bins = new Array<number>(10).fill(0);
  for (let i = 0; i < 100_000; i++) bins[r.int(10)]!++;
  for (const b of bins) assert.ok(Math.abs(b - 10_000) < 500, `bin ${b}`);
});
