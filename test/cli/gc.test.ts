import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Leases } from '../../src/store/leases.js';
import type { CacheKey } from '../../src/util/brand.js';
import { project, SWEEP, TEST_PLUGINS, type Project } from '../support/tmp-project.js';

interface GcDoc { dryRun: boolean; keptRuns: number; deletedRuns: number; keptObjects: number; deletedObjects: number; deletedBytes: number; deletedCheckpoints: number; deletedQuarantined: number; deletedProgress: number }

/** Files under cache/runs and cache/objects, aged by `hours` so they are past gc's one-hour grace. */
async function age(p: Project, hours: number): Promise<number> {
  const when = new Date(Date.now() - hours * 3600 * 1000);
  let n = 0;
  for (const top of ['runs', 'objects']) {
    const root = join(p.dir, 'cache', top);
    for (const a of await readdir(root)) for (const b of await readdir(join(root, a))) (await utimes(join(root, a, b), when, when), n++);
  }
  return n;
}

const gc = async (p: Project, ...argv: string[]) => {
  const r = await p.cli('gc', '--json', ...argv);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as GcDoc;
};

test('gc keeps the last result of every stage and deletes the rest; --dry-run deletes nothing', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  assert.equal((await p.run('p.yaml')).code, 0);
  assert.equal((await p.run('p.yaml', '--set', 'aggregate.with.value=1')).code, 0);
  const files = await age(p, 2);

  // The first aggregate (value 45, an object no other result has) is what no refs file names any more.
  const dry = await gc(p, '--dry-run');
  assert.deepEqual([dry.keptRuns, dry.deletedRuns, dry.deletedObjects], [8, 1, 1]);
  assert.equal(await age(p, 2), files);
  const recent = await gc(p, '--keep-days', '1');
  assert.deepEqual([recent.keptRuns, recent.deletedRuns, recent.deletedObjects], [9, 0, 0]);

  const real = await gc(p);
  assert.deepEqual([real.deletedRuns, real.deletedObjects], [1, 1]);
  assert.equal(await age(p, 2), files - 2);
  const current = await p.run('p.yaml', '--set', 'aggregate.with.value=1');
  assert.ok(Object.values(current.status).every((s) => s === 'cached'));
  const old = await p.run('p.yaml');
  assert.deepEqual(Object.entries(old.status).filter(([, s]) => s === 'ran').map(([id]) => id), ['aggregate']);
});

test('gc PIPELINE keeps only that pipeline as it stands; results written in the last hour always stay', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  assert.equal((await p.run('p.yaml')).code, 0);
  assert.equal((await p.run('p.yaml', '--set', 'aggregate.with.value=1')).code, 0);
  const young = await gc(p, 'p.yaml'); // everything is younger than an hour
  assert.deepEqual([young.keptRuns, young.deletedRuns, young.deletedObjects], [9, 0, 0]);

  await age(p, 2);
  const r = await gc(p, 'p.yaml');
  assert.deepEqual([r.keptRuns, r.deletedRuns, r.deletedObjects], [8, 1, 1]); // the value=1 aggregate goes
  assert.ok(Object.values((await p.run('p.yaml')).status).every((s) => s === 'cached'));
});

test('gc deletes checkpoints of attempts left unfinished for a week, and only those', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  assert.equal((await p.run('p.yaml')).code, 0); // a cache gc recognises as one
  const root = join(p.dir, 'cache', 'checkpoints');
  const days = async (key: string, n: number) => {
    await mkdir(join(root, key), { recursive: true });
    await writeFile(join(root, key, 'train.safetensors'), 'x');
    const when = new Date(Date.now() - n * 24 * 3600 * 1000);
    await utimes(join(root, key, 'train.safetensors'), when, when);
    await utimes(join(root, key), when, when);
  };
  await days('a'.repeat(64), 8);
  await days('b'.repeat(64), 2);
  assert.equal((await gc(p, '--dry-run')).deletedCheckpoints, 1);
  assert.equal((await readdir(root)).length, 2);
  assert.equal((await gc(p)).deletedCheckpoints, 1);
  assert.deepEqual(await readdir(root), ['b'.repeat(64)]);
  assert.equal((await gc(p, '--keep-days', '1')).deletedCheckpoints, 0, 'a week at least, whatever --keep-days');
});

test('gc deletes objects quarantined over a week ago (by when they were quarantined, not their own age), and only those', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  assert.equal((await p.run('p.yaml')).code, 0);
  const root = join(p.dir, 'cache', 'quarantine');
  await mkdir(root, { recursive: true });
  const day = 24 * 3600 * 1000;
  const old = `${'a'.repeat(64)}-${Date.now() - 8 * day}-0a1b2c`;
  const recent = `${'b'.repeat(64)}-${Date.now() - 2 * day}-0a1b2c`;
  for (const name of [old, recent]) {
    await writeFile(join(root, name), 'corrupt bytes');
    const published = new Date(Date.now() - 30 * day); // the object's own mtime, kept by the rename
    await utimes(join(root, name), published, published);
  }
  assert.equal((await gc(p, '--dry-run')).deletedQuarantined, 1);
  assert.equal((await readdir(root)).length, 2);
  assert.equal((await gc(p)).deletedQuarantined, 1);
  assert.deepEqual(await readdir(root), [recent]);
});

test('gc deletes the progress reports of stages no longer running: a killed run\'s after the grace, a failed one\'s after a week, a running one\'s never', async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  assert.equal((await p.run('p.yaml')).code, 0);
  const cache = join(p.dir, 'cache');
  const dir = join(cache, 'progress');
  await mkdir(dir, { recursive: true });
  const report = async (c: string, hours: number, failed?: string) => {
    const key = c.repeat(64);
    const doc = { format: 1, key, id: `train[seed=${c}]`, pipeline: join(p.dir, 'p.yaml'), startedAt: new Date().toISOString(), at: new Date().toISOString(), update: { epoch: 1 }, epochEndedAt: [], ...(failed ? { failed } : {}) };
    await writeFile(join(dir, `${key}.json`), `${JSON.stringify(doc)}\n`);
    const when = new Date(Date.now() - hours * 3600 * 1000);
    await utimes(join(dir, `${key}.json`), when, when);
    return key;
  };
  const killed = await report('a', 2);
  await report('b', 0.2); // a killed run's, younger than the grace: its stage may just be between updates
  await report('c', 48, 'out of memory'); // failed two days ago: `rethink ui` still shows it
  const failedLongAgo = await report('d', 8 * 24, 'out of memory');
  const running = await report('e', 30); // a long silent epoch, but its process holds the lease
  const claim = await new Leases(join(cache, 'leases'), { pid: process.ppid }).claim(running as CacheKey, { pipeline: 'p.yaml', stage: 'train' });
  assert.ok(claim.held);

  const names = async () => (await readdir(dir)).sort();
  const before = await names();
  assert.equal((await gc(p, '--dry-run')).deletedProgress, 2);
  assert.deepEqual(await names(), before, '--dry-run deletes nothing');
  assert.equal((await gc(p)).deletedProgress, 2);
  assert.deepEqual(await names(), before.filter((n) => n !== `${killed}.json` && n !== `${failedLongAgo}.json`));
  const text = await p.cli('gc');
  assert.equal(text.code, 0, text.stderr);
  assert.doesNotMatch(text.stdout, /progress report/, 'nothing left to say');

  await claim.held.release();
  await utimes(join(dir, `${running}.json`), new Date(Date.now() - 2 * 3600 * 1000), new Date(Date.now() - 2 * 3600 * 1000));
  const after = await p.cli('gc');
  assert.match(after.stdout, /and 1 progress report of stages no longer running/);
  assert.equal((await names()).includes(`${running}.json`), false);
});
