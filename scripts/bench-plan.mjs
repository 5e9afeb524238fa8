#!/usr/bin/env node
// Planning time at scale: the wall time of `rethink validate FILE` (Node start-up included) on
// generated pipelines of 1k / 10k / 100k distinct stages (a chain, each reading the previous one, and
// a fan, each reading the first) and on one stage with a 100,000-instance matrix (100 × 100 × 10)
// followed by a fan-in `big[*]` and a stage that picks matching instances `big[c=0]`.
// `node scripts/bench-plan.mjs [runs=3] [--only=chain-10000,matrix-100000]`. Needs `npm run build`.
// Each line gives the wall time and the CLI's CPU time (user + system; on a busy machine the two differ).
// `KEEP=1` keeps the generated pipelines (to profile one: `node --cpu-prof dist/src/bin/rethink.js validate F`).
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const runs = Number(args.find((a) => !a.startsWith('--')) ?? 3);
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
/** A run longer than this is reported as not finishing rather than waited for. */
const LIMIT_S = Number(process.env.BENCH_PLAN_LIMIT_S ?? 120);
const bin = fileURLToPath(new URL('../dist/src/bin/rethink.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'rethink-bench-plan-'));

writeFileSync(join(dir, 'noop.mjs'), `export const plugin = {
  name: 'noop', version: '1', description: 'writes its params',
  params: { type: 'object', properties: { i: { type: 'integer' }, a: { type: 'integer' }, b: { type: 'integer' }, c: { type: 'integer' }, lr: { type: 'number', default: 0.01 } }, additionalProperties: false },
  inputs: { x: { many: true, optional: true } }, outputs: { out: { kind: 'json' } },
  run: (ctx) => ctx.writeJson('out', { params: ctx.params, seed: ctx.seed }),
};\n`);

const range = (n) => Array.from({ length: n }, (_, i) => i);
/** N distinct stages; stage i reads `from(i)` (none for the first). */
const distinct = (n, from) =>
  `stages:\n${range(n).map((i) => `  s${i}: { uses: ./noop.mjs, with: { i: ${i} }${i === 0 ? '' : `, inputs: { x: s${from(i)} }`} }\n`).join('')}`;
const matrix = (a, b, c) => `stages:
  big:
    uses: ./noop.mjs
    matrix: { a: [${range(a).join(', ')}], b: [${range(b).join(', ')}], c: [${range(c).join(', ')}] }
    with: { a: "\${matrix.a}", b: "\${matrix.b}", c: "\${matrix.c}" }
  all: { uses: ./noop.mjs, inputs: { x: "big[*]" } }
  pick:
    uses: ./noop.mjs
    matrix: { a: [${range(a).join(', ')}] }
    with: { a: "\${matrix.a}" }
    inputs: { x: "big[c=0]" }
`;

const cases = [
  ...[1_000, 10_000, 100_000].flatMap((n) => [
    { name: `chain-${n}`, text: () => distinct(n, (i) => i - 1), what: `${n} distinct stages, a chain` },
    { name: `fan-${n}`, text: () => distinct(n, () => 0), what: `${n} distinct stages, a fan` },
  ]),
  { name: 'matrix-100000', text: () => matrix(100, 100, 10), what: 'a 100×100×10 matrix (100,000 instances) + fan-in + 100 picks' },
].filter((c) => only === undefined || only.includes(c.name));

// The CPU time the CLI used, printed as it exits: on a shared machine wall time also counts waiting for a core.
const cpuAtExit = `data:text/javascript,process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write('\\nbench-cpu ' + (u.user + u.system) / 1e6 + '\\n'); });`;
const validate = async (file) => {
  const t = process.hrtime.bigint();
  try {
    const r = await promisify(execFile)(process.execPath, ['--no-warnings', '--import', cpuAtExit, bin, 'validate', file], { cwd: dir, encoding: 'utf8', timeout: LIMIT_S * 1000, maxBuffer: 1 << 26 });
    const cpu = Number(/bench-cpu (\S+)/.exec(r.stderr)?.[1] ?? NaN);
    return { s: Number(process.hrtime.bigint() - t) / 1e9, cpu, out: r.stdout.trim() };
  } catch (e) {
    if (e.killed) return { s: Infinity, cpu: NaN, out: `did not finish in ${LIMIT_S} s` };
    throw new Error(`validate ${file} failed (exit ${e.code}):\n${e.stderr}`);
  }
};

for (const c of cases) {
  const file = `${c.name}.yaml`;
  writeFileSync(join(dir, file), c.text());
  const times = [];
  const cpus = [];
  let out = '';
  for (let i = 0; i < runs; i++) {
    const r = await validate(file);
    times.push(r.s);
    cpus.push(r.cpu);
    out = r.out;
    if (!Number.isFinite(r.s)) break; // one run past the limit says enough
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const fmt = (s) => (Number.isFinite(s) ? `${s.toFixed(2)} s` : `> ${LIMIT_S} s`);
  console.log(`${c.what}: median ${fmt(median(times))} over ${times.length} (${times.map(fmt).join(', ')}), CPU ${fmt(median(cpus))} — ${out}`);
}
if (!process.env.KEEP) execFileSync('rm', ['-rf', dir]);
else console.log(dir);
