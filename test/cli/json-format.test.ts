// Every --json document says which version of its shape it is: `"format": 1`, its first field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { project, TEST_PLUGINS } from '../support/tmp-project.js';
import { tempDir } from '../support/temp.js';

const PIPELINE = 'stages:\n  a: { uses: ./plugins.mjs, with: { value: 1 } }\n  b: { uses: ./plugins.mjs, with: { value: 2 }, inputs: { x: a } }\n';

test('every command that takes --json prints a document whose first field is "format": 1', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': PIPELINE });
  const remote = ['--remote', await tempDir('rethink-remote-')];
  // How to call each: the list must name every command whose help offers --json.
  const calls: Readonly<Record<string, readonly string[]>> = {
    run: ['p.yaml'],
    status: ['p.yaml'],
    show: ['a', 'p.yaml'],
    results: ['a', 'p.yaml'],
    runs: [],
    diff: ['a', 'b', 'p.yaml'],
    verify: ['p.yaml'],
    export: ['a', 'p.yaml', '--to', join(p.dir, 'out')],
    push: ['p.yaml', ...remote],
    pull: ['p.yaml', ...remote],
    gc: ['p.yaml', '--dry-run'],
    fsck: [],
    plugins: [],
    models: [],
    doctor: [],
  };
  // Commands whose --json needs more than this project: their own tests check the format.
  const elsewhere = new Set(['predict']); // test/export/predict.test.ts (needs a trained, exported model)
  const usage = (await p.cli('--help')).stdout;
  const commands = [...usage.matchAll(/^ {2}(\w+) /gm)].map((m) => m[1]!);
  const withJson: string[] = [];
  for (const name of commands) if (/^ +--json /m.test((await p.cli(name, '--help')).stdout)) withJson.push(name);
  assert.deepEqual(withJson.sort(), [...Object.keys(calls), ...elsewhere].sort(), 'each command with --json is checked below');

  for (const [name, args] of Object.entries(calls)) {
    const r = await p.cli(name, ...args, '--json');
    // diff exits 1 when the two differ, as diff(1) does: a and b do.
    // doctor exits 1 when something a run needs is broken; its document is the same either way.
    assert.equal(r.code, name === 'diff' ? 1 : name === 'doctor' ? r.code : 0, `${name}: ${r.stderr}`);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(Object.keys(doc)[0], 'format', name);
    assert.equal(doc['format'], 1, name);
  }
  // dag's JSON form too, though it is chosen with --format.
  assert.equal((JSON.parse((await p.cli('dag', 'p.yaml', '--format', 'json')).stdout) as { format: number }).format, 1);
});
