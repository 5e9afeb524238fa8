import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { UserError } from '../../src/util/user-error.js';
import { gpuRequestOf, jobNameOf, sbatchArgs, wrapOf, type SbatchRequest } from '../../src/exec/engines/slurm-args.js';
import { outcomeOf, parseSacct, parseScontrolJob, parseSqueue } from '../../src/exec/engines/slurm-status.js';

const KEY = 'ab'.repeat(32);
const base: SbatchRequest = { key: KEY, extraArgs: [], gpu: { kind: 'gres' }, log: '/c/slurm/k-%j.log', rethink: ['/usr/bin/node', '/opt/rethink/main.js'], remoteUrl: 's3://b/p' };

/** The options before `--wrap`, and the wrap. */
function split(args: string[]): { options: string[]; wrap: string } {
  const at = args.indexOf('--wrap');
  assert.equal(at, args.length - 2, '--wrap comes last');
  return { options: args.slice(0, at), wrap: args[at + 1]! };
}

test('sbatch args: name, log, requeue, then resources, partition, account, pipeline args, --slurm-args', () => {
  const { options } = split(
    sbatchArgs({
      ...base,
      resources: { gpu: 'none', cores: 4, memoryMb: 1536.5, timeMs: 90 * 60_000 + 1 },
      settings: { partition: 'cpu', gpuPartition: 'gpu', account: 'lab', args: ['--qos=high'] },
      extraArgs: ['--qos=low', '--nice=5'],
    }),
  );
  assert.deepEqual(options, [
    '--parsable',
    '--requeue',
    '-J',
    `rethink-${KEY.slice(0, 16)}`,
    '-o',
    '/c/slurm/k-%j.log',
    '--open-mode=append',
    '--cpus-per-task=4',
    '--mem=1537M',
    '--time=91',
    '--signal=B:TERM@120',
    '--partition=cpu',
    '--account=lab',
    '--qos=high',
    '--qos=low', // --slurm-args last: sbatch takes the last of a repeated option
    '--nice=5',
  ]);
});

test('sbatch args: a GPU stage asks by gres or by feature, on the GPU partition; preferred asks for nothing', () => {
  const gpu = { ...base, resources: { gpu: 'required', gpus: 2, cores: 1 } as const, settings: { partition: 'cpu', gpuPartition: 'gpu' } };
  const byGres = split(sbatchArgs(gpu)).options;
  assert.ok(byGres.includes('--gres=gpu:2') && byGres.includes('--partition=gpu'), byGres.join(' '));
  const byFeature = split(sbatchArgs({ ...gpu, gpu: gpuRequestOf('constraint') })).options;
  assert.ok(byFeature.includes('--constraint=gpu') && !byFeature.some((a) => a.startsWith('--gres')), byFeature.join(' '));
  assert.ok(split(sbatchArgs({ ...gpu, gpu: gpuRequestOf('constraint=a100|h100') })).options.includes('--constraint=a100|h100'));
  const noGpuPartition = split(sbatchArgs({ ...gpu, settings: { partition: 'cpu' } })).options;
  assert.ok(noGpuPartition.includes('--partition=cpu') && noGpuPartition.includes('--gres=gpu:2'));
  const preferred = split(sbatchArgs({ ...gpu, resources: { gpu: 'preferred', cores: 1 } })).options;
  assert.ok(!preferred.some((a) => a.startsWith('--gres') || a.startsWith('--constraint')) && preferred.includes('--partition=cpu'), preferred.join(' '));
});

test('sbatch args: all cores is an exclusive node; a short time limit gets its SIGTERM earlier; no resources, no options', () => {
  const all = split(sbatchArgs({ ...base, resources: { gpu: 'none', cores: 'all', timeMs: 1000 } })).options;
  assert.ok(all.includes('--exclusive') && !all.some((a) => a.startsWith('--cpus-per-task')), all.join(' '));
  assert.ok(all.includes('--time=1') && all.includes('--signal=B:TERM@30'), all.join(' '));
  assert.deepEqual(split(sbatchArgs(base)).options.slice(7), ['--signal=B:TERM@120']);
});

test('the wrap execs rethink exec for the key against the remote, in the node cache, as sh reads it', () => {
  const wrap = wrapOf(['/opt/my node/node', '/opt/rethink/main.js'], KEY, "s3://b/it's");
  assert.equal(wrap, `exec '/opt/my node/node' /opt/rethink/main.js exec --key ${KEY} --remote 's3://b/it'\\''s' --cache-dir "\${RETHINK_WORKER_CACHE:-\${TMPDIR:-/tmp}/rethink-worker-$(id -u)}"`);
  // What the node's sh passes to rethink, with printf standing in for it.
  const argv = (env: Record<string, string>) =>
    execFileSync('sh', ['-c', wrapOf(['printf', '%s\\n'], KEY, "s3://b/it's")], { env: { PATH: process.env['PATH']!, ...env } }).toString().trimEnd().split('\n');
  assert.deepEqual(argv({ RETHINK_WORKER_CACHE: '/scratch/rw' }), ['exec', '--key', KEY, '--remote', "s3://b/it's", '--cache-dir', '/scratch/rw']);
  assert.equal(argv({ TMPDIR: '/local' }).at(-1), `/local/rethink-worker-${process.getuid!()}`);
  assert.equal(argv({}).at(-1), `/tmp/rethink-worker-${process.getuid!()}`);
  assert.equal(jobNameOf(KEY), `rethink-${KEY.slice(0, 16)}`);
});

test('RETHINK_SLURM_GPU: gres by default; anything else unknown is a user error naming it', () => {
  assert.deepEqual(gpuRequestOf(undefined), { kind: 'gres' });
  assert.deepEqual(gpuRequestOf('gres'), { kind: 'gres' });
  assert.throws(
    () => gpuRequestOf('gpus'),
    (e: unknown) => e instanceof UserError && e.diagnostics[0]!.code === 'E_SLURM_GPU' && /RETHINK_SLURM_GPU "gpus"/.test(e.message),
  );
});

test('squeue, scontrol and sacct answers are read', () => {
  assert.deepEqual(parseSqueue('12|RUNNING|n2\n13|PENDING|\n'), [
    { id: '12', state: 'RUNNING', node: 'n2' },
    { id: '13', state: 'PENDING' },
  ]);
  const line =
    'JobId=1 JobName=t1 UserId=root(0) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 ExitCode=3:0 RunTime=00:00:00 NodeList=n1 BatchHost=n1 Command=(null) WorkDir=/tmp/x StdErr=/tmp/x/t1-1.log StdIn=/dev/null StdOut=/tmp/x/t1-1.log Power=';
  assert.deepEqual(parseScontrolJob(line), { state: 'FAILED', exitCode: 3, signal: 0, node: 'n1', log: '/tmp/x/t1-1.log' });
  assert.equal(parseScontrolJob('slurm_load_jobs error: Invalid job id specified'), undefined);
  assert.deepEqual(parseSacct('CANCELLED by 0|0:15|n1\n'), { state: 'CANCELLED', exitCode: 0, signal: 15, node: 'n1' });
});

test("a job's end means: completed; failed (exit 2/3: a user error); time or memory exceeded: failed; taken away: lost", () => {
  const end = (state: string, exitCode = 0, signal = 0) => outcomeOf('7', { state, exitCode, signal, node: 'n1' }, 'log /l:\n  boom');
  assert.deepEqual(end('COMPLETED'), { state: 'completed' });
  assert.deepEqual(end('FAILED', 1), { state: 'failed', reason: 'slurm job 7 FAILED on n1 (exit 1)\nlog /l:\n  boom' });
  assert.deepEqual(end('FAILED', 2), { state: 'failed', userError: true, reason: 'slurm job 7 FAILED on n1 (exit 2)\nlog /l:\n  boom' });
  assert.equal((end('FAILED', 3) as { userError?: boolean }).userError, true);
  assert.equal((end('FAILED', 0, 9) as { userError?: boolean }).userError, undefined);
  assert.match((end('TIMEOUT') as { reason: string }).reason, /TIMEOUT on n1: it ran past its time limit/);
  assert.equal(end('OUT_OF_MEMORY').state, 'failed');
  for (const s of ['CANCELLED', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL']) assert.equal(end(s).state, 'lost', s);
});
