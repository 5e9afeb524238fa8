#!/usr/bin/env node
// A cache with 500 runs for `rethink ui`, and how fast the server answers over it: a no-op plugin
// swept over 100 values × 5 seeds (plus its upstream stage and a fan-in), run once, then the API
// timed end to end over HTTP (first request, then the best of 10).
//   node scripts/ui-fixture.mjs [DIR] [--serve]
// DIR keeps the project (default: a temp dir). --serve leaves `rethink ui` running on it afterwards
// (for the browser side's measurements). Needs `npm run build`.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const serve = args.includes('--serve');
const given = args.find((a) => !a.startsWith('--'));
const dir = given ? resolve(given) : mkdtempSync(join(tmpdir(), 'rethink-ui-fixture-'));
const bin = fileURLToPath(new URL('../dist/src/bin/rethink.js', import.meta.url));
const values = Array.from({ length: 100 }, (_, i) => i);

mkdirSync(join(dir, 'pipelines'), { recursive: true });
writeFileSync(join(dir, 'noop.mjs'), `export const plugin = {
  name: 'noop', version: '1', description: 'metrics from its params, no work',
  params: { type: 'object' }, inputs: { x: { many: true, optional: true } }, outputs: { metrics: { kind: 'json' } },
  run: (ctx) => ctx.writeJson('metrics', {
    params: ctx.params, seed: ctx.seed,
    final: { test: { acc: 0.1 + (ctx.params.width ?? 0) / 200 + (ctx.seed % 7) / 1000 }, train: { loss: 1 / (1 + (ctx.params.width ?? 0)) } },
    history: [1, 2, 3].map((epoch) => ({ epoch, loss: 2 / epoch, acc: 0.3 * epoch, lr: 0.01 })),
  }),
};\n`);
writeFileSync(join(dir, 'pipelines', 'sweep500.yaml'), `stages:
  data: { uses: ../noop.mjs, with: { n: 1 } }
  train:
    uses: ../noop.mjs
    matrix: { width: [${values.join(', ')}], seed: [1, 2, 3, 4, 5] }
    seed: "\${matrix.seed}"
    with: { width: "\${matrix.width}" }
    inputs: { x: data }
  summary: { uses: ../noop.mjs, with: { n: 2 }, inputs: { x: "train[*]" } }
`);
const env = { ...process.env, RETHINK_CACHE_DIR: join(dir, 'cache') };
let t = performance.now();
execFileSync(process.execPath, [bin, 'run', 'pipelines/sweep500.yaml'], { cwd: dir, env, stdio: 'ignore' });
console.log(`ran 502 stages in ${((performance.now() - t) / 1000).toFixed(1)} s: ${dir}`);

const ui = spawn(process.execPath, [bin, 'ui', 'pipelines/sweep500.yaml'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((done, fail) => {
  let out = '';
  ui.stdout.on('data', (c) => {
    out += c;
    const m = /http:\/\/\S+/.exec(out);
    if (m) done(m[0]);
  });
  ui.on('exit', (code) => fail(new Error(`rethink ui exited with ${code}`)));
});

async function time(path) {
  const once = async () => {
    const start = performance.now();
    const res = await fetch(new URL(path, url));
    const body = await res.text();
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${body}`);
    return { ms: performance.now() - start, bytes: body.length };
  };
  const first = await once();
  let best = Infinity;
  for (let i = 0; i < 10; i++) best = Math.min(best, (await once()).ms);
  console.log(`${path.padEnd(52)} first ${first.ms.toFixed(0).padStart(5)} ms, best of 10 ${best.toFixed(1).padStart(6)} ms, ${(first.bytes / 1024).toFixed(0)} KiB`);
}

t = performance.now();
await time('/api/overview');
await time('/api/pipelines/sweep500');
await time('/api/pipelines/sweep500/sweep/train');
await time('/api/pipelines/sweep500/sweep/train?over=seed');
await time('/api/pipelines/sweep500/sweep/train.csv');
if (serve) {
  console.log(`serving ${url} (Ctrl-C stops it)`);
} else ui.kill('SIGINT');
