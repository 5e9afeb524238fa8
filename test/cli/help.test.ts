import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/cli.js';

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), isTTY: false, cwd: '/nonexistent', env: {} });
  return { code, stdout, stderr };
}

const COMMANDS = ['init', 'run', 'status', 'validate', 'dag', 'show', 'results', 'runs', 'diff', 'verify', 'export', 'predict', 'push', 'pull', 'gc', 'fsck', 'doctor', 'ui', 'plugins', 'models', 'schema', 'completion', 'worker', 'exec'];

test('every command --help lists exactly the flags it accepts, each with its help, and runs nothing', async () => {
  const usage = await cli('--help');
  assert.deepEqual(
    [...usage.stdout.matchAll(/^ {2}(\w+) /gm)].map((m) => m[1]),
    COMMANDS,
    'the overview lists every command',
  );
  for (const name of COMMANDS) {
    const help = await cli(name, '--help');
    assert.equal(help.code, 0, `${name}: ${help.stderr}`);
    assert.equal(help.stderr, '');
    assert.match(help.stdout, new RegExp(`^usage: rethink ${name}\\b`));
    // The flags an unknown flag's error names are the command's parser's own: help must list the same.
    const bad = await cli(name, '--no-such-flag');
    assert.equal(bad.code, 2, name);
    const accepted = (/flags: (.*)/.exec(bad.stderr)?.[1] ?? '').split(', ').filter(Boolean).sort();
    const listed = [...help.stdout.matchAll(/^ {2}(?:-\w, | {4})(--[\w-]+)(?: \S+)? {2,}\S/gm)].map((m) => m[1]).sort();
    assert.deepEqual(listed, accepted, `${name}: help lists what the parser takes`);
  }
  // `-h`, `help NAME` and a --help among other arguments say the same, and load no pipeline.
  const run = (await cli('run', '--help')).stdout;
  assert.equal((await cli('run', '-h')).stdout, run);
  assert.equal((await cli('help', 'run')).stdout, run);
  assert.equal((await cli('run', 'missing.yaml', '--only', 'x', '--help')).stdout, run);
  assert.match(run, /\n {2}-j, --jobs N +cores in use at most/);
  assert.match(run, /--set PATH=YAML +override .* \(repeatable\)/);
  // After `--`, --help is an argument, not a request.
  assert.equal((await cli('validate', '--', '--help')).code, 2);
});

test('validate and the overview say that a plugin named by path is imported, running its top-level code', async () => {
  const usage = (await cli('--help')).stdout;
  assert.match(usage, /\npath plugins: a module named in uses: \(\.\/plugins\/x\.mjs\) is imported by every command that reads the\n +pipeline, validate included, which runs its top-level code/);
  assert.match((await cli('validate', '--help')).stdout, /without running its stages \(path plugins are imported: their top-level code runs\)/);
});
