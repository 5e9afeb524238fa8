// A private, real Slurm cluster for one test file: slurmctld and two slurmd (n1, and n2 with the
// `gpu` feature) on loopback, with their own free ports, state, spool, pid and log files in a temp
// directory and their own slurm.conf, which commands find through SLURM_CONF. Nothing under
// /etc/slurm is read or changed. munged (system-wide, shared) is started if none runs and left
// running, as a system service is. Without Slurm installed the tests skip, unless
// RETHINK_REQUIRE_SERVICES=1 (CI), where a missing service fails them.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from './temp.js';

const DAEMONS = ['/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/sbin/munged'];
const CLIENTS = ['sbatch', 'squeue', 'scontrol', 'scancel', 'sinfo'];
export const NODES = ['n1', 'n2'] as const;
const MUNGE_SOCKET = '/run/munge/munge.socket.2';

/** Why the Slurm tests cannot run here (a `skip` reason), or false; throws instead under RETHINK_REQUIRE_SERVICES=1. */
export function slurmSkip(): string | false {
  const missing = [...DAEMONS.filter((d) => !existsSync(d)), ...CLIENTS.filter((c) => spawnSync(c, ['--version']).error !== undefined)];
  const reason =
    missing.length > 0
      ? `Slurm is not installed (${missing.join(', ')} missing): apt-get install slurm-wlm munge, or run scripts/ci/slurm.sh`
      : !existsSync(MUNGE_SOCKET) && process.getuid?.() !== 0
        ? 'munged is not running and only root can start it: run scripts/ci/slurm.sh'
        : false;
  if (reason !== false && process.env['RETHINK_REQUIRE_SERVICES'] === '1') throw new Error(`RETHINK_REQUIRE_SERVICES=1 but ${reason}`);
  return reason;
}

export interface SlurmCluster {
  readonly dir: string;
  /** The environment for Slurm commands and the engine: this process's plus SLURM_CONF. */
  readonly env: Readonly<Record<string, string>>;
  /** Runs a Slurm command against this cluster; resolves with its stdout, rejects on failure. */
  cmd(command: string, args: readonly string[]): Promise<string>;
  /** The pid of node `name`'s slurmd. */
  slurmdPid(name: string): number | undefined;
  stop(): Promise<void>;
}

export async function startSlurmCluster(): Promise<SlurmCluster> {
  await ensureMunged();
  const dir = await tempDir('rethink-slurm-');
  await Promise.all([mkdir(join(dir, 'state')), ...NODES.map((n) => mkdir(join(dir, 'spool', n), { recursive: true }))]);
  const [ctld, ...nodePorts] = await freePorts(1 + NODES.length);
  const conf = join(dir, 'slurm.conf');
  await writeFile(conf, slurmConf(dir, `rt${process.pid}x${Date.now() % 100_000}`, ctld!, nodePorts));
  const env = { ...(process.env as Record<string, string>), SLURM_CONF: conf };
  const daemons = new Map<string, ChildProcess>();
  const start = (name: string, bin: string, args: string[]) => {
    const child = spawn(bin, ['-D', ...args], { env, stdio: 'ignore' });
    daemons.set(name, child);
  };
  const cmd = (command: string, args: readonly string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile(command, args, { env }, (error, stdout, stderr) => (error ? reject(new Error(`${command} ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout))),
    );
  const stop = async () => {
    await cmd('scancel', ['--user', userInfo().username]).catch(() => {});
    const exits = [...daemons.values()].filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise((r) => (c.once('exit', r), c.kill('SIGTERM'))));
    await Promise.race([Promise.all(exits), sleep(10_000)]);
    for (const c of daemons.values()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    process.off('exit', killAll);
    await rm(dir, { recursive: true, force: true });
  };
  const killAll = () => {
    for (const c of daemons.values()) c.kill('SIGKILL');
  };
  process.on('exit', killAll);

  start('slurmctld', '/usr/sbin/slurmctld', ['-i']);
  for (const node of NODES) start(node, '/usr/sbin/slurmd', ['-N', node]);
  const cluster: SlurmCluster = { dir, env, cmd, slurmdPid: (name) => daemons.get(name)?.pid, stop };
  try {
    await untilIdle(cluster);
  } catch (e) {
    await stop();
    throw e;
  }
  return cluster;
}

/** Waits until sinfo shows every node idle (the daemons need a few seconds to register). */
async function untilIdle(cluster: SlurmCluster): Promise<void> {
  let last = '';
  for (let i = 0; i < 120; i++) {
    last = await cluster.cmd('sinfo', ['-h', '-N', '-o', '%N %t']).catch((e: Error) => e.message);
    const idle = last.split('\n').filter((l) => / idle$/.test(l.trim())).length;
    if (idle === NODES.length) return;
    await sleep(250);
  }
  throw new Error(`the test Slurm cluster did not come up (sinfo: ${last.trim()}); its logs are in ${cluster.dir}`);
}

function slurmConf(dir: string, name: string, ctldPort: number, nodePorts: readonly number[]): string {
  const host = hostname();
  return [
    `ClusterName=${name}`,
    // Job ids of their own, so that two clusters on one host (test files run in parallel) never share one.
    `FirstJobId=${1 + randomInt(600_000) * 100}`, // below MaxJobId (67,043,328 by default)
    'SlurmctldHost=localhost(127.0.0.1)',
    `SlurmctldPort=${ctldPort}`,
    `SlurmdPort=${nodePorts[0]}`,
    'SlurmUser=root',
    'SlurmdUser=root',
    'AuthType=auth/munge',
    'CredType=cred/munge',
    'MpiDefault=none',
    'SwitchType=switch/none',
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'JobAcctGatherType=jobacct_gather/none',
    'AccountingStorageType=accounting_storage/none',
    'SchedulerType=sched/backfill',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core',
    'ReturnToService=2',
    `StateSaveLocation=${dir}/state`,
    `SlurmdSpoolDir=${dir}/spool/%n`,
    `SlurmctldPidFile=${dir}/slurmctld.pid`,
    `SlurmdPidFile=${dir}/slurmd-%n.pid`,
    `SlurmctldLogFile=${dir}/slurmctld.log`,
    `SlurmdLogFile=${dir}/slurmd-%n.log`,
    'SlurmdTimeout=10',
    'InactiveLimit=0',
    'MinJobAge=300',
    'KillWait=5',
    // Jobs start as soon as they are submitted (batch_sched_delay=0), and a requeued job whose hold has
    // passed waits at most 5 s for the main scheduler (sched_interval, 60 s by default, is all that
    // wakes it on an idle cluster: a node kill measured 57 s to the job running elsewhere, 42 s with 5).
    'SchedulerParameters=batch_sched_delay=0,sched_interval=5',
    'AuthInfo=cred_expire=10',
    ...NODES.map(
      (n, i) => `NodeName=${n} NodeHostname=${host} NodeAddr=127.0.0.1 Port=${nodePorts[i]} CPUs=1 RealMemory=2000${n === 'n2' ? ' Features=gpu' : ''} State=UNKNOWN`,
    ),
    `PartitionName=debug Nodes=${NODES.join(',')} Default=YES MaxTime=INFINITE State=UP`,
    '',
  ].join('\n');
}

/** Ports nothing listens on now (the kernel's choice of free ephemeral ports). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<import('node:net').Server>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Starts munged as the munge user when none answers (as root; scripts/ci/slurm.sh does the same). */
async function ensureMunged(): Promise<void> {
  if (existsSync(MUNGE_SOCKET) && spawnSync('munge', ['-n']).status === 0) return;
  await mkdir('/run/munge', { recursive: true });
  spawnSync('chown', ['munge:munge', '/run/munge']);
  const started = spawnSync('runuser', ['-u', 'munge', '--', '/usr/sbin/munged']);
  if (started.status !== 0) throw new Error(`munged did not start: ${started.stderr.toString().trim()}`);
}
