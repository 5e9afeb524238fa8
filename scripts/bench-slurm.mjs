#!/usr/bin/env node
// Per-job overhead of `--executor slurm`'s engine on a private two-node Slurm cluster on loopback
// (test/support/slurm.ts: batch_sched_delay=0, one CPU per node): `jobs` no-op jobs submitted at once
// (two run at a time), then a chain of `chain` jobs one after another (submit → seen completed).
// `node scripts/bench-slurm.mjs [jobs=20] [chain=5]`. Needs `npm run build`, Slurm and munge
// (scripts/ci/slurm.sh). Times include the engine's 1 s squeue interval.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createSlurmEngine } from '../dist/src/exec/engines/slurm.js';
import { slurmSkip, startSlurmCluster } from '../dist/test/support/slurm.js';

const [jobs = 20, chain = 5] = process.argv.slice(2).map(Number);
const skip = slurmSkip();
if (skip !== false) {
  console.error(`bench-slurm: ${skip}`);
  process.exit(2);
}
const cluster = await startSlurmCluster();
try {
  const engine = await createSlurmEngine({
    remote: {},
    remoteUrl: 'unused',
    cacheDir: join(cluster.dir, 'cache'),
    plan: { instances: new Map() },
    rethink: ['/bin/true'], // a no-op stands in for `rethink exec`
    env: cluster.env,
    warn: (line) => console.error(line),
  });
  const run = async () => {
    const key = randomBytes(32).toString('hex');
    const job = await engine.submit({ key, stage: { id: `noop[${key.slice(0, 6)}]` } }, `jobs/${key}/spec.json`, new AbortController().signal);
    const outcome = await job.outcome;
    if (outcome.state !== 'completed') throw new Error(`job ${job.id}: ${JSON.stringify(outcome)}`);
  };
  let t = performance.now();
  await Promise.all(Array.from({ length: jobs }, run));
  const parallel = (performance.now() - t) / 1000;
  t = performance.now();
  for (let i = 0; i < chain; i++) await run();
  const chained = (performance.now() - t) / 1000;
  console.log(`${jobs} no-op jobs at once on 2 one-CPU nodes: ${parallel.toFixed(1)} s (${(parallel / jobs).toFixed(2)} s per job, ${((2 * parallel) / jobs).toFixed(2)} s per job per CPU slot)`);
  console.log(`${chain} no-op jobs as a chain: ${chained.toFixed(1)} s (${(chained / chain).toFixed(2)} s per job, submit to completion seen)`);
  await engine.close();
} finally {
  await cluster.stop();
}
