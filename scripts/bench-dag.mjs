#!/usr/bin/env node
// No-op rerun time of a 512-stage sweep (download → 10 corrupt → 500 train → aggregate), the shape
// of Snakemake's 1.7 s reference: `node scripts/bench-dag.mjs [runs=5]`. Needs `npm run build`.
// `--remote` also times a machine with an empty cache finding every result on a shared S3 remote
// (s3rver on loopback, the test dependency), against the local no-op rerun of the same run.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const withRemote = args.includes('--remote');
const runs = Number(args.find((a) => !a.startsWith('--')) ?? 5);
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
let s3 = null;
if (withRemote) {
  const { default: S3rver } = await import('s3rver');
  s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: join(dir, 's3'), configureBuckets: [{ name: 'team' }] });
  const { port } = await s3.run();
  Object.assign(process.env, { AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', RETHINK_REMOTE: 's3://team/bench' });
}
// Asynchronous: the S3 server lives in this process and must keep serving while the CLI runs.
const run = async (cache = 'cache') => {
  const t = process.hrtime.bigint();
  const env = { ...process.env, RETHINK_CACHE_DIR: join(dir, cache) };
  const r = await promisify(execFile)(process.execPath, ['--no-warnings', bin, 'run', 'sweep.yaml', '--json'], { cwd: dir, encoding: 'utf8', env, maxBuffer: 1 << 26 });
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  const doc = JSON.parse(r.stdout);
  if (doc.remote?.error) throw new Error(doc.remote.error);
  return { s, statuses: doc.stages.map((x) => x.status), remote: doc.stages.filter((x) => x.remote).length };
};
const medianOf = (times) => times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
const first = await run();
console.log(`first run: ${first.statuses.length} stages, ${first.statuses.filter((x) => x === 'ran').length} ran, ${first.s.toFixed(2)} s`);
const times = [];
for (let i = 0; i < runs; i++) {
  const r = await run();
  if (r.statuses.some((x) => x !== 'cached')) throw new Error('a no-op rerun ran a stage');
  times.push(r.s);
}
const median = medianOf(times);
console.log(`no-op rerun of ${first.statuses.length} stages: median ${(median * 1000).toFixed(0)} ms over ${runs} runs (all: ${times.map((t) => (t * 1000).toFixed(0)).join(', ')} ms); Snakemake 7.21 reference 1.7 s → ${(1.7 / median).toFixed(1)}× faster`);
if (s3) {
  const fresh = [];
  for (let i = 0; i < runs; i++) {
    const r = await run(`fresh-${i}`);
    if (r.remote !== r.statuses.length) throw new Error(`only ${r.remote} of ${r.statuses.length} stages were remote hits`);
    fresh.push(r.s);
  }
  const m = medianOf(fresh);
  console.log(`empty cache, all ${first.statuses.length} results on the S3 remote: median ${(m * 1000).toFixed(0)} ms over ${runs} runs (all: ${fresh.map((t) => (t * 1000).toFixed(0)).join(', ')} ms) = ${(m / median).toFixed(1)}× the local no-op rerun`);
  await s3.close();
}
if (!process.env.KEEP) execFileSync("rm", ["-rf", dir]); else console.log(dir);
