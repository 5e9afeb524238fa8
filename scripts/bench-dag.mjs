#!/usr/bin/env node
// No-op rerun time of a 512-stage sweep (download → 10 corrupt → 500 train → aggregate), the shape
// of Snakemake's 1.7 s reference: `node scripts/bench-dag.mjs [runs=5]`. Needs `npm run build`.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 5);
const bin = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
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
    matrix: { p: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] }
    with: { p: "\${matrix.p}" }
    inputs: { x: download }
  train:
    uses: ./noop.mjs
    matrix: { p: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], seed: [${Array.from({ length: 50 }, (_, i) => i).join(', ')}] }
    seed: "\${matrix.seed}"
    with: { model: mlp_1x512 }
    inputs: { x: corrupt }
  aggregate: { uses: ./noop.mjs, inputs: { x: "train[*]" } }
`);
const run = () => {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [bin, 'run', 'sweep.yaml', '--json'], { cwd: dir, encoding: 'utf8' });
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(r.stderr);
  const doc = JSON.parse(r.stdout);
  return { s, statuses: doc.stages.map((x) => x.status) };
};
const first = run();
console.log(`first run: ${first.statuses.length} stages, ${first.statuses.filter((x) => x === 'ran').length} ran, ${first.s.toFixed(2)} s`);
const times = [];
for (let i = 0; i < runs; i++) {
  const r = run();
  if (r.statuses.some((x) => x !== 'cached')) throw new Error('a no-op rerun ran a stage');
  times.push(r.s);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(`no-op rerun of ${first.statuses.length} stages: median ${(median * 1000).toFixed(0)} ms over ${runs} runs (all: ${times.map((t) => (t * 1000).toFixed(0)).join(', ')} ms); Snakemake 7.21 reference 1.7 s → ${(1.7 / median).toFixed(1)}× faster`);
if (!process.env.KEEP) execFileSync("rm", ["-rf", dir]); else console.log(dir);
