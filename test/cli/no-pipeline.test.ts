// A directory without a pipeline file: commands say how to start instead of running the package's own
// quick-start there, and the pipelines bundled with rethink run by name from anywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { project } from '../support/tmp-project.js';

test('with no pipeline file here, run, status and dag exit 2 with how to start, and write no cache', async () => {
  const p = await project({ 'notes.txt': 'a folder of the user' });
  for (const command of ['run', 'status', 'dag']) {
    const r = await p.cli(command);
    assert.equal(r.code, 2, `${command}: ${r.stderr}`);
    assert.match(r.stderr, /error\[E_NO_PIPELINE\]: no pipeline named and none here: pipelines\/quickstart\.yaml does not exist in /);
    assert.match(r.stderr, /start a project here with `rethink init`/);
    assert.match(r.stderr, /run a pipeline bundled with rethink by name: `rethink run quickstart` \(or figure1, figure2, /);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'a user error, not a stack trace');
  }
  assert.equal(existsSync(join(p.dir, 'cache')), false);
});

test('a name that is neither a file here nor a bundled pipeline is a user error naming both', async () => {
  const p = await project({});
  const r = await p.cli('status', 'figure9');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /error\[E_NO_PIPELINE\]: no pipeline figure9: no such file in .*, and no pipeline bundled with rethink has that name/);
});

test('a bundled pipeline runs by name from a directory of its own', async () => {
  const p = await project({});
  const dag = await p.cli('dag', 'quickstart', '--format', 'json');
  assert.equal(dag.code, 0, dag.stderr);
  const doc = JSON.parse(dag.stdout) as { nodes: { id: string }[] };
  assert.ok(doc.nodes.some((n) => n.id.startsWith('train')), dag.stdout);
  // A file of that name in the project wins over the bundled one.
  await p.write({ quickstart: 'stages:\n  only: { uses: fashion-mnist }\n' });
  const own = await p.cli('dag', 'quickstart', '--format', 'json');
  assert.equal(own.code, 0, own.stderr);
  assert.deepEqual((JSON.parse(own.stdout) as { nodes: { id: string }[] }).nodes.map((n) => n.id), ['only']);
});
