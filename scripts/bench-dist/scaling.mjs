// Scaling by simulation: `stages` stages of `stageMs` each through `--executor queue` on N workers
// (one slot each). Up to as many workers as this machine has cores, each stage holds a core (a busy
// loop), as a CPU training does; beyond that the stages sleep instead, so that 4 or 8 workers on 2
// cores measure the queue's scaling rather than the cores'. Efficiency is ideal / wall, the ideal
// being stages × stageMs / N.
import { cpus } from 'node:os';
import { matrixPipeline, writePipeline, writePlugin } from './project.mjs';
import { stats } from './report.mjs';

export async function scaling(lab, { stages, stageMs, rounds, workers }) {
  const cores = cpus().length;
  const redis = await lab.redis();
  const remote = lab.dir('remote');
  const project = lab.dir('project');
  writePlugin(project);
  const rows = [];
  for (const n of workers) {
    const busy = n <= cores;
    const pool = await Promise.all(Array.from({ length: n }, (_, i) => lab.worker({ queue: redis.url, remote, name: `x${n}-${i + 1}` })));
    const walls = [];
    for (let round = 0; round < rounds; round++) {
      const params = { ...(busy ? { busy_ms: stageMs } : { sleep_ms: stageMs }), salt: `scaling-${n}-${round}` };
      const file = writePipeline(project, `scaling-${n}-${round}`, matrixPipeline(stages, params));
      const { seconds } = await lab.run([file, '--cache-dir', lab.dir('cache'), '--remote', remote, '--executor', 'queue', '--queue', redis.url], { cwd: project });
      walls.push(seconds);
    }
    await Promise.all(pool.map((w) => lab.stop(w.child)));
    const ideal = (stages * stageMs) / 1000 / n;
    rows.push({ workers: n, busy, wall: stats(walls), ideal, efficiency: stats(walls.map((w) => ideal / w)) });
  }
  redis.stop();
  return { stages, stageMs, rounds, cores, rows };
}
