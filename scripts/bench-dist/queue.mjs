// `--executor queue` through the whole stack: a `rethink run` coordinator, `rethink worker`s with
// their warm children, a directory remote. dispatch(): no-op stages all at once and as a chain, each
// round against the same pipelines under `--executor local` (alternating which goes first).
// recovery(): kill -9 of the worker (and its children: the machine dies) running a stage, and the
// time until another worker starts it again, from the attempt notes the children leave on the remote.
import { performance } from 'node:perf_hooks';
import { attemptsOnceThere } from './attempts.mjs';
import { chainPipeline, matrixPipeline, writePipeline, writePlugin } from './project.mjs';
import { stats } from './report.mjs';

const SHAPES = { matrix: matrixPipeline, chain: chainPipeline };

/** Wall times of `stages` no-op stages, local and queue on `workers` workers, per shape; and where they ran. */
export async function dispatch(lab, { stages, workers, rounds }) {
  const redis = await lab.redis();
  const remote = lab.dir('remote');
  const project = lab.dir('project');
  writePlugin(project);
  const pool = await Promise.all(Array.from({ length: workers }, (_, i) => lab.worker({ queue: redis.url, remote, name: `w${i + 1}` })));
  const times = { matrix: { local: [], queue: [] }, chain: { local: [], queue: [] } };
  const ranOn = {};
  for (let round = 0; round < rounds; round++) {
    for (const [shape, pipeline] of Object.entries(SHAPES)) {
      const file = writePipeline(project, `${shape}-${round}`, pipeline(stages, { salt: `dispatch-${round}` }));
      for (const executor of round % 2 === 0 ? ['local', 'queue'] : ['queue', 'local']) {
        // The local run publishes to a directory remote too, so that the difference is the dispatch.
        const where = executor === 'local' ? ['--remote', lab.dir('remote-local')] : ['--remote', remote, '--executor', 'queue', '--queue', redis.url];
        const { seconds, doc } = await lab.run([file, '--cache-dir', lab.dir('cache'), ...where], { cwd: project });
        times[shape][executor].push(seconds);
        if (executor === 'queue') for (const s of doc.stages) ranOn[workerOf(s.where)] = (ranOn[workerOf(s.where)] ?? 0) + 1;
      }
    }
  }
  await Promise.all(pool.map((w) => lab.stop(w.child)));
  redis.stop();
  const figures = (shape) => {
    const local = stats(times[shape].local);
    const queue = stats(times[shape].queue);
    // Per stage, each round's queue time less the same round's local time.
    const overheadMs = stats(times[shape].queue.map((q, i) => ((q - times[shape].local[i]) / stages) * 1000));
    return { local, queue, overheadMs };
  };
  return { stages, workers, rounds, matrix: figures('matrix'), chain: figures('chain'), ranOn };
}

/**
 * One stage that sleeps `sleepMs` on two workers with the given lock and stalled-check settings
 * (undefined: the defaults): the worker that starts it is killed with its children once the stage
 * runs; resolves with the seconds from the kill to the stage's start on the other worker (its
 * attempt note's startedAt) and to the coordinator's end.
 */
export async function recovery(lab, { label, lockMs, stalledMs, sleepMs }) {
  const redis = await lab.redis();
  const remote = lab.dir('remote');
  const project = lab.dir('project');
  writePlugin(project);
  const names = [`${label}-a`, `${label}-b`];
  const pool = await Promise.all(names.map((name) => lab.worker({ queue: redis.url, remote, name, lockMs, stalledMs })));
  const file = writePipeline(project, 'slow', `stages:\n  slow: { uses: ./bench.mjs, with: { sleep_ms: ${sleepMs}, salt: ${JSON.stringify(label)} } }\n`);
  let settled = false;
  const run = lab.run([file, '--cache-dir', lab.dir('cache'), '--remote', remote, '--executor', 'queue', '--queue', redis.url], { cwd: project });
  void run.then(
    () => (settled = true),
    () => (settled = true),
  );
  const [first] = await attemptsOnceThere(remote, 1, () => settled);
  const killedAt = Date.now();
  const t = performance.now();
  lab.kill(pool.find((w) => w.name === first.worker).child);
  const notes = await attemptsOnceThere(remote, 2, () => settled);
  const { doc } = await run;
  const finishedS = (performance.now() - t) / 1000;
  await Promise.all(pool.filter((w) => w.name !== first.worker).map((w) => lab.stop(w.child)));
  redis.stop();
  const again = notes[1];
  if (again.worker === first.worker) throw new Error(`recovery ${label}: the stage started again on the killed worker ${first.worker}`);
  if (workerOf(doc.stages[0].where) !== again.worker) throw new Error(`recovery ${label}: the stage ran on ${doc.stages[0].where}, not ${again.worker}`);
  return { restartS: (Date.parse(again.startedAt) - killedAt) / 1000, finishedS, killed: first.worker, restartedOn: again.worker };
}

/** The worker of a stage's `where`: `w1 (queue 0f8ab4463eeb)` → `w1`; `unsaid` when the document gives none. */
const workerOf = (where) => (where === undefined ? 'unsaid' : where.replace(/ \(.*\)$/, ''));
