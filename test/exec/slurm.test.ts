// The Slurm engine against a real two-node Slurm cluster on loopback (test/support/slurm.ts). Most jobs
// stand in for `rethink exec`: a shell script that runs what each test wrote for its key, so that the
// engine itself (sbatch, squeue, scontrol, scancel, requeue) is what is tested; one runs the real
// `rethink exec` against a directory remote.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../../src/util/user-error.js';
import type { EngineJob, JobEngine, SlurmEngineOptions } from '../../src/exec/engine.js';
import { createSlurmEngine } from '../../src/exec/engines/slurm.js';
import type { Plan } from '../../src/plan/plan.js';
import type { Resources } from '../../src/plan/resources.js';
import type { Remote } from '../../src/store/remote.js';
import { asCacheKey, asStageId } from '../../src/util/brand.js';
import { loadWorkspace } from '../../src/cli/workspace.js';
import { inputKeys, lookup, resolveInputs } from '../../src/exec/executor.js';
import { buildJobSpec, type JobSpec } from '../../src/exec/job-spec.js';
import { LocalStore } from '../../src/store/local.js';
import { DirRemote, jobSpecPathOf, runPathOf } from '../../src/store/remote.js';
import { publishPluginCode } from '../../src/exec/plugin-code.js';
import type { RunRecord } from '../../src/store/types.js';
import { compiledBin, project, TEST_PLUGINS } from '../support/tmp-project.js';
import { slurmSkip, startSlurmCluster, type SlurmCluster } from '../support/slurm.js';
import { tempDir } from '../support/temp.js';

const skip = slurmSkip();
let cluster: SlurmCluster;
let dir: string;
const engines: JobEngine[] = [];

before(async () => {
  if (skip !== false) return;
  cluster = await startSlurmCluster();
  dir = await tempDir('rethink-slurm-jobs-');
  await mkdir(join(dir, 'jobs'));
  // `sh job.sh exec --key K --remote R --cache-dir D`: runs jobs/K.sh with those arguments.
  await writeFile(join(dir, 'job.sh'), `. ${dir}/jobs/"$3".sh\n`);
});

after(async () => {
  await Promise.all(engines.map((e) => e.close?.()));
  await cluster?.stop();
});

interface Built {
  readonly engine: JobEngine;
  readonly warnings: string[];
}

async function engine(options: Partial<SlurmEngineOptions> = {}, env: Record<string, string> = {}): Promise<Built> {
  const warnings: string[] = [];
  const built = await createSlurmEngine({
    remote: {} as Remote, // the engine never reads the remote: the job does
    remoteUrl: `${dir}/remote`,
    cacheDir: join(dir, 'cache'),
    plan: { instances: new Map() } as unknown as Plan,
    rethink: ['/bin/sh', join(dir, 'job.sh')],
    env: { ...cluster.env, RETHINK_WORKER_CACHE: join(dir, 'worker'), ...env },
    warn: (line) => warnings.push(line),
    ...options,
  });
  engines.push(built);
  return { engine: built, warnings };
}

/** A key whose job runs `script` (sh, with the job's arguments as $1…). */
async function jobFor(script: string): Promise<string> {
  const key = randomBytes(32).toString('hex');
  await writeFile(join(dir, 'jobs', `${key}.sh`), script);
  return key;
}

function spec(key: string, resources?: Resources): JobSpec {
  return { key: asCacheKey(key), stage: { id: asStageId(`s[${key.slice(0, 6)}]`), name: 's', matrix: {} }, ...(resources ? { resources } : {}) } as unknown as JobSpec;
}

const submit = (e: JobEngine, key: string, resources?: Resources) => e.submit(spec(key, resources), `jobs/${key}/spec.json`, new AbortController().signal);

function placements(job: EngineJob): string[] {
  const seen: string[] = [];
  job.onPlacement((where) => seen.push(where));
  return seen;
}

async function squeueIds(): Promise<string[]> {
  return (await cluster.cmd('squeue', ['-h', '-o', '%i'])).split('\n').filter((l) => l.trim() !== '');
}

test('a job that exits 0, 1 or 3 is completed, failed, or failed as a user error, with its log quoted', { skip, timeout: 60_000 }, async () => {
  const { engine: e, warnings } = await engine({}, { RETHINK_TEST_MARK: 'inherited' });
  const ok = await jobFor(`printf '%s\\n' "$@" "$RETHINK_TEST_MARK" > ${dir}/args-ok\n`);
  const failing = await jobFor(`echo "loss is NaN at epoch 3" >&2\nexit 1\n`);
  const refused = await jobFor('echo "spec key does not match" >&2\nexit 3\n');
  const jobs = await Promise.all([ok, failing, refused].map((k) => submit(e, k)));
  const where = jobs.map(placements);
  const [done, failed, userError] = await Promise.all(jobs.map((j) => j.outcome));

  assert.deepEqual(done, { state: 'completed' });
  // The job ran `rethink exec` for its key against the remote, with the node's cache and the coordinator's environment.
  assert.deepEqual((await readFile(join(dir, 'args-ok'), 'utf8')).split('\n'), ['exec', '--key', ok, '--remote', `${dir}/remote`, '--cache-dir', join(dir, 'worker'), 'inherited', '']);
  assert.equal(failed?.state, 'failed');
  assert.match((failed as { reason: string }).reason, new RegExp(`^slurm job ${jobs[1]!.id} FAILED on n[12] \\(exit 1\\)\\nlog ${dir}/cache/slurm/${failing}-${jobs[1]!.id}.log:\\n  loss is NaN at epoch 3$`));
  assert.equal((failed as { userError?: boolean }).userError, undefined);
  assert.equal(userError?.state, 'failed');
  assert.equal((userError as { userError?: boolean }).userError, true);
  assert.match((userError as { reason: string }).reason, /\(exit 3\)\n.*\n  spec key does not match$/);
  for (const nodes of where) assert.match(nodes.join(), /^n[12]$/);
  assert.deepEqual(warnings, []);
});

test('a second submit for a key already queued attaches to its job, from this coordinator or a restarted one; cancel removes it', { skip, timeout: 60_000 }, async () => {
  const { engine: first } = await engine();
  // On SIGTERM it takes 3 s to stop (it checkpoints, say): the cancelled job stays COMPLETING meanwhile.
  const key = await jobFor(`trap 'sleep 3; exit 0' TERM\ntouch ${dir}/trapped-$3\nsleep 300 &\nwait\n`);
  const job = await submit(first, key);
  assert.equal(job.attached, false);
  const again = await submit(first, key);
  const { engine: restarted } = await engine();
  const found = await submit(restarted, key);
  assert.deepEqual([again.id, again.attached, found.id, found.attached], [job.id, true, job.id, true]);
  assert.deepEqual((await squeueIds()).filter((id) => id === job.id), [job.id], 'one job for the key');

  await until(join(dir, `trapped-${key}`)); // running, its trap set
  await found.cancel();
  assert.deepEqual(await found.outcome, { state: 'lost', reason: `slurm job ${job.id} was cancelled (scancel)` });
  // A job that is ending is not attached to: the next submit for the key starts a new one.
  const next = await submit(restarted, key);
  assert.equal(next.attached, false);
  assert.notEqual(next.id, job.id);
  await next.cancel();
  // The first coordinator's watch sees it end as CANCELLED: lost, so that a retry may run it again.
  const seen = await job.outcome;
  assert.equal(seen.state, 'lost');
  assert.match((seen as { reason: string }).reason, new RegExp(`slurm job ${job.id} CANCELLED`));
  assert.ok(!(await squeueIds()).includes(job.id), 'gone from squeue');
});

test('a GPU stage asked by feature runs on the GPU node; a feature the cluster lacks is a user error quoting sbatch', { skip, timeout: 60_000 }, async () => {
  const gpu: Resources = { gpu: 'required', cores: 1 };
  const { engine: byFeature } = await engine({}, { RETHINK_SLURM_GPU: 'constraint' });
  const job = await submit(byFeature, await jobFor('exit 0\n'), gpu);
  const where = placements(job);
  assert.deepEqual(await job.outcome, { state: 'completed' });
  assert.deepEqual(where, ['n2']);

  const { engine: wrong } = await engine({}, { RETHINK_SLURM_GPU: 'constraint=tpu' });
  const refused = await (await submit(wrong, await jobFor('exit 0\n'), gpu)).outcome;
  assert.equal(refused.state, 'failed');
  assert.equal((refused as { userError?: boolean }).userError, true);
  assert.match((refused as { reason: string }).reason, /^sbatch refused stage s\[\w+\]: sbatch: error: Batch job submission failed: Invalid feature specification/);
  const { engine: partition } = await engine({ args: '--partition=nope' });
  const noPartition = await (await submit(partition, await jobFor('exit 0\n'))).outcome;
  assert.match((noPartition as { reason: string }).reason, /invalid partition specified: nope/);
});

test('without sbatch on PATH, a SLURM_CONF that is not there, a controller that does not answer, or --slurm-args sh cannot read, the engine is a user error', { skip }, async () => {
  const isUserError = (code: string, text: RegExp) => (e: unknown) => e instanceof UserError && e.diagnostics[0]!.code === code && text.test(e.message);
  await assert.rejects(engine({}, { PATH: join(dir, 'nothing-here') }), isUserError('E_SLURM_MISSING', /--executor slurm needs sbatch on PATH/));
  await assert.rejects(engine({}, { SLURM_CONF: join(dir, 'no-slurm.conf') }), isUserError('E_SLURM_CONF', /SLURM_CONF is .*no-slurm.conf, and there is no such file/));
  // A controller nobody runs (port 1), given up on at once (MessageTimeout=1).
  const nowhere = join(dir, 'nowhere.conf');
  await writeFile(nowhere, 'ClusterName=nowhere\nSlurmctldHost=localhost(127.0.0.1)\nSlurmctldPort=1\nMessageTimeout=1\nNodeName=n1 CPUs=1\nPartitionName=p Nodes=n1\n');
  await assert.rejects(engine({}, { SLURM_CONF: nowhere }), isUserError('E_SLURM_UNREACHABLE', /cannot reach the Slurm controller: squeue says "slurm_load_jobs error: Unable to contact slurm controller/));
  await assert.rejects(engine({ args: `--comment='unfinished` }), isUserError('E_SLURM_ARGS', /--slurm-args "--comment='unfinished" is not a list of sbatch options: unterminated ' quote/));
});

test('a job runs `rethink exec` for its key against the remote: outputs, then the record naming the node and the Slurm job', { skip, timeout: 60_000 }, async () => {
  const p = await project({ 'plugins.mjs': TEST_PLUGINS, 'p.yaml': 'stages:\n  a: { uses: ./plugins.mjs, with: { value: 7 } }\n' });
  const io = { stdout: () => {}, stderr: () => {}, isTTY: false, cwd: p.dir, env: {} };
  const { plan } = await loadWorkspace(io, 'p.yaml');
  const inst = plan.instances.get(asStageId('a'))!;
  const { key, keyRecord } = await lookup(new LocalStore(join(p.dir, 'unused')), inst, inputKeys(plan, inst, () => ({})));
  const spec = buildJobSpec({ instance: inst, key, keyRecord, inputs: resolveInputs(plan, inst, () => ({})), cores: 1 }, plan);
  // What the coordinator does first: the spec goes where `rethink exec --key` looks for it.
  const remote = join(p.dir, 'remote');
  const specFile = join(remote, ...jobSpecPathOf(key).split('/'));
  await mkdir(join(specFile, '..'), { recursive: true });
  await writeFile(specFile, JSON.stringify(spec));
  await publishPluginCode(new DirRemote(remote), spec.plugin.baseDir, spec.plugin.uses);

  // The test plugin is loaded from a path: the job may run its code, which it fetches from the remote.
  const { engine: e } = await engine({ remoteUrl: remote, plan, rethink: [process.execPath, compiledBin()] }, { RETHINK_ALLOW_PLUGIN_CODE: '1' });
  const job = await e.submit(spec, jobSpecPathOf(key), new AbortController().signal);
  const where = placements(job);
  assert.deepEqual(await job.outcome, { state: 'completed' });
  const record = JSON.parse(await readFile(join(remote, ...runPathOf(key).split('/')), 'utf8')) as RunRecord;
  const out = record.outputs['out']!.hash;
  assert.ok(existsSync(join(remote, 'objects', out.slice(0, 2), out.slice(2))), 'the output is on the remote');
  const node = where[0]!;
  assert.deepEqual(where, [node]);
  assert.match(node, /^n[12]$/);
  assert.deepEqual(record.provenance['ranOn'], { engine: 'slurm', jobId: job.id, attempt: 1, host: node, worker: node });
});

test('a node that dies under a job: the job is requeued and finishes on the other node, placed on both', { skip, timeout: 150_000 }, async () => {
  const { engine: e, warnings } = await engine();
  // The first attempt waits to be killed; the requeued one ($SLURM_RESTART_COUNT=1) finishes.
  const key = await jobFor(`[ "\${SLURM_RESTART_COUNT:-0}" -gt 0 ] && exit 0\necho $$ > ${dir}/victim\nexec sleep 300\n`);
  const job = await submit(e, key);
  const where = placements(job);
  while (where.length === 0) await sleep(200);
  const node = where[0]!;
  const victim = await readPid(join(dir, 'victim'));
  // The machine dies: its slurmd, the job's slurmstepd and the job itself, all at once.
  const stepd = execFileSync('pgrep', ['-f', `slurmstepd: \\[${job.id}\\.batch\\]`]).toString().trim().split('\n').map(Number);
  for (const pid of [cluster.slurmdPid(node)!, ...stepd, victim]) process.kill(pid, 'SIGKILL');

  assert.deepEqual(await job.outcome, { state: 'completed' });
  const other = node === 'n1' ? 'n2' : 'n1';
  assert.deepEqual(where, [node, other]);
  assert.ok(warnings.some((w) => w === `slurm job ${job.id} was requeued after running on ${node}; it waits to run again`), warnings.join('\n'));
});

async function readPid(path: string): Promise<number> {
  for (;;) {
    const text = await readFile(path, 'utf8').catch(() => '');
    if (text.trim() !== '') return Number(text);
    await sleep(100);
  }
}

async function until(path: string): Promise<void> {
  while (!existsSync(path)) await sleep(100);
}
