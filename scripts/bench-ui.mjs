#!/usr/bin/env node
// `rethink ui`'s page-load times over a cache of 500 training runs (scripts/ui-fixture.mjs: a no-op
// plugin swept over 100 values × 5 seeds): the overview's first render and the 500-row sweep page,
// read from the app's performance marks in Debian's chromium driven by playwright-core.
// Goals (issue 22): first render < 1 s, a 500-row sweep table < 200 ms.
// `node scripts/bench-ui.mjs [rounds=5]`. Needs `npm run build` and /usr/bin/chromium.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const rounds = Number(process.argv[2] ?? 5);
const bin = fileURLToPath(new URL('../dist/src/bin/rethink.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'rethink-bench-ui-'));
// The server side's 500-run fixture (and its API timings, printed as it goes).
execFileSync(process.execPath, [fileURLToPath(new URL('./ui-fixture.mjs', import.meta.url)), dir], { stdio: 'inherit' });
const env = { ...process.env, RETHINK_CACHE_DIR: join(dir, 'cache') };

const server = spawn(process.execPath, [bin, 'ui', 'pipelines/sweep500.yaml', '--port', '0'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] });
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
