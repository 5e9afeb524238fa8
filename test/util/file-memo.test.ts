import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileMemo, survivesJson } from '../../src/util/file-memo.js';
import { tempDir } from '../support/temp.js';

test('a memo gives back what was set for a key, and nothing for another key', async () => {
  const dir = await tempDir('rethink-memo-');
  const memo = new FileMemo<unknown>('t', dir);
  const key = FileMemo.key('rules-1', 'text');
  assert.equal(memo.get(key), undefined);
  memo.set(key, { a: [1, 'x', null, true] });
  assert.deepEqual(memo.get(key), { value: { a: [1, 'x', null, true] } });
  assert.deepEqual(new FileMemo<unknown>('t', dir).get(key), { value: { a: [1, 'x', null, true] } }, 'another instance (process) reads it');
  memo.set(FileMemo.key('rules-1', 'other'), null);
  assert.deepEqual(memo.get(FileMemo.key('rules-1', 'other')), { value: null }, 'a remembered null is an answer, not a miss');
  assert.equal(memo.get(FileMemo.key('rules-2', 'text')), undefined, 'the rules are part of the key');
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file is left');
});

test('keys separate their parts: ("ab", "c") is not ("a", "bc")', () => {
  assert.notEqual(FileMemo.key('ab', 'c'), FileMemo.key('a', 'bc'));
  assert.equal(FileMemo.key('a', 'bc'), FileMemo.key('a', 'bc'));
});

test('a damaged or misplaced entry is a miss, never an answer', async () => {
  const dir = await tempDir('rethink-memo-');
  const memo = new FileMemo<number>('t', dir);
  const [k1, k2] = [FileMemo.key('1'), FileMemo.key('2')];
  memo.set(k1, 1);
  writeFileSync(join(dir, `${k2}.json`), '{"key":"');
  assert.equal(memo.get(k2), undefined);
  // A file under another key's name (a copy, a rename): the key inside it does not match.
  renameSync(join(dir, `${k1}.json`), join(dir, `${k2}.json`));
  assert.equal(memo.get(k2), undefined);
});

test('a memo that cannot be written leaves the caller computing, without an error', async () => {
  // A directory under a file cannot be made, even by root (for whom a read-only mode is no bar).
  const dir = await tempDir('rethink-memo-');
  writeFileSync(join(dir, 'file'), '');
  const memo = new FileMemo<number>('t', join(dir, 'file', 'below'));
  memo.set(FileMemo.key('x'), 1);
  assert.equal(memo.get(FileMemo.key('x')), undefined);
});

test('survivesJson: what JSON gives back unchanged', () => {
  for (const v of [null, true, 'x', 0, 1.5, [1, [2]], { a: { b: [] } }]) assert.equal(survivesJson(v), true, JSON.stringify(v));
  for (const v of [-0, NaN, Infinity, undefined, [undefined], { a: undefined }, [1, , 2], new Date(0), { f: () => 1 }, 1n, JSON.parse('{"__proto__": 1}')]) {
    assert.equal(survivesJson(v), false, String(v));
  }
});
