#!/usr/bin/env node
// No-op rerun time of a 512-stage sweep (download → 10 corrupt → 500 train → aggregate), every
// result already cached, measured through the CLI as a user runs it (Node's start-up included).
//
//   node scripts/bench-dag.mjs [runs=7] [--compare BIN] [--no-snakemake] [--keep-ca-certs] [--remote]
//
// Needs `npm run build`. The machine is shared and its load drifts, so whatever is compared is
// measured in this one invocation, in alternating rounds (ours, theirs, ours, theirs…), and each
// side reports its median and spread (extremes and quartiles), each run timed from spawn to exit:
// - Snakemake (when `snakemake` is on PATH): the same 512 jobs as a Snakefile whose outputs are all
//   present and up to date, timed as `snakemake --cores N` (a no-op run, like ours), and the ratio.
//   Its jobs are `run:` blocks, in Snakemake's process like our in-process stages.
// - `--compare BIN`: another build of rethink (e.g. `…/dist/src/bin/rethink.js` of an older checkout)
//   on the same pipeline, in its own cache: before and after a change, same conditions.
// - `--remote`: a machine with an empty cache finding every result on a shared S3 remote (s3rver on
//   loopback, the test dependency), against the local no-op rerun of the same run.
//
// NODE_EXTRA_CA_CERTS, when set (some sandboxes and corporate machines set it), makes Node 20 parse
// that certificate bundle at every start, before any of rethink's code runs: 0.42 G of the 1.43 G
// instructions (callgrind) of this no-op rerun before the imports were trimmed, so a measurement
// with it and one without differ by ~29%. (The core's build, measured at 199 ms, and the one
// measured at 356 ms count the same instructions, 1.45 G and 1.43 G: the code did not slow down.)
// The CLI runs are timed without it (none makes a TLS connection) and what it costs a process here
// is printed beside; --keep-ca-certs keeps it.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { parseArgs, promisify } from 'node:util';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    remote: { type: 'boolean', default: false },
    compare: { type: 'string' },
    'no-snakemake': { type: 'boolean', default: false },
    'keep-ca-certs': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log('usage: node scripts/bench-dag.mjs [runs=7] [--compare BIN] [--no-snakemake] [--keep-ca-certs] [--remote]');
  process.exit(0);
}
const runs = Number(positionals[0] ?? 7);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a positive integer, got ${positionals[0]}`);
const bin = fileURLToPath(new URL('../dist/src/bin/rethink.js', import.meta.url));
const other = values.compare === undefined ? undefined : resolve(values.compare);
if (other !== undefined && !existsSync(other)) throw new Error(`--compare ${other}: no such file (pass another build's dist/src/bin/rethink.js)`);
const execFileP = promisify(execFile);

const P = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
const SEEDS = Array.from({ length: 50 }, (_, i) => i);
const dir = mkdtempSync(join(tmpdir(), 'rethink-bench-dag-'));
writeFileSync(join(dir, 'noop.mjs'), `export const plugin = {
  name: 'noop', version: '1', description: 'writes its params', params: { type: 'object' },
  inputs: { x: { many: true, optional: true } }, outputs: { out: { kind: 'json' } },
  run: (ctx) => ctx.writeJson('out', { params: ctx.params, seed: ctx.seed }),
};\n`);
writeFileSync(join(dir, 'sweep.yaml'), `stages:
  download: { uses: ./noop.mjs, with: { url: "https://example.org/data.tgz" } }
  corrupt:
    uses: ./noop.mjs
    matrix: { p: [${P.join(', ')}] }
    with: { p: "\${matrix.p}" }
    inputs: { x: download }
  train:
    uses: ./noop.mjs
    matrix: { p: [${P.join(', ')}], seed: [${SEEDS.join(', ')}] }
    seed: "\${matrix.seed}"
    with: { model: mlp_1x512 }
    inputs: { x: corrupt }
  aggregate: { uses: ./noop.mjs, inputs: { x: "train[*]" } }
`);

let s3 = null;
if (values.remote) {
  const { default: S3rver } = await import('s3rver');
  s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: join(dir, 's3'), configureBuckets: [{ name: 'team' }] });
  const { port } = await s3.run();
  Object.assign(process.env, { AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', RETHINK_REMOTE: 's3://team/bench' });
}

const caCerts = process.env.NODE_EXTRA_CA_CERTS;
const dropCaCerts = caCerts !== undefined && !values['keep-ca-certs'];
/** The environment of every timed Node process. */
const nodeEnv = (extra = {}) => {
  const env = { ...process.env, ...extra };
  if (dropCaCerts) delete env.NODE_EXTRA_CA_CERTS;
  return env;
};

/** One `rethink run` of the sweep with `cli` in cache `cache`. Asynchronous: an S3 server in this process must keep serving. */
const run = async (cli = bin, cache = 'cache') => {
  const t = process.hrtime.bigint();
  const env = nodeEnv({ RETHINK_CACHE_DIR: join(dir, cache) });
  const r = await execFileP(process.execPath, ['--no-warnings', cli, 'run', 'sweep.yaml', '--json'], { cwd: dir, encoding: 'utf8', env, maxBuffer: 1 << 26 });
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  const doc = JSON.parse(r.stdout);
  if (doc.remote?.error) throw new Error(doc.remote.error);
  return { s, statuses: doc.stages.map((x) => x.status), remote: doc.stages.filter((x) => x.remote).length };
};
const noop = async (cli, cache) => {
  const r = await run(cli, cache);
  if (r.statuses.some((x) => x !== 'cached')) throw new Error(`a no-op rerun ran a stage (${cli})`);
  return r.s;
};

// Snakemake: the same DAG, one output file per job; its default target is the first rule's output.
const snakemake = values['no-snakemake'] ? undefined : which('snakemake');
const cores = availableParallelism();
if (snakemake !== undefined) {
  writeFileSync(join(dir, 'Snakefile'), `P = [${P.join(', ')}]
SEEDS = range(${SEEDS.length})

def write(path, **params):
    with open(path, "w") as f:
        f.write(repr(params))

rule aggregate:
    input: expand("out/train_{p}_{seed}.json", p=P, seed=SEEDS)
    output: "out/aggregate.json"
    run: write(output[0], n=len(input))

rule train:
    input: "out/corrupt_{p}.json"
    output: "out/train_{p}_{seed}.json"
    run: write(output[0], p=wildcards.p, seed=wildcards.seed, model="mlp_1x512")

rule corrupt:
    input: "out/download.json"
    output: "out/corrupt_{p}.json"
    run: write(output[0], p=wildcards.p)

rule download:
    output: "out/download.json"
    run: write(output[0], url="https://example.org/data.tgz")
`);
}
const snake = async (...args) => {
  const t = process.hrtime.bigint();
  const r = await execFileP(snakemake, ['--cores', String(cores), ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 26 });
  return { s: Number(process.hrtime.bigint() - t) / 1e9, out: `${r.stdout}${r.stderr}` };
};

const medianOf = (times) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
const ms = (s) => `${(s * 1000).toFixed(0)} ms`;
const all = (times) => times.map((t) => (t * 1000).toFixed(0)).join(', ');
/** Where the runs fell: the quartiles (nearest rank) and the extremes, in ms. */
const spread = (times) => {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
  const n = (t) => (t * 1000).toFixed(0);
  return `spread: min ${n(sorted[0])}, quartiles ${n(at(0.25))}–${n(at(0.75))}, max ${n(sorted[sorted.length - 1])} ms`;
};
/** A side's line: its median, its spread and every run, in the order they ran. */
const describe = (times) => `median ${ms(medianOf(times))} over ${times.length} runs (${spread(times)}; all: ${all(times)} ms)`;

const first = await run();
console.log(`first run: ${first.statuses.length} stages, ${first.statuses.filter((x) => x === 'ran').length} ran, ${first.s.toFixed(2)} s`);
if (other !== undefined) await run(other, 'cache-compare');
if (snakemake !== undefined) {
  // Its outputs are written here, each newer than its inputs: Snakemake's own first run starts a
  // process per job (minutes on a busy machine) and is not what is measured.
  writeOutputs();
  const dry = await snake('-n');
  if (!/Nothing to be done/.test(dry.out)) throw new Error(`snakemake has work to do with every output present:\n${dry.out}`);
  console.log(`snakemake: ${snakemake} ${execFileSync(snakemake, ['--version'], { encoding: 'utf8' }).trim()}, all ${1 + P.length * (1 + SEEDS.length) + 1} outputs present`);
}

const load0 = loadavg()[0];
const ours = [];
const compared = [];
const theirs = [];
for (let i = 0; i < runs; i++) {
  ours.push(await noop(bin, 'cache'));
  if (other !== undefined) compared.push(await noop(other, 'cache-compare'));
  if (snakemake !== undefined) {
    const r = await snake('--quiet');
    if (/\bjob\b.*\bcount\b|Finished job/i.test(r.out)) throw new Error(`snakemake ran a job in a no-op rerun:\n${r.out}`);
    theirs.push(r.s);
  }
}
const median = medianOf(ours);
const load = `load average ${load0.toFixed(1)} → ${loadavg()[0].toFixed(1)} on ${cores} cores${Math.max(load0, loadavg()[0]) > cores / 2 ? ': the machine was busy' : ''}`;
console.log(`no-op rerun of ${first.statuses.length} stages: ${describe(ours)}; ${load}`);
if (other !== undefined) {
  const m = medianOf(compared);
  console.log(`--compare ${other}: ${describe(compared)}, alternating with ours: ours is ${(m / median).toFixed(2)}× as fast`);
}
if (snakemake !== undefined) {
  const m = medianOf(theirs);
  console.log(`snakemake no-op run of the same ${first.statuses.length} jobs (--cores ${cores}): ${describe(theirs)}, alternating with ours: rethink ${(m / median).toFixed(1)}× faster (ratio of the medians)`);
} else if (!values['no-snakemake']) {
  console.log('snakemake is not installed: install it (Debian: apt-get install snakemake) to time the same 512 jobs under Snakemake in this run, and get the ratio');
}

if (caCerts !== undefined) {
  // What the variable costs each Node process here: an empty script with and without it, alternating.
  const start = async (env) => {
    const t = process.hrtime.bigint();
    await execFileP(process.execPath, ['-e', ''], { env });
    return Number(process.hrtime.bigint() - t) / 1e9;
  };
  const { NODE_EXTRA_CA_CERTS: _, ...clean } = process.env;
  const withIt = [];
  const without = [];
  for (let i = 0; i < runs; i++) {
    withIt.push(await start(process.env));
    without.push(await start(clean));
  }
  const cost = medianOf(withIt) - medianOf(without);
  console.log(`NODE_EXTRA_CA_CERTS=${caCerts} is set here: Node's start-up takes ${ms(medianOf(withIt))} with it, ${ms(medianOf(without))} without (medians of ${runs}), ${ms(cost)} per process; ${dropCaCerts ? 'the rethink runs above were timed without it (--keep-ca-certs keeps it)' : 'the rethink runs above were timed with it (--keep-ca-certs)'}`);
}

if (s3) {
  const fresh = [];
  for (let i = 0; i < runs; i++) {
    const r = await run(bin, `fresh-${i}`);
    if (r.remote !== r.statuses.length) throw new Error(`only ${r.remote} of ${r.statuses.length} stages were remote hits`);
    fresh.push(r.s);
  }
  const m = medianOf(fresh);
  console.log(`empty cache, all ${first.statuses.length} results on the S3 remote: median ${ms(m)} over ${runs} runs (all: ${all(fresh)} ms) = ${(m / median).toFixed(1)}× the local no-op rerun`);
  await s3.close();
}
if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
else console.log(dir);

/** The Snakefile's outputs, as its rules would write them, with each job's output newer than its inputs. */
function writeOutputs() {
  mkdirSync(join(dir, 'out'));
  const t0 = Date.now() / 1000 - 60;
  const put = (name, age, params) => {
    const path = join(dir, 'out', name);
    writeFileSync(path, JSON.stringify(params));
    utimesSync(path, t0 + age, t0 + age);
  };
  put('download.json', 0, { url: 'https://example.org/data.tgz' });
  for (const p of P) put(`corrupt_${p}.json`, 1, { p });
  for (const p of P) for (const seed of SEEDS) put(`train_${p}_${seed}.json`, 2, { p, seed, model: 'mlp_1x512' });
  put('aggregate.json', 3, { n: P.length * SEEDS.length });
}

/** The executable's path when `name` is on PATH. */
function which(name) {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : undefined;
}
