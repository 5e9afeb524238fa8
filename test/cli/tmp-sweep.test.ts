import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { project, SWEEP, TEST_PLUGINS, type Project } from '../support/tmp-project.js';
import { tmpName } from '../../src/store/tmp-dir.js';
import { processStart } from '../../src/util/process-start.js';

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid;
}

/** Writes a file in `dir`, last modified `hours` ago. */
async function leave(dir: string, name: string, hours: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, name), 'x'.repeat(1000));
  const when = new Date(Date.now() - hours * 3600_000);
  await utimes(join(dir, name), when, when);
  return name;
}

/** A dead pid's entry 2 h old, a fresh one of a dead pid, and a 2 h old one of this (live) process. */
async function leftovers(p: Project) {
  const tmp = join(p.dir, 'cache', 'tmp');
  const dead = { pid: deadPid(), host: hostname(), start: undefined };
  return {
    tmp,
    old: await leave(tmp, tmpName('obj', dead), 2),
    fresh: await leave(tmp, tmpName('obj', dead), 0.25),
    live: await leave(tmp, tmpName('obj', { pid: process.pid, host: hostname(), start: processStart(process.pid) }), 2),
    unowned: await leave(tmp, 'obj-0123456789abcdef', 2), // an older rethink's name
  };
}

test("run and gc sweep tmp/ of a dead process's leftovers older than an hour, and keep a live process's", async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  const viaRun = await leftovers(p);
  assert.equal((await p.run('p.yaml')).code, 0);
  assert.deepEqual((await readdir(viaRun.tmp)).sort(), [viaRun.fresh, viaRun.live].sort());

  const viaGc = await leftovers(p);
  const r = await p.cli('gc', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { deletedTmp: number }).deletedTmp, 2);
  assert.deepEqual((await readdir(viaGc.tmp)).sort(), [viaRun.fresh, viaRun.live, viaGc.fresh, viaGc.live].sort());
});

test("gc --remote DIR and run with a directory remote sweep its tmp/ of uploads untouched for an hour", async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP });
  const remote = join(p.dir, 'shared');
  const tmp = join(remote, 'tmp');
  await leave(tmp, 'put-0123456789abcdef', 2);
  const young = await leave(tmp, 'put-fedcba9876543210', 0.25);
  assert.equal((await p.run('p.yaml', '--remote', remote)).code, 0);
  assert.deepEqual(await readdir(tmp), [young]);

  await leave(tmp, 'put-00112233445566aa', 2);
  const readOnly = await p.run('p.yaml', '--remote', remote, '--remote-read-only');
  assert.equal(readOnly.code, 0);
  assert.equal((await readdir(tmp)).length, 2, 'a read-only remote is not written to, not even to sweep it');

  const r = await p.cli('gc', '--remote', remote, 'p.yaml', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { deletedTmp: number }).deletedTmp, 1);
  assert.deepEqual(await readdir(tmp), [young]);
});
