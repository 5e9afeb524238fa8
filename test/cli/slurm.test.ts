// `rethink run --executor slurm` on a private two-node Slurm cluster on loopback (test/support/slurm.ts),
// with a directory as the shared remote: each stage is an sbatch job running `rethink exec` on a node.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { project, SWEEP, TEST_PLUGINS } from '../support/tmp-project.js';
import { startCli, until } from '../support/cli-process.js';
import { slurmSkip, startSlurmCluster, type SlurmCluster } from '../support/slurm.js';
import { tempDir } from '../support/temp.js';

const skip = slurmSkip();
let cluster: SlurmCluster;

before(async () => {
  if (skip === false) cluster = await startSlurmCluster();
});
after(() => cluster?.stop());

/** What a coordinator's jobs inherit (sbatch --export=ALL): the cluster's slurm.conf, each node's cache, leave to run the test plugin's code. */
async function clusterEnv(): Promise<Record<string, string>> {
  return { PATH: process.env['PATH']!, SLURM_CONF: cluster.env['SLURM_CONF']!, RETHINK_WORKER_CACHE: await tempDir('rethink-node-cache-'), RETHINK_RETRY_DELAY_MS: '10', RETHINK_ALLOW_PLUGIN_CODE: '1' };
}

const queued = async () => (await cluster.cmd('squeue', ['-h', '-o', '%i %j %T'])).trim();

test('--executor slurm computes a sweep to the same bytes as local, each stage a Slurm job on a node; a rerun submits nothing', { skip, timeout: 240_000 }, async () => {
  const files = { 'plugins.mjs': TEST_PLUGINS, 'p.yaml': SWEEP };
  const l = await (await project(files)).run('p.yaml');
  assert.equal(l.code, 0, l.stderr);

  const p = await project(files, await clusterEnv());
  const remote = join(p.dir, 'remote');
  const s = await p.run('p.yaml', '--executor', 'slurm', '--remote', remote);
  assert.equal(s.code, 0, s.stderr);
  const shape = (doc: typeof l.doc) => doc.stages.map(({ id, key, status, outputs }) => ({ id, key, status, outputs }));
  assert.deepEqual(shape(s.doc), shape(l.doc));
  // Where each ran, as far as the coordinator saw it before the record arrived (a 1 s job may finish between two squeue polls).
  const where = s.doc.stages.flatMap((stage) => (stage as { where?: string }).where ?? []);
  assert.ok(where.length > 0);
  for (const w of where) assert.match(w, /^n[12] \(slurm \d+\)$/);
  assert.equal(await queued(), '', 'no job left in the queue');

  const again = await p.run('p.yaml', '--executor', 'slurm', '--remote', remote);
  assert.ok(again.doc.stages.every((st) => st.status === 'cached'), JSON.stringify(again.status));
});

test('a user error in a Slurm job fails its stage once, not once per retry, and the run exits 2', { skip, timeout: 120_000 }, async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': 'stages:\n  bad: { uses: ./plugins.mjs, with: { value: 1, user_error: true }, retries: 2 }\n' }, await clusterEnv());
  const r = await p.run('p.yaml', '--executor', 'slurm', '--remote', join(p.dir, 'remote'));
  assert.equal(r.code, 2, r.stderr);
  const [bad] = r.doc.stages;
  assert.equal(bad!.status, 'failed');
  assert.equal(bad!.attempts ?? 1, 1);
  assert.match(bad!.reason ?? '', /checksum mismatch/);
});

test('Ctrl-C of the coordinator cancels its Slurm jobs: none is left in the queue', { skip, timeout: 120_000 }, async () => {
  const pipeline = 'stages:\n  spin1: { uses: ./plugins.mjs, with: { value: 1, spin: 1000000000 } }\n  spin2: { uses: ./plugins.mjs, with: { value: 2, spin: 1000000000 } }\n';
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': pipeline });
  const run = startCli(p.dir, ['run', 'p.yaml', '--executor', 'slurm', '--remote', join(p.dir, 'remote')], await clusterEnv());
  await until('both jobs to run', async () => (await queued()).split('\n').filter((l) => l.endsWith(' RUNNING')).length === 2, 60_000);
  run.child.kill('SIGINT');
  const { code, stderr } = await run.done;
  assert.equal(code, 130, stderr);
  // Each job was cancelled before the coordinator exited: none runs or waits; they end as soon as their processes do.
  assert.ok((await queued()).split('\n').every((l) => l === '' || l.endsWith(' COMPLETING')), await queued());
  await until('the cancelled jobs to end', async () => (await queued()) === '', 30_000);
});
