import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { project, SWEEP, TEST_PLUGINS } from '../support/tmp-project.js';
import { gone, startCli, until } from '../support/cli-process.js';

/** Writes its output, then its pid beside the module, then never yields: only a signal stops it. */
const BUSY = `
import { writeFileSync } from 'node:fs';
export const plugin = {
  name: 'busy', version: '1', description: 'blocks its event loop',
  params: { type: 'object', properties: {} }, inputs: {}, outputs: { out: { kind: 'json' } },
  async run(ctx) {
    await ctx.writeJson('out', { never: 'published' });
    writeFileSync(new URL('pid-' + ctx.stage.id, import.meta.url), String(process.pid));
    for (;;) {}
  },
};
`;

/** Kills its own process with SIGKILL on its first \`times\` attempts (counted in a file beside it), or exits with \`exit\`. */
const KILLER = `
import { readFileSync, writeFileSync } from 'node:fs';
export const plugin = {
  name: 'killer', version: '1', description: 'dies mid-stage',
  params: { type: 'object', properties: { times: { type: 'integer', default: 0 }, exit: { type: 'integer', default: 0 } } }, inputs: {}, outputs: { out: { kind: 'json' } },
  async run(ctx) {
    const file = new URL('attempts-' + ctx.stage.id, import.meta.url);
    let n = 1;
    try { n += Number(readFileSync(file, 'utf8')); } catch {}
    writeFileSync(file, String(n));
    await ctx.writeJson('out', { attempt: n });
    if (n <= ctx.params.times) process.kill(process.pid, 'SIGKILL');
    if (ctx.params.exit) {
      process.stderr.write('native addon: cannot allocate tensor\\n');
      process.exit(ctx.params.exit);
    }
  },
};
`;

const pidOf = async (dir: string, id: string): Promise<number> => Number(await readFile(join(dir, `pid-${id}`), 'utf8'));
const entries = (dir: string): Promise<string[]> => readdir(dir).catch(() => []);

test('--executor subprocess computes the sweep to the same bytes as local, and a rerun is all cached', async () => {
  const local = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  const sub = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  const l = await local.run('p.yaml');
  const s = await sub.run('p.yaml', '--executor', 'subprocess');
  assert.equal(s.code, 0, s.stderr);
  const shape = (doc: typeof l.doc) => doc.stages.map(({ id, key, status, outputs }) => ({ id, key, status, outputs }));
  assert.deepEqual(shape(s.doc), shape(l.doc));
  assert.ok(s.doc.stages.every((st) => st.status === 'ran'));

  const again = await sub.run('p.yaml', '--executor', 'subprocess');
  assert.ok(again.doc.stages.every((st) => st.status === 'cached'), JSON.stringify(again.status));
  // The same cache serves the local executor: the child wrote the coordinator's cache.
  const mixed = await sub.run('p.yaml');
  assert.ok(mixed.doc.stages.every((st) => st.status === 'cached'));
});

test('an unknown executor is a user error that lists the valid ones, from the flag or from RETHINK_EXECUTOR', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP }, { RETHINK_EXECUTOR: 'slurmm' });
  const env = await p.cli('run', 'p.yaml');
  assert.equal(env.code, 2);
  assert.match(env.stderr, /error\[E_BAD_FLAG\]: RETHINK_EXECUTOR "slurmm" is not an executor\n {2}= executors: local, subprocess/);
  const flag = await p.cli('run', 'p.yaml', '--executor', 'thread');
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /--executor "thread" is not an executor/);
});

test('a busy-looping stage under --executor subprocess times out: its process is killed, nothing of it is cached', async () => {
  // The timeout counts from the child's start: 5 s leaves a loaded machine time to reach the loop.
  const p = await project({ 'busy.mjs': BUSY, 'p.yaml': 'stages:\n  spin: { uses: ./busy.mjs, timeout: 5s, retries: 0 }\n' });
  const r = await p.run('p.yaml', '--executor', 'subprocess');
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.status['spin'], 'failed');
  assert.equal(r.doc.stages[0]!.reason, 'timed out after 5s');
  const pid = await pidOf(p.dir, 'spin').catch(() => assert.fail('the stage never reached its loop within its timeout: the machine is too loaded for this test'));
  assert.ok(gone(pid), 'the stage process is gone');
  assert.deepEqual(await entries(join(p.dir, 'cache', 'objects')), [], 'its output was never published');
  assert.deepEqual(await entries(join(p.dir, 'cache', 'runs')), [], 'no run record');
});

test('SIGINT to run --executor subprocess during a busy-looping stage exits 130 and leaves no process behind', async () => {
  const p = await project({ 'busy.mjs': BUSY, 'p.yaml': 'stages:\n  spin: { uses: ./busy.mjs }\n' });
  const run = startCli(p.dir, ['run', 'p.yaml', '--executor', 'subprocess']);
  await until('the stage to start spinning', async () => (await entries(p.dir)).includes('pid-spin'));
  const pid = await pidOf(p.dir, 'spin');
  run.child.kill('SIGINT');
  const { code, stderr } = await run.done;
  assert.equal(code, 130, stderr);
  assert.ok(gone(pid), 'the stage process is gone');
  assert.deepEqual(await entries(join(p.dir, 'cache', 'runs')), []);
});

test('a stage process killed by SIGKILL fails its stage naming the signal; with retries it runs again; one that exits says how, with its stderr', async () => {
  const pipeline = 'stages:\n  once: { uses: ./killer.mjs, with: { times: 1 }, retries: 1 }\n  always: { uses: ./killer.mjs, with: { times: 9 } }\n  exits: { uses: ./killer.mjs, with: { exit: 3 } }\n';
  const p = await project({ 'killer.mjs': KILLER, 'p.yaml': pipeline }, { RETHINK_RETRY_DELAY_MS: '10' });
  const r = await p.run('p.yaml', '--executor', 'subprocess', '--keep-going');
  assert.equal(r.code, 1);
  const [once, always, exits] = r.doc.stages;
  assert.equal(once!.status, 'ran');
  assert.equal(once!.attempts, 2);
  assert.equal(always!.status, 'failed');
  assert.match(always!.reason!, /^the stage's process \(pid \d+\) was killed by SIGKILL before reporting a result$/);
  assert.equal(exits!.status, 'failed');
  assert.match(exits!.reason!, /^the stage's process \(pid \d+\) exited with code 3 before reporting a result; its stderr ended:\nnative addon: cannot allocate tensor$/);
  const show = JSON.parse((await p.cli('show', 'once', 'p.yaml', '--json')).stdout) as { provenance: { attempts: number } };
  assert.equal(show.provenance.attempts, 2);
});

test("a plugin's user error under --executor subprocess is reported as one (exit 2) and not retried", async () => {
  const pipeline = 'stages:\n  get: { uses: ./plugins.mjs, with: { value: 1, user_error: true }, retries: 2 }\n';
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': pipeline }, { RETHINK_RETRY_DELAY_MS: '10' });
  const r = await p.run('p.yaml', '--executor', 'subprocess');
  assert.equal(r.code, 2, r.stderr);
  const [get] = r.doc.stages;
  assert.equal(get!.status, 'failed');
  assert.equal(get!.attempts, undefined, 'one attempt');
  assert.equal(get!.reason, 'checksum mismatch for https://example.org/x: expected 0abc, got 0def');
  assert.doesNotMatch(r.stderr, /trying again/);
});
