// `rethink completion bash|zsh|fish`: scripts made from the command and flag tables; the bash one,
// sourced into bash, completes commands, flags and the pipeline's stage names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compiledBin, project } from '../support/tmp-project.js';

const PIPELINE = 'stages:\n  download: { uses: x }\n  train: { uses: y }\n  table: { uses: z }\n';

test('the bash script completes `rethink ru` to run, `run --back` to --backend, and stage names', async () => {
  const p = await project({ 'p.yaml': PIPELINE });
  const script = await p.cli('completion', 'bash');
  assert.equal(script.code, 0, script.stderr);
  await writeFile(join(p.dir, 'rethink.bash'), script.stdout);
  // `rethink` on the PATH, as an installed package puts it: the script asks it for stage names.
  await mkdir(join(p.dir, 'bin'));
  await writeFile(join(p.dir, 'bin', 'rethink'), `#!/bin/sh\nexec "${process.execPath}" "${compiledBin()}" "$@"\n`);
  await chmod(join(p.dir, 'bin', 'rethink'), 0o755);
  // The cursor is on the last word, or on the word `at` (words after it are already typed).
  const completeAt = (at: number, ...words: string[]): string[] => {
    const line = words.map((w) => `'${w}'`).join(' ');
    const out = execFileSync('bash', ['--norc', '--noprofile', '-c', `source ./rethink.bash; COMP_WORDS=(${line}); COMP_CWORD=${at}; _rethink; printf '%s\\n' "\${COMPREPLY[@]}"`], {
      cwd: p.dir,
      env: { PATH: `${join(p.dir, 'bin')}:${process.env['PATH'] ?? ''}` },
      encoding: 'utf8',
    });
    return out.split('\n').filter(Boolean);
  };
  const complete = (...words: string[]): string[] => completeAt(words.length - 1, ...words);
  assert.ok(complete('rethink', 'ru').includes('run'));
  assert.ok(complete('rethink', 'ru').every((w) => w.startsWith('ru')));
  assert.deepEqual(complete('rethink', 'run', '--back'), ['--backend']);
  assert.deepEqual(complete('rethink', 'run', '-j', '2', '--no-c'), ['--no-color'], 'a flag after a flag with its value');
  assert.deepEqual(complete('rethink', 'show', 't', 'p.yaml'), ['p.yaml'], 'after the stage: the pipeline file');
  assert.deepEqual(completeAt(2, 'rethink', 'show', 't', 'p.yaml'), ['train', 'table'], "the stage names of the pipeline on the line");
  assert.deepEqual(complete('rethink', 'run', 'p.yaml', '--only', 'd'), ['download']);
});

test('zsh and fish scripts list every command and its flags, with their help', async () => {
  const p = await project({});
  const zsh = (await p.cli('completion', 'zsh')).stdout;
  assert.match(zsh, /^#compdef rethink\n/);
  assert.match(zsh, /\n {4}'run:run a pipeline/);
  assert.match(zsh, /'--backend\[the tfjs backend for stages that leave it open: [^\]]*\]:backend: '/);
  assert.match(zsh, /'\*--only\[[^\]]*\]:only:_rethink_stages'/);
  const fish = (await p.cli('completion', 'fish')).stdout;
  assert.match(fish, /\ncomplete -c rethink -n __fish_use_subcommand -a run -d 'run a pipeline/);
  assert.match(fish, /\ncomplete -c rethink -n '__fish_seen_subcommand_from run' -l jobs -s j -x -d 'cores in use at most/);
  const bad = await p.cli('completion', 'powershell');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /"powershell" is not a shell/);
});
