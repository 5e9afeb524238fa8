import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLeftover, tmpName, type TmpWriter } from '../../src/store/tmp-dir.js';
import type { ProcessProbe } from '../../src/util/process-start.js';

const HOUR = 3600_000;
const now = 100 * HOUR;
/** This test's imaginary host: pid 7 runs, started at `boot/700`; every other pid is dead. */
const processes: ProcessProbe = { isAlive: (pid) => pid === 7, startOf: (pid) => (pid === 7 ? 'boot/700' : undefined) };
const context = { now, host: 'lab-1', processes };
const writer = (pid: number, start: string | undefined, host = 'lab-1'): TmpWriter => ({ pid, host, start });
const leftover = (name: string, hoursOld: number) => isLeftover(name, now - hoursOld * HOUR, context);

test("a live process's tmp/ entries stay whatever their age; a dead or reused pid's go after an hour", () => {
  for (const kind of ['obj', 'scratch', 'w'] as const) {
    assert.equal(leftover(tmpName(kind, writer(7, 'boot/700')), 48), false, `${kind}: its owner runs`);
    assert.equal(leftover(tmpName(kind, writer(7, undefined)), 48), false, `${kind}: no start recorded, the pid runs`);
    assert.equal(leftover(tmpName(kind, writer(8, 'boot/800')), 2), true, `${kind}: its owner is dead`);
    assert.equal(leftover(tmpName(kind, writer(8, 'boot/800')), 0.5), false, `${kind}: dead, but not an hour ago`);
    assert.equal(leftover(tmpName(kind, writer(7, 'boot/42')), 2), true, `${kind}: pid 7 is another process now`);
    assert.equal(leftover(tmpName(kind, writer(7, 'earlier-boot/700')), 2), true, `${kind}: pid 7 of an earlier boot`);
  }
});

test('entries that name no owner (older rethinks) go after an hour; those of another host after a week', () => {
  for (const name of ['obj-0123456789abcdef', 'scratch-Ab3xYz', 'w-0123456789abcdef']) {
    assert.equal(leftover(name, 2), true, name);
    assert.equal(leftover(name, 0.5), false, name);
  }
  const elsewhere = tmpName('scratch', writer(7, 'boot/700', 'lab-2'));
  assert.equal(leftover(elsewhere, 24), false, 'this host cannot ask whether it runs');
  assert.equal(leftover(elsewhere, 8 * 24), true);
});
