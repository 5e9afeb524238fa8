import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { shellQuote, ShellWordsError, splitShellWords } from '../../src/util/shell.js';

test('shellQuote: sh reads every word back unchanged', () => {
  const words = ['plain', 's3://bucket/prefix', "it's", 'a b', '$HOME', '`id`', '"q"', 'tab\there', 'back\\slash', '', 'new\nline'];
  const printed = execFileSync('sh', ['-c', `printf '%s\\0' ${words.map(shellQuote).join(' ')}`]).toString();
  assert.deepEqual(printed.split('\0').slice(0, -1), words);
  assert.equal(shellQuote('--mem=100M'), '--mem=100M');
});

test('splitShellWords: splits as sh does, expands nothing', () => {
  assert.deepEqual(splitShellWords(`  --qos=high   -C "a|b" --comment='it is'  x\\ y "\\$HOME" $HOME `), ['--qos=high', '-C', 'a|b', '--comment=it is', 'x y', '$HOME', '$HOME']);
  assert.deepEqual(splitShellWords(''), []);
  assert.deepEqual(splitShellWords(`''`), ['']);
  assert.deepEqual(splitShellWords(`a"b c"'d'`), ['ab cd']);
});

test('splitShellWords: an unterminated quote or a trailing backslash is an error', () => {
  assert.throws(() => splitShellWords(`--comment='oops`), ShellWordsError);
  assert.throws(() => splitShellWords(`-C "a|b`), /unterminated " quote at character 4/);
  assert.throws(() => splitShellWords('x\\'), ShellWordsError);
});
