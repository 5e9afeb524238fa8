import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileMemo } from '../../src/util/file-memo.js';
import { trimStale } from '../../src/util/trim-stale.js';
import { tempDir } from '../support/temp.js';

const DAY = 24 * 3600 * 1000;
const NOW = Date.parse('2026-12-07T12:00:00Z');

function put(dir: string, name: string, daysOld: number, now = NOW): void {
  writeFileSync(join(dir, name), '{}');
  const when = new Date(now - daysOld * DAY);
  utimesSync(join(dir, name), when, when);
}

const entry = (name: string) => name.endsWith('.json');

test('entries not written for a month go, newer ones and other files stay', async () => {
  const dir = await tempDir('rethink-trim-');
  put(dir, 'old.json', 31);
  put(dir, 'new.json', 29);
  put(dir, 'notes.txt', 400); // not an entry: never touched
  assert.equal(trimStale(dir, { entry, now: NOW }), 1);
  assert.deepEqual(readdirSync(dir).sort(), ['.trimmed', 'new.json', 'notes.txt']);
});

test('a directory is trimmed at most once a day', async () => {
  const dir = await tempDir('rethink-trim-');
  put(dir, 'a.json', 40);
  assert.equal(trimStale(dir, { entry, now: NOW }), 1);
  put(dir, 'b.json', 40);
  assert.equal(trimStale(dir, { entry, now: NOW + DAY / 2 }), 0, 'trimmed half a day ago');
  assert.ok(existsSync(join(dir, 'b.json')));
  assert.equal(trimStale(dir, { entry, now: NOW + DAY + 1 }), 1, 'a day later it trims again');
  assert.ok(!existsSync(join(dir, 'b.json')));
});

test('a missing or unwritable directory is no error', async () => {
  const dir = await tempDir('rethink-trim-');
  writeFileSync(join(dir, 'file'), '');
  assert.equal(trimStale(join(dir, 'file', 'sub'), { entry, now: NOW }), 0);
  assert.equal(trimStale(join(dir, 'absent'), { entry, now: NOW }), 0);
});

test('a memo trims its directory when it writes: an entry a month old goes, the one just written stays', async () => {
  const dir = await tempDir('rethink-memo-');
  const memo = new FileMemo<number>('t', dir);
  const [stale, fresh] = [FileMemo.key('stale'), FileMemo.key('fresh')];
  memo.set(stale, 1); // the first write trims (nothing yet) and stamps the directory
  const old = new Date(Date.now() - 31 * DAY);
  utimesSync(join(dir, `${stale}.json`), old, old);
  const yesterday = new Date(Date.now() - DAY - 1000);
  utimesSync(join(dir, '.trimmed'), yesterday, yesterday);
  assert.deepEqual(memo.get(stale), { value: 1 }, 'reading does not trim');
  memo.set(fresh, 2);
  assert.equal(memo.get(stale), undefined);
  assert.deepEqual(memo.get(fresh), { value: 2 });
});
