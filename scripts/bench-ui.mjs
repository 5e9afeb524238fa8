#!/usr/bin/env node
// `rethink ui`'s page-load times over a cache of 500 training runs (made by a no-op plugin, the shape
// of bench-dag's sweep: download → 10 corrupt → 500 train → aggregate): the overview's first render
// and the 500-row sweep page, read from the app's performance marks in Debian's chromium driven by
// playwright-core. Goals (issue 22): first render < 1 s, a 500-row sweep table < 200 ms.
// `node scripts/bench-ui.mjs [rounds=5]`. Needs `npm run build` and /usr/bin/chromium.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const rounds = Number(process.argv[2] ?? 5);
const bin = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'rethink-bench-ui-'));
writeFileSync(join(dir, 'noop.mjs'), `export const plugin = {
  name: 'noop', version: '1', description: 'writes metrics made from its params', params: { type: 'object' },
  inputs: { x: { many: true, optional: true } }, outputs: { metrics: { kind: 'json' } },
  run: (ctx) => {
    const p = Number(ctx.params.p ?? 0);
    const history = Array.from({ length: 10 }, (_, i) => ({ epoch: i + 1, loss: (2.3 + p) / (i + 1), acc: 1 - (1 - p / 2) / (i + 2) }));
    return ctx.writeJson('metrics', { history, final_train_loss: history.at(-1).loss, final_train_acc: history.at(-1).acc, test_acc: 0.9 - p / 2 + ctx.seed / 1e4, seconds: 1 });
  },
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
    with: { model: mlp_1x512, p: "\${matrix.p}" }
    inputs: { x: corrupt }
  aggregate: { uses: ./noop.mjs, inputs: { x: "train[*]" } }
`);
const env = { ...process.env, RETHINK_CACHE_DIR: join(dir, 'cache') };
execFileSync(process.execPath, [bin, 'run', 'sweep.yaml'], { cwd: dir, env, stdio: 'ignore' });

const server = spawn(process.execPath, [bin, 'ui', 'sweep.yaml', '--port', '0'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise((resolve, reject) => {
  let out = '';
  server.stdout.on('data', (d) => {
    out += d;
    const m = /http:\/\/127\.0\.0\.1:\d+/.exec(out);
    if (m) resolve(m[0]);
  });
  server.on('exit', (code) => reject(new Error(`rethink ui exited (${code})`)));
});
const overview = await (await fetch(`${base}/api/overview`)).json();
const pipeline = encodeURIComponent(overview.pipelines[0].id);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
/** Opens `path` in a fresh page (cold: no cache) and waits for the app's mark `name`. */
async function load(path, name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}${path}`);
  await page.waitForFunction((n) => performance.getEntriesByName(n).length > 0, name, { timeout: 60_000 });
  const marks = await page.evaluate(() => Object.fromEntries(performance.getEntriesByType('mark').map((m) => [m.name, m.startTime])));
  const rows = await page.$$eval('table.sweep tbody tr', (els) => els.length);
  await context.close();
  return { marks, rows };
}
const results = { overview: [], sweepPage: [], sweepTable: [], sweepAll: [] };
let rows = 0;
for (let i = 0; i < rounds; i++) {
  // Alternating the two pages each round, so the busy machine weighs on both alike.
  const o = await load('/', 'rethink:overview-rendered');
  results.overview.push(o.marks['rethink:overview-rendered']);
  const s = await load(`/pipelines/${pipeline}/sweep/train`, 'rethink:sweep-complete');
  results.sweepPage.push(s.marks['rethink:sweep-rendered']);
  results.sweepTable.push(s.marks['rethink:sweep-rendered'] - s.marks['rethink:sweep-render-start']);
  results.sweepAll.push(s.marks['rethink:sweep-complete'] - s.marks['rethink:sweep-render-start']);
  rows = s.rows;
}
await browser.close();
server.kill('SIGINT');

const best = (xs) => Math.min(...xs);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(0)} ms`;
console.log(`rethink ui over ${overview.counts['up-to-date']} up-to-date instances; ${rounds} rounds, cold page each time (best / median):`);
console.log(`  overview, navigation → first render with data: ${ms(best(results.overview))} / ${ms(median(results.overview))}  (goal < 1 s)`);
console.log(`  sweep page (${rows} rows), navigation → table drawn: ${ms(best(results.sweepPage))} / ${ms(median(results.sweepPage))}`);
console.log(`  sweep table, data → first screen of rows drawn: ${ms(best(results.sweepTable))} / ${ms(median(results.sweepTable))}  (goal < 200 ms)`);
console.log(`  sweep table, data → all ${rows} rows drawn: ${ms(best(results.sweepAll))} / ${ms(median(results.sweepAll))}`);
console.log(`  (load average while measuring: ${loadavg().map((l) => l.toFixed(1)).join(', ')} on ${cpus().length} cores)`);
