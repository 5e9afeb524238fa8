import { tempDir } from '../support/temp.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, utimes, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { Leases, describeHolder, type LeaseOptions } from '../../src/store/leases.js';
import { processStart } from '../../src/util/process-start.js';
import type { CacheKey } from '../../src/util/brand.js';

const KEY = 'ab'.repeat(32) as CacheKey;
const about = (stage: string) => ({ pipeline: 'p.yaml', stage });

/** A process of the test's imaginary machine: its own pid; `alive` says which pids still run. */
function processOn(dir: string, pid: number, alive: Set<number>, options: LeaseOptions = {}): Leases {
  return new Leases(dir, { host: 'lab-1', pid, isAlive: (p) => alive.has(p), pollMs: 20, ...options });
}

async function leaseDir(): Promise<string> {
  return tempDir('rethink-leases-');
}

test('one process holds a key at a time; the others are told who, until it releases', async () => {
  const dir = await leaseDir();
  const alive = new Set([1, 2]);
  const a = processOn(dir, 1, alive);
  const b = processOn(dir, 2, alive);
  const first = await a.claim(KEY, about('train[seed=1]'));
  assert.ok(first.held);
  const second = await b.claim(KEY, about('train[seed=1]'));
  assert.equal(second.busy?.pid, 1);
  assert.equal(second.busy?.stage, 'train[seed=1]');
  assert.equal(second.busy?.token, first.held.holder.token);
  assert.equal((await b.holderOf(KEY))?.pid, 1);
  // Another key is free.
  assert.ok((await b.claim('cd'.repeat(32) as CacheKey, about('other'))).held);

  await first.held.release();
  await first.held.release(); // idempotent
  assert.equal(await b.holderOf(KEY), undefined);
  assert.ok((await b.claim(KEY, about('train[seed=1]'))).held);
});

test('a holder whose process died on this host is taken over at once, and cannot delete its successor', async () => {
  const dir = await leaseDir();
  const alive = new Set([1, 2]);
  const a = processOn(dir, 1, alive);
  const b = processOn(dir, 2, alive);
  const dead = await a.claim(KEY, about('x'));
  assert.ok(dead.held);
  assert.ok((await b.claim(KEY, about('x'))).busy);
  alive.delete(1); // killed without releasing
  const took = await b.claim(KEY, about('x'));
  assert.ok(took.held, 'the dead holder is taken over');
  await dead.held.release(); // a late release of the old holding leaves the new one alone
  assert.equal((await processOn(dir, 3, new Set([2, 3])).claim(KEY, about('x'))).busy?.pid, 2);
  assert.deepEqual((await readdir(dir)).sort(), [`${KEY}.json`], 'no drafts or broken leases left behind');
});

test("a lease left by an earlier process with this process's id is a leftover, not ours", async () => {
  const dir = await leaseDir();
  const earlier = processOn(dir, 7, new Set([7]));
  assert.ok((await earlier.claim(KEY, about('x'))).held);
  const now = processOn(dir, 7, new Set([7])); // same pid, a new process (pid reuse after a crash)
  assert.ok((await now.claim(KEY, about('x'))).held);
});

test('a holder on another host is gone once its heartbeat is older than staleMs; the heartbeat keeps it fresh', async () => {
  const dir = await leaseDir();
  const remote = new Leases(dir, { host: 'lab-2', pid: 1, isAlive: () => true, heartbeatMs: 20 });
  const here = processOn(dir, 2, new Set([2]), { staleMs: 60_000 });
  const held = await remote.claim(KEY, about('x'));
  assert.ok(held.held);
  const past = new Date(Date.now() - 120_000);
  await utimes(join(dir, `${KEY}.json`), past, past);
  await new Promise((r) => setTimeout(r, 120)); // a few heartbeats
  assert.equal((await here.claim(KEY, about('x'))).busy?.host, 'lab-2', 'the heartbeat touched the file');

  await held.held.release();
  const silent = new Leases(dir, { host: 'lab-2', pid: 1, isAlive: () => true, heartbeatMs: 3_600_000 });
  const claimed = await silent.claim(KEY, about('x'));
  assert.ok(claimed.held);
  assert.ok((await here.claim(KEY, about('x'))).busy, 'fresh: busy');
  await utimes(join(dir, `${KEY}.json`), past, past);
  assert.ok((await here.claim(KEY, about('x'))).held, 'silent for 2 minutes against a 1-minute staleMs: taken over');
  await claimed.held.release();
});

test('of many processes claiming one key at once, exactly one holds it; so too when they all break a dead holder', async () => {
  const dir = await leaseDir();
  const alive = new Set(Array.from({ length: 24 }, (_, i) => i + 1));
  const claims = await Promise.all([...alive].map((pid) => processOn(dir, pid, alive).claim(KEY, about('x'))));
  const holders = claims.filter((c) => c.held);
  assert.equal(holders.length, 1);
  const winner = holders[0]!.held!.holder.pid;
  assert.ok(claims.every((c) => c.held ?? c.busy.pid === winner), 'every loser names the winner');

  // Each round the holder dies and all the others break its lease at once.
  let holder = winner;
  for (let round = 0; round < 6; round++) {
    alive.delete(holder);
    const retry = await Promise.all([...alive].map((pid) => processOn(dir, pid, alive).claim(KEY, about('x'))));
    const held = retry.filter((c) => c.held);
    assert.equal(held.length, 1, `round ${round}`);
    holder = held[0]!.held!.holder.pid;
  }
  assert.deepEqual(await readdir(dir), [`${KEY}.json`]);
});

test('a junk lease file is broken rather than waited on forever', async () => {
  const dir = await leaseDir();
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${KEY}.json`), '{ not json');
  assert.ok((await processOn(dir, 1, new Set([1])).claim(KEY, about('x'))).held);
});

test('released() resolves when the holder releases or dies, and rejects when the waiter is aborted', async () => {
  const dir = await leaseDir();
  const alive = new Set([1, 2]);
  const a = processOn(dir, 1, alive);
  const b = processOn(dir, 2, alive);
  const held = (await a.claim(KEY, about('x'))).held!;
  const busy = (await b.claim(KEY, about('x'))).busy!;
  let resolved = false;
  const waiting = b.released(KEY, busy).then(() => (resolved = true));
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(resolved, false, 'still held');
  await held.release();
  await waiting;

  const again = (await a.claim(KEY, about('x'))).held!;
  const holder = (await b.claim(KEY, about('x'))).busy!;
  const dies = b.released(KEY, holder);
  alive.delete(1);
  await dies;
  alive.add(1);
  await again.release();

  (await a.claim(KEY, about('x'))).held!;
  const stop = new AbortController();
  const aborted = b.released(KEY, (await b.claim(KEY, about('x'))).busy!, stop.signal);
  stop.abort();
  await assert.rejects(aborted, { name: 'AbortError' });
});

test('describeHolder names the host only when it is another one', () => {
  const h = { pid: 42, host: 'lab-2', pipeline: 'pipelines/table1.yaml', stage: 'train', since: '2026-11-27T14:03:12.000Z', token: 't' };
  assert.equal(describeHolder(h, 'lab-2'), 'pid 42 (pipelines/table1.yaml, since 14:03:12 UTC)');
  assert.equal(describeHolder(h, 'lab-1'), 'pid 42 on lab-2 (pipelines/table1.yaml, since 14:03:12 UTC)');
});

test('where leases cannot work, every claim succeeds, with one warning', async (t) => {
  const dir = await tempDir('rethink-leases-');
  await writeFile(join(dir, 'leases'), 'a file where the leases folder should be');
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const leases = processOn(join(dir, 'leases'), 1, new Set([1]));
  const a = await leases.claim(KEY, about('x'));
  const b = await leases.claim(KEY, about('x'));
  assert.ok(a.held && b.held, 'no single flight, but no failure either');
  await a.held.release();
  assert.equal(await leases.holderOf(KEY), undefined);
  await new Promise((r) => setImmediate(r));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^RethinkLeaseWarning: leases in .*leases do not work here \(.*\); concurrent runs on this cache may compute a stage twice$/);
});

test('sweep deletes the leases of dead holders and old drafts, and leaves live leases', async () => {
  const dir = await tempDir('rethink-leases-');
  const alive = new Set([1, 2]);
  const a = processOn(dir, 1, alive);
  await a.claim(KEY, about('x'));
  await processOn(dir, 2, alive).claim('cd'.repeat(32) as CacheKey, about('y'));
  await writeFile(join(dir, '.0123.draft'), '{}');
  const old = new Date(Date.now() - 2 * 3600_000);
  await writeFile(join(dir, '.4567.draft'), '{}');
  await utimes(join(dir, '.4567.draft'), old, old);
  alive.delete(2);
  assert.equal(await processOn(dir, 3, alive).sweep(), 2, "pid 2's lease and the old draft");
  assert.deepEqual((await readdir(dir)).sort(), ['.0123.draft', `${KEY}.json`]);
});

/** A process of this host that stays alive until the test kills it. */
function liveChild(t: { after(fn: () => void): void }): number {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  t.after(() => child.kill());
  return child.pid!;
}

/** A lease file as the process `pid` (started at `start`) would have left it. */
async function leaseOf(dir: string, pid: number, start: string | undefined): Promise<void> {
  await mkdir(dir, { recursive: true });
  const holder = { pid, host: hostname(), pipeline: 'p.yaml', stage: 'x', since: new Date().toISOString(), token: 'feed', ...(start === undefined ? {} : { start }) };
  await writeFile(join(dir, `${KEY}.json`), JSON.stringify(holder));
}

const linuxOnly = { skip: process.platform !== 'linux' && 'start times come from /proc' };

test('a lease whose pid now belongs to another live process (another start time) is taken over, and swept', linuxOnly, async (t) => {
  const pid = liveChild(t);
  const start = processStart(pid);
  assert.match(start ?? '', /^[0-9a-f-]{36}\/\d+$/);
  const dir = await tempDir('rethink-leases-');
  const forged = `${start!.split('/')[0]}/1`; // the pid's earlier owner, started at the first tick
  await leaseOf(dir, pid, forged);
  const claim = await new Leases(dir).claim(KEY, about('x'));
  assert.ok(claim.held, 'taken over');
  assert.equal(claim.held.holder.start, processStart(process.pid), 'the new lease records its own start');
  await claim.held.release();

  await leaseOf(dir, pid, forged);
  assert.equal(await new Leases(dir).sweep(), 1);
  assert.deepEqual(await readdir(dir), []);
});

test('a lease of a live process with its own start time is kept; one with no start time (older rethinks) goes by the pid alone', linuxOnly, async (t) => {
  const pid = liveChild(t);
  const dir = await tempDir('rethink-leases-');
  for (const start of [processStart(pid), undefined]) {
    await leaseOf(dir, pid, start);
    assert.equal((await new Leases(dir).claim(KEY, about('x'))).busy?.pid, pid);
    assert.equal(await new Leases(dir).sweep(), 0);
    assert.deepEqual(await readdir(dir), [`${KEY}.json`]);
  }
});
