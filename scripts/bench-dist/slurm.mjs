// `--executor slurm` through the whole stack, on a private two-node cluster per round
// (test/support/slurm.ts: one CPU per node, batch_sched_delay=0, SlurmdTimeout=10): `stages` no-op
// stages against `--executor local`, then a node that dies under a stage (its slurmd, the job's
// slurmstepd and the job's `rethink exec`, SIGKILL) and the time until the stage, requeued, finished
// on the other node. Skipped, with the reason, without Slurm or munge, or on a build without the
// Slurm engine.
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { attemptsOnceThere } from './attempts.mjs';
import { matrixPipeline, writePipeline, writePlugin } from './project.mjs';
import { stats } from './report.mjs';

const SLOTS = 2; // two one-CPU nodes

export async function slurm(lab, { stages, rounds, sleepMs }) {
  let support;
  try {
    await import('../../dist/src/exec/engines/slurm.js');
    support = await import('../../dist/test/support/slurm.js');
  } catch {
    return { skipped: 'this build has no Slurm engine (src/exec/engines/slurm.ts)' };
  }
  const skip = support.slurmSkip();
  if (skip !== false) return { skipped: skip };
  const local = [];
  const slurm = [];
  const kills = [];
  for (let round = 0; round < rounds; round++) {
    // A cluster per round: the node killed in the last one stays down.
    const cluster = await support.startSlurmCluster();
    lab.adopt(cluster.dir);
    const undefer = lab.defer(() => cluster.stop());
    try {
      const project = lab.dir('project');
      writePlugin(project);
      // sbatch passes the coordinator's environment on to the job: its config, plugin code allowed,
      // and a node cache inside the lab.
      const env = { SLURM_CONF: cluster.env.SLURM_CONF, RETHINK_ALLOW_PLUGIN_CODE: '1', RETHINK_WORKER_CACHE: lab.dir('node-cache') };
      const onSlurm = (file, remote) => [file, '--cache-dir', lab.dir('cache'), '--remote', remote, '--executor', 'slurm'];
      const file = writePipeline(project, `noop-${round}`, matrixPipeline(stages, { salt: `slurm-${round}` }));
      for (const executor of round % 2 === 0 ? ['local', 'slurm'] : ['slurm', 'local']) {
        const args = executor === 'local' ? [file, '--cache-dir', lab.dir('cache'), '--remote', lab.dir('remote-local')] : onSlurm(file, lab.dir('remote'));
        const { seconds } = await lab.run(args, { cwd: project, env });
        (executor === 'local' ? local : slurm).push(seconds);
      }
      kills.push(await nodeKill(lab, { cluster, project, env, args: onSlurm, sleepMs, round }));
    } finally {
      undefer();
      await cluster.stop();
    }
  }
  const localS = stats(local);
  const slurmS = stats(slurm);
  return {
    stages,
    sleepMs,
    local: localS,
    slurm: slurmS,
    perJobS: stats(slurm.map((s, i) => ((s - local[i]) * SLOTS) / stages)),
    nodeKill: { restartS: stats(kills.map((k) => k.restartS)), finishedS: stats(kills.map((k) => k.finishedS)), otherNode: [...new Set(kills.map((k) => k.restartedOn))].join(', ') },
  };
}

/** One stage sleeping `sleepMs`; its node dies once it runs. Seconds from then to its start elsewhere and to the run's end. */
async function nodeKill(lab, { cluster, project, env, args, sleepMs, round }) {
  const remote = lab.dir('remote'); // its attempt notes alone
  const file = writePipeline(project, `slow-${round}`, `stages:\n  slow: { uses: ./bench.mjs, with: { sleep_ms: ${sleepMs}, salt: "kill-${round}" } }\n`);
  let settled = false;
  const run = lab.run(args(file, remote), { cwd: project, env });
  void run.then(
    () => (settled = true),
    () => (settled = true),
  );
  const [first] = await attemptsOnceThere(remote, 1, () => settled);
  const node = first.worker;
  const stepd = execFileSync('pgrep', ['-f', `slurmstepd: \\[${first.jobId}\\.batch\\]`]).toString().trim().split('\n').map(Number);
  const killedAt = Date.now();
  const t = performance.now();
  for (const pid of [cluster.slurmdPid(node), ...stepd, first.pid]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (e) {
      if (e.code !== 'ESRCH') throw e;
    }
  }
  const notes = await attemptsOnceThere(remote, 2, () => settled);
  const { doc } = await run;
  const finishedS = (performance.now() - t) / 1000;
  const again = notes[1];
  if (again.worker === node) throw new Error(`slurm node kill: the stage ran again on the dead node ${node}`);
  if (doc.stages[0].where.replace(/ \(.*\)$/, '') !== again.worker) throw new Error(`slurm node kill: the stage ended on ${doc.stages[0].where}, not ${again.worker}`);
  return { restartS: (Date.parse(again.startedAt) - killedAt) / 1000, finishedS, killed: node, restartedOn: again.worker };
}
