// The command plugin's text handling: values quoted for where they land read back as themselves
// (bare, in '…', in "…"), words split as a POSIX shell would without expanding anything, and the
// `::progress` lines a command prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quoteAfter, splitShellWords as splitWords } from '../../../src/util/shell.js';
import { parseLine, progressOf } from '../../../stages/command/lines.js';

const VALUES = ['plain', 'two words', `it's`, 'say "hi"', '$(rm -rf /) `x` $HOME', 'back\\slash', '', ';|&<>*?', 'line\nbreak'];

test('a value spliced bare, inside single or inside double quotes splits back to exactly itself', () => {
  for (const v of VALUES) {
    assert.deepEqual(splitWords(`cmd ${quoteAfter('cmd ', v)} end`), ['cmd', v, 'end'], `bare ${JSON.stringify(v)}`);
    assert.deepEqual(splitWords(`cmd 'pre ${quoteAfter("cmd 'pre ", v)} post'`), ['cmd', `pre ${v} post`], `single ${JSON.stringify(v)}`);
    assert.deepEqual(splitWords(`cmd "pre ${quoteAfter('cmd "pre ', v)} post"`), ['cmd', `pre ${v} post`], `double ${JSON.stringify(v)}`);
    assert.deepEqual(splitWords(`cmd --x=${quoteAfter('cmd --x=', v)}`), ['cmd', `--x=${v}`], `joined ${JSON.stringify(v)}`);
  }
  assert.equal(quoteAfter('cmd ', 'safe/path-1.py'), 'safe/path-1.py', 'safe words stay readable in the key');
});

test('words split without a shell: quotes group, nothing expands, unbalanced quotes are refused', () => {
  assert.deepEqual(splitWords(`python3  x.py --a 'b c' "d \\"e\\" $f" g\\ h $(i) | j`), ['python3', 'x.py', '--a', 'b c', 'd "e" $f', 'g h', '$(i)', '|', 'j']);
  assert.deepEqual(splitWords(`a '' ""`), ['a', '', '']);
  assert.throws(() => splitWords(`a 'b`), /unterminated ' quote at character 3/);
  assert.throws(() => splitWords('a "b'), /unterminated " quote at character 3/);
});

test('::progress lines become progress updates; ::error names the fault; other lines are log', () => {
  assert.deepEqual(progressOf('epoch=3/20 loss=0.41'), { message: 'epoch 3/20 loss 0.41', done: 3, total: 20 });
  assert.deepEqual(progressOf('phase=warmup done=5 total=8'), { message: 'phase warmup', done: 5, total: 8 });
  assert.deepEqual(parseLine('::progress step=1/2'), { kind: 'progress', update: { message: 'step 1/2', done: 1, total: 2 } });
  assert.deepEqual(parseLine('::error torch missing'), { kind: 'error', message: 'torch missing' });
  assert.deepEqual(parseLine('epoch 3: ::progress'), { kind: 'log', text: 'epoch 3: ::progress' });
});
