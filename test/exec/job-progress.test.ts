// A job's progress on the remote, for coordinators whose only channel to the job is the remote:
// throttled (one write per interval, the last update wins) and never failing the stage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RemoteProgress } from '../../src/exec/job-progress.js';
import type { Remote } from '../../src/store/remote.js';

/** A remote that records each text written, and fails while `failing` is set. */
function recording(): { remote: Remote; puts: { path: string; body: { update: { message: string }; ranOn: unknown } }[]; failing: boolean } {
  const state = { puts: [] as { path: string; body: { update: { message: string }; ranOn: unknown } }[], failing: false, remote: undefined as unknown as Remote };
  state.remote = {
    url: 'mem://r',
    putText: async (path: string, text: string) => {
      if (state.failing) throw new Error('503 Slow Down');
      state.puts.push({ path, body: JSON.parse(text) as never });
    },
  } as unknown as Remote;
  return state;
}

test('the first update is written at once; those within the interval wait, and only the last of them is written, at close', async () => {
  const r = recording();
  const progress = new RemoteProgress(r.remote, 'ab'.repeat(32), { host: 'n1' }, () => {}, 60_000);
  progress.update({ message: 'epoch 1' });
  progress.update({ message: 'epoch 2' });
  progress.update({ message: 'epoch 3' });
  await progress.close();
  assert.deepEqual(r.puts.map((p) => p.body.update.message), ['epoch 1', 'epoch 3']);
  assert.equal(r.puts[0]!.path, `jobs/${'ab'.repeat(32)}/progress.json`);
  assert.deepEqual(r.puts[0]!.body.ranOn, { host: 'n1' });
});

test('a write that fails is logged once and fails nothing', async () => {
  const r = recording();
  r.failing = true;
  const logs: string[] = [];
  const progress = new RemoteProgress(r.remote, 'cd'.repeat(32), { host: 'n1' }, (m) => logs.push(m), 0);
  progress.update({ message: 'a' });
  progress.update({ message: 'b' });
  await progress.close();
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, /^cannot write progress to mem:\/\/r\/jobs\/c{1}d.*\/progress\.json: 503 Slow Down$/);
});
