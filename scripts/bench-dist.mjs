#!/usr/bin/env node
// The distributed executors' numbers (issue 15), through the whole stack: real `rethink run`
// coordinators, real `rethink worker`s with warm children, a directory remote, and a tiny plugin from
// the project (its code goes to the workers through the remote, as a user's plugin would). Sections:
//   queue    200 no-op stages on 3 workers, all at once and as a chain, against `--executor local`
//            (alternating); kill -9 of the worker running a stage: lock 2 s / stalled check 1 s, and
//            the defaults (one round); then the engine alone (scripts/bench-queue.mjs).
//   slurm    `--executor slurm` on a private two-node cluster (batch_sched_delay=0): 20 no-op stages,
//            and a node killed under a running stage (needs Slurm and munge); then the engine alone
//            (scripts/bench-slurm.mjs).
//   scaling  64 stages of 1 s on 1, 2 (holding a core each), 4 and 8 workers (sleeping: simulated).
// Each figure is the mean over --rounds (default 3) with min and max, printed as a Markdown table per
// section, then one JSON line for the closing note. `--quick` runs fewer and shorter stages, for a
// smoke run. Needs `npm run build` and redis-server. Every process and temp dir it made is gone when
// it ends, on Ctrl-C too.
// `npm run bench:dist -- [--rounds N] [--quick] [--only queue|slurm|scaling]`
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Lab } from './bench-dist/lab.mjs';
import { dispatch, recovery } from './bench-dist/queue.mjs';
import { load, show, showLoad, stats, table } from './bench-dist/report.mjs';
import { scaling } from './bench-dist/scaling.mjs';
import { slurm } from './bench-dist/slurm.mjs';

const SECTIONS = ['queue', 'slurm', 'scaling'];
const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, quick: { type: 'boolean', default: false }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log('npm run bench:dist -- [--rounds N] [--quick] [--only queue|slurm|scaling]');
  process.exit(0);
}
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) usage(`--rounds must be a whole number ≥ 1, got ${values.rounds}`);
if (values.only !== undefined && !SECTIONS.includes(values.only)) usage(`--only must be one of ${SECTIONS.join(', ')}, got ${values.only}`);
if (spawnSync('redis-server', ['--version']).error !== undefined && values.only !== 'slurm') usage('redis-server is not installed (apt-get install redis-server, or scripts/ci/redis.sh)');
const quick = values.quick;
/** `3 rounds`, `1 round`. */
const roundsOf = (n) => `${n} round${n === 1 ? '' : 's'}`;
const wanted = (section) => values.only === undefined || values.only === section;

const lab = new Lab();
// Whatever happens, nothing is left behind: a Ctrl-C stops the Slurm cluster (its jobs cancelled)
// and kills every process group the lab started; a second one kills them at once.
let closing = false;
const close = () => {
  if (closing) return;
  closing = true;
  lab.close();
};
process.on('exit', close);
/** Set by the first signal: the lab's shutdown, which ends the process. */
let stopping;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(signal, () => {
    if (stopping !== undefined) process.exit(130);
    console.error(`\nbench-dist: ${signal}, stopping every process it started`);
    stopping = lab.shutdown().finally(() => process.exit(130));
  });

const note = { bench: 'dist', quick, rounds, load: { start: load() } };
console.log(`# bench:dist — ${new Date().toISOString()}, ${showLoad(note.load.start)}${quick ? ', --quick' : ''}\n`);
try {
  if (wanted('queue')) await queueSection();
  if (wanted('slurm')) await slurmSection();
  if (wanted('scaling')) await scalingSection();
  note.load.end = load();
  console.log(`${showLoad(note.load.end)} at the end\n`);
  // Milliseconds are enough for the note.
  console.log(JSON.stringify(note, (_, v) => (typeof v === 'number' ? Math.round(v * 1000) / 1000 : v)));
} catch (e) {
  // After a signal the section fails as its processes are killed: the shutdown ends the process.
  if (stopping === undefined) throw e;
  await stopping;
} finally {
  close();
}

async function queueSection() {
  const stages = quick ? 20 : 200;
  const before = load();
  const d = await dispatch(lab, { stages, workers: 3, rounds });
  const row = (what, f, goal) => [what, show(f.local), show(f.queue), goal, show(f.overheadMs, 1)];
  console.log(`## --executor queue: ${stages} no-op stages on 3 workers (${roundsOf(rounds)}, alternating local and queue; ${showLoad(before)})\n`);
  console.log(
    table(
      ['pipeline', 'local s', 'queue s', 'issue goal', 'queue − local, ms per stage'],
      [row(`${stages}-instance matrix (all at once)`, d.matrix, '≤ 15 s'), row(`chain of ${stages} (each reads the previous)`, d.chain, '≤ 20 s')],
    ),
  );
  console.log(`\nWall time of \`rethink run --json\`, CLI start included; the local runs publish to a directory remote too. Stages per worker: ${Object.entries(d.ranOn).map(([w, n]) => `${w} ${n}`).join(', ')}.\n`);

  const sleepMs = quick ? 2_000 : 5_000;
  const fast = [];
  for (let i = 0; i < rounds; i++) fast.push(await recovery(lab, { label: `fast${i}`, lockMs: 2_000, stalledMs: 1_000, sleepMs }));
  const defaults = quick ? undefined : await recovery(lab, { label: 'defaults', sleepMs });
  const recRow = (what, rs, goal) => [what, String(rs.length), show(stats(rs.map((r) => r.restartS)), 1), goal, show(stats(rs.map((r) => r.finishedS)), 1)];
  console.log(`## --executor queue: kill -9 of the worker running a stage (it sleeps ${sleepMs / 1000} s; the worker's process group dies, as with its machine)\n`);
  console.log(
    table(
      ['worker settings', 'rounds', 'kill → stage started on the other worker, s', 'issue goal', 'kill → run finished (the stage\'s own time included), s'],
      [recRow('--lock-ms 2000 --stalled-ms 1000', fast, '≤ 5 s'), ...(defaults ? [recRow('defaults (lock 30 s, stalled check 10 s)', [defaults], 'report')] : [])],
    ),
  );
  console.log(`\nFrom the attempt notes on the remote (\`jobs/<key>/attempts/\`, startedAt). ${defaults ? 'The defaults: one round (it takes a lock period).' : 'The defaults are skipped under --quick.'}\n`);

  const engine = await engineAlone('bench-queue', [String(stages), '3']);
  console.log(`## --executor queue, the engine alone (scripts/bench-queue.mjs: stand-in children, no CLI, no remote)\n\n${engine.join('\n')}\n`);
  note.queue = {
    stages,
    workers: 3,
    matrix: d.matrix,
    chain: d.chain,
    recovery: { sleepMs, fast: fast.map((r) => r.restartS), fastFinished: fast.map((r) => r.finishedS), ...(defaults ? { defaults: defaults.restartS, defaultsFinished: defaults.finishedS } : {}) },
    engine,
  };
}

/**
 * The result lines of an engine's own bench, `scripts/<name>.mjs ARGS` (it may load the test support,
 * whose node:test report goes to stdout too: left out).
 */
async function engineAlone(name, args) {
  const script = fileURLToPath(new URL(`./${name}.mjs`, import.meta.url));
  // Its temp dirs inside the lab's, so that a Ctrl-C removes them too.
  const child = lab.spawn(process.execPath, ['--no-warnings', script, ...args], { env: { ...process.env, TMPDIR: lab.dir(name) } });
  let out = '';
  child.stdout.on('data', (d) => (out += d.toString()));
  const { code, signal } = await child.exited;
  if (code !== 0) throw new Error(`${name} exited with ${code ?? signal}:\n${child.tail.text}`);
  return out.split('\n').filter((l) => l !== '' && !/^(TAP version|1\.\.\d|#)/.test(l));
}

async function slurmSection() {
  const before = load();
  const s = await slurm(lab, { stages: quick ? 6 : 20, rounds, sleepMs: quick ? 3_000 : 10_000 });
  if (s.skipped !== undefined) {
    console.log(`## --executor slurm: skipped (${s.skipped})\n`);
    note.slurm = { skipped: s.skipped };
    return;
  }
  console.log(`## --executor slurm: a private cluster of two one-CPU nodes, batch_sched_delay=0 (${roundsOf(rounds)}; ${showLoad(before)})\n`);
  console.log(
    table(
      ['pipeline', 'local s', 'slurm s', 'slurm − local, s per job per slot'],
      [[`${s.stages} no-op stages (all at once, 2 run at a time)`, show(s.local), show(s.slurm), show(s.perJobS)]],
    ),
  );
  console.log(`\nWall time of \`rethink run --json\`, CLI start included; per job: (slurm − local) × 2 slots ÷ ${s.stages}. Slurm's own: scripts/bench-slurm.mjs.\n`);
  console.log(`### A node killed under a stage (it sleeps ${s.sleepMs / 1000} s): its slurmd, the job's slurmstepd and \`rethink exec\`, SIGKILL\n`);
  console.log(
    table(
      ['rounds', 'death → stage started on the other node, s', 'death → run finished (the stage\'s own time included), s', 'issue goal'],
      [[String(s.nodeKill.finishedS.n), show(s.nodeKill.restartS, 1), show(s.nodeKill.finishedS, 1), '≤ 60 s (finished)']],
    ),
  );
  console.log(`\nSlurm marks the node down after SlurmdTimeout=10 s, requeues the job (--requeue), and runs it on ${s.nodeKill.otherNode} (sched_interval=5).\n`);
  const engine = await engineAlone('bench-slurm', [String(s.stages), '5']);
  console.log(`### The engine alone (scripts/bench-slurm.mjs: \`/bin/true\` for \`rethink exec\`, no CLI, no remote)\n\n${engine.join('\n')}\n`);
  s.engine = engine;
  note.slurm = s;
}

async function scalingSection() {
  const before = load();
  const sc = await scaling(lab, { stages: quick ? 8 : 64, stageMs: 1_000, rounds: quick ? 1 : rounds, workers: [1, 2, 4, 8] });
  console.log(`## Scaling: ${sc.stages} stages of 1 s on N workers (${roundsOf(sc.rounds)}; ${showLoad(before)})\n`);
  console.log(
    table(
      ['workers', 'stage', 'wall s', 'ideal s', 'efficiency (ideal / wall)'],
      sc.rows.map((r) => [String(r.workers), r.busy ? 'holds one core 1 s' : 'sleeps 1 s (simulated)', show(r.wall), r.ideal.toFixed(1), show(r.efficiency)]),
    ),
  );
  console.log(`\nThis machine has ${before.cores} cores, shared with the coordinator, Redis and whatever else runs: beyond ${before.cores} workers the stages sleep rather than compute, so they measure the queue's scaling, not the machine's.\n`);
  note.scaling = sc;
}

function usage(message) {
  console.error(`bench-dist: ${message}\nusage: npm run bench:dist -- [--rounds N] [--quick] [--only ${SECTIONS.join('|')}]`);
  process.exit(2);
}
