import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Breather } from '../../src/util/event-loop.js';

/** Awaits only already-settled promises (as tfjs's cpu data() does) until `done()` or `limitMs`. */
async function microtaskLoop(breather: Breather | null, done: () => boolean, limitMs: number): Promise<void> {
  const start = performance.now();
  while (!done() && performance.now() - start < limitMs) {
    await Promise.resolve();
    if (breather !== null) await breather.breathe();
  }
}

test('a Breather lets a timer fire inside a loop of settled awaits; without one it waits for the loop', async () => {
  let fired = false;
  setTimeout(() => (fired = true), 1);
  await microtaskLoop(null, () => fired, 60);
  assert.equal(fired, false, 'settled awaits alone never reach the timers');
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(fired, true);

  let firedToo = false;
  setTimeout(() => (firedToo = true), 1);
  await microtaskLoop(new Breather(5), () => firedToo, 2000);
  assert.equal(firedToo, true, 'the timer fired while the loop ran');
});

test('a Breather gives no turn before its interval has passed', async () => {
  let immediates = 0;
  const b = new Breather(60_000);
  setImmediate(() => immediates++);
  for (let i = 0; i < 1000; i++) await b.breathe();
  assert.equal(immediates, 0);
});
