// `rethink ui --remote`: results that only the shared remote has are shown (states, run pages), read
// into memory: nothing is written to the local cache or the remote, and an artifact that is not local
// says where it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Overview, PipelineDag, RunDetail } from '../../src/ui/api.js';
import { project, SWEEP, TEST_PLUGINS } from '../support/tmp-project.js';
import { uiOver } from '../support/ui-server.js';

/** Every file under `dir`, relative, sorted. */
async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1)).sort();
}

test('results only on the remote are shown read-only', async () => {
  const alice = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  const remote = join(alice.dir, 'shared');
  assert.equal((await alice.run('p.yaml', '--remote', remote)).code, 0);
  const bob = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  await mkdir(join(bob.dir, 'cache'));
  const before = { local: await files(join(bob.dir, 'cache')), remote: await files(remote) };

  const s = await uiOver(bob, { pipelines: ['p.yaml'], remote });
  try {
    const o = (await s.get('/api/overview')).json<Overview>();
    assert.equal(o.remote, remote);
    assert.equal(o.counts['up-to-date'], 8);
    const key = (await s.get('/api/pipelines/p')).json<PipelineDag>().nodes.find((n) => n.id === 'aggregate')!.key!;
    const run = (await s.get(`/api/runs/${key}`)).json<RunDetail>();
    assert.equal(run.instance, 'aggregate');
    const out = await s.get(`/api/runs/${key}/outputs/out`);
    assert.equal(out.status, 404);
    assert.match(out.json<{ error: { code: string; message: string } }>().error.message, /not in the local cache .*rethink pull/);
  } finally {
    await s.close();
  }
  assert.deepEqual({ local: await files(join(bob.dir, 'cache')), remote: await files(remote) }, before);
});
