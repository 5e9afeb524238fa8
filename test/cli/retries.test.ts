import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { project } from '../support/tmp-project.js';

/** Fails its first `fail` attempts (counted in a file named after the stage); `hang` waits for its signal. */
const FLAKY = `
import { readFile, writeFile } from 'node:fs/promises';
export const plugin = {
  name: 'flaky', version: '1', description: 'fails at first',
  params: { type: 'object', properties: { fail: { type: 'integer', default: 0 }, user: { type: 'boolean', default: false }, hang: { type: 'boolean', default: false } } },
  inputs: {}, outputs: { out: { kind: 'json' } },
  async run(ctx) {
    const file = new URL('attempts-' + ctx.stage.id, import.meta.url); // beside this module, in the project
    const n = Number(await readFile(file, 'utf8').catch(() => '0')) + 1;
    await writeFile(file, String(n));
    if (ctx.params.hang) await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    if (n <= ctx.params.fail) throw Object.assign(new Error('connection reset on attempt ' + n), { userError: ctx.params.user });
    await ctx.writeJson('out', { attempts: n });
  },
};
`;

const attemptsOf = async (dir: string, id: string) => Number(await readFile(join(dir, `attempts-${id}`), 'utf8'));

test('a stage with retries runs again after a failure, says so, and records how many attempts it took', async () => {
  const p = await project({ 'flaky.mjs': FLAKY, 'p.yaml': 'stages:\n  a: { uses: ./flaky.mjs, with: { fail: 2 }, retries: 2 }\n  b: { uses: ./flaky.mjs, with: { fail: 1 } }\n' }, { RETHINK_RETRY_DELAY_MS: '10' });
  const r = await p.cli('run', 'p.yaml', '--keep-going');
  assert.equal(r.code, 1, 'b has no retries');
  // A retry is a warning: it reaches the user without --verbose.
  assert.match(r.stderr, /Z warning: a: attempt 1 of 3 failed: connection reset on attempt 1; trying again in 10ms\n/);
  assert.match(r.stderr, /Z warning: a: attempt 2 of 3 failed: connection reset on attempt 2; trying again in 20ms\n/);
  assert.match(r.stderr, /Z {3}ran {5}a \(\d+\.\ds, 3 attempts\) {2}\[\d\/2\]\n/);
  assert.match(r.stderr, /Z {3}FAILED {2}b \(\d+\.\ds\): connection reset on attempt 1 {2}\[\d\/2\]\n/);
  const show = JSON.parse((await p.cli('show', 'a', 'p.yaml', '--json')).stdout) as { provenance: { attempts: number } };
  assert.equal(show.provenance.attempts, 3);

  // --retries gives b its second attempt; a is cached.
  const again = await p.run('p.yaml', '--retries', '1');
  assert.deepEqual(again.status, { a: 'cached', b: 'ran' });
  assert.equal(await attemptsOf(p.dir, 'b'), 2);
  assert.equal(again.doc.stages.find((s) => s.id === 'b')!.attempts, undefined, 'this run took b one attempt');
});

test('retries run out; a user error is never retried', async () => {
  const p = await project(
    { 'flaky.mjs': FLAKY, 'p.yaml': 'stages:\n  a: { uses: ./flaky.mjs, with: { fail: 5 }, retries: 1 }\n  u: { uses: ./flaky.mjs, with: { fail: 5, user: true }, retries: 3 }\n' },
    { RETHINK_RETRY_DELAY_MS: '10' },
  );
  const r = await p.run('p.yaml', '--keep-going');
  assert.equal(r.code, 1);
  const a = r.doc.stages.find((s) => s.id === 'a')!;
  assert.deepEqual([a.status, a.attempts, a.reason], ['failed', 2, 'connection reset on attempt 2']);
  assert.equal(await attemptsOf(p.dir, 'a'), 2);
  assert.equal(await attemptsOf(p.dir, 'u'), 1, 'a bad checksum does not get better');
});

test('timeout stops a long attempt; with retries the stage tries again', async () => {
  const p = await project(
    { 'flaky.mjs': FLAKY, 'p.yaml': 'stages:\n  h: { uses: ./flaky.mjs, with: { hang: true }, timeout: 0.2, retries: 1 }\n' },
    { RETHINK_RETRY_DELAY_MS: '10' },
  );
  const r = await p.run('p.yaml');
  assert.equal(r.code, 1);
  const h = r.doc.stages[0]!;
  assert.deepEqual([h.status, h.reason, h.attempts], ['failed', 'timed out after 200ms', 2]);

  const bad = await p.cli('validate', 'p.yaml', '--set', 'h.timeout=5 minutes');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /timeout/);
});

test('a stage waiting to try again gives its cores to others', async () => {
  const p = await project(
    { 'flaky.mjs': FLAKY, 'p.yaml': 'stages:\n  a: { uses: ./flaky.mjs, with: { fail: 1 }, retries: 1 }\n  b: { uses: ./flaky.mjs }\n' },
    { RETHINK_RETRY_DELAY_MS: '300' },
  );
  const r = await p.cli('run', 'p.yaml', '--jobs', '1');
  assert.equal(r.code, 0, r.stderr);
  const order = [...r.stderr.matchAll(/^\S+Z {3}(start|ran) +([ab])\b/gm)].map((m) => `${m[1]} ${m[2]}`);
  assert.deepEqual(order, ['start a', 'start b', 'ran b', 'ran a'], 'b ran on the one core while a waited');
});
