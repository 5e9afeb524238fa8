// --quiet, --verbose and --no-color: every command takes them; quiet and verbose exclude each other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { project, TEST_PLUGINS } from '../support/tmp-project.js';
import { useColor } from '../../src/cli/output.js';

const PIPELINE = 'stages:\n  a: { uses: ./logs.mjs }\n  b: { uses: ./logs.mjs, inputs: { x: a } }\n';
const LOGS = `export const plugin = {
  name: 'logs', version: '1', description: 'logs a line',
  params: { type: 'object', properties: {}, additionalProperties: false },
  inputs: { x: { optional: true } },
  outputs: { out: { kind: 'json' } },
  async run(ctx) { ctx.log('hello from ' + ctx.stage.id); await ctx.writeJson('out', { ok: true }); },
};
`;
const COMMANDS = ['init', 'run', 'status', 'validate', 'dag', 'show', 'results', 'runs', 'diff', 'verify', 'export', 'push', 'pull', 'gc', 'fsck', 'plugins', 'models', 'schema', 'completion', 'worker', 'exec'];

test('every command accepts --quiet, --verbose and --no-color, and refuses --quiet with --verbose (exit 2)', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS });
  for (const name of COMMANDS) {
    const help = (await p.cli(name, '--help')).stdout;
    for (const flag of ['--quiet', '--verbose', '--no-color']) assert.match(help, new RegExp(`^ +(-q, )?${flag} {2,}\\S`, 'm'), `${name} ${flag}`);
    const both = await p.cli(name, '--quiet', '--verbose');
    assert.equal(both.code, 2, name);
    assert.match(both.stderr, new RegExp(`rethink ${name}: --quiet and --verbose contradict each other`), name);
  }
  assert.equal((await p.cli('plugins', '--no-color')).code, 0);
  assert.equal((await p.cli('models', '-q')).code, 0);
});

test('run --quiet says only the summary; --verbose streams the stages\' logs; by default, no logs', async () => {
  const p = await project({ 'logs.mjs': LOGS, 'p.yaml': PIPELINE });
  const quiet = await p.cli('run', 'p.yaml', '--quiet');
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.match(quiet.stderr, /^done: 2 ran, 0 cached in \d+\.\d\ds\n$/);
  await p.cli('run', 'p.yaml', '--force', '*', '--quiet');
  const plain = await p.cli('run', 'p.yaml', '--force', '*');
  assert.doesNotMatch(plain.stderr, /hello from/);
  assert.match(plain.stderr, /^\S+Z {3}ran {5}b \(\d+\.\ds\): forced.* {2}\[2\/2\]$/m);
  const verbose = await p.cli('run', 'p.yaml', '--force', '*', '--verbose');
  assert.match(verbose.stderr, /^\S+Z {3}log {5}a: hello from a$/m);
  assert.match(verbose.stderr, /^\S+Z {3}log {5}b: hello from b$/m);
  // verify --quiet: only what did not reproduce, and the summary.
  const verified = await p.cli('verify', 'p.yaml', '--quiet');
  assert.equal(verified.code, 0, verified.stderr);
  assert.match(verified.stderr, /^done: 2 reproduced, 0 differ in \d+\.\d\ds\n$/);
});

test('color: --no-color, then NO_COLOR, then FORCE_COLOR, then whether stderr is a terminal', () => {
  assert.equal(useColor(false, { env: {}, isTTY: true }), true);
  assert.equal(useColor(false, { env: {}, isTTY: false }), false);
  assert.equal(useColor(true, { env: { FORCE_COLOR: '1' }, isTTY: true }), false);
  assert.equal(useColor(false, { env: { NO_COLOR: '1', FORCE_COLOR: '1' }, isTTY: true }), false);
  assert.equal(useColor(false, { env: { NO_COLOR: '' }, isTTY: true }), true, 'an empty NO_COLOR is unset (no-color.org)');
  assert.equal(useColor(false, { env: { FORCE_COLOR: '1' }, isTTY: false }), true);
  assert.equal(useColor(false, { env: { FORCE_COLOR: '0' }, isTTY: true }), false);
});
