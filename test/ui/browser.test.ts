// `rethink ui` end to end in a real browser: Debian's chromium driven by playwright-core, over a cache
// made by a small real training sweep (2 learning rates × 2 seeds, fashion-mnist, CPU). Checks what a
// researcher would look at: the DAG's stages, the sweep table's rows, one curve per run, the changed
// param on the compare page, and a running stage's epoch advancing on the live page. Screenshots of
// each page go to the project's temp dir (RETHINK_KEEP_TEST_DIRS=1 keeps them).
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { DagNode, PipelineDag } from '../../src/ui/api.js';
import { startCli, until, type CliProcess } from '../support/cli-process.js';
import { project, type Project } from '../support/tmp-project.js';
import { trainingPipeline } from '../support/training.js';

const CHROMIUM = '/usr/bin/chromium';
const REQUIRED = process.env['RETHINK_REQUIRE_SERVICES'] === '1';
const skip = existsSync(CHROMIUM) || REQUIRED ? false : `${CHROMIUM} is not installed (apt-get install chromium); CI sets RETHINK_REQUIRE_SERVICES=1 and fails instead`;

const CURVES = trainingPipeline(3, { matrix: '{ lr: [0.01, 0.05], seed: [1, 2] }', seed: '"${matrix.seed}"', lr: '"${matrix.lr}"', evalEvery: 1 });

const LIVE = `seed: 1
stages:
  crawl:
    uses: ./slow.mjs
    with: { epochs: 200, pause_ms: 250 }
`;

/** Reports progress per epoch as \`train\` does, pausing between epochs so a watcher sees it advance. */
const SLOW_PLUGIN = `
export const plugin = {
  name: 'slow-epochs', version: '1', description: 'epochs with a pause between them',
  params: {
    type: 'object',
    properties: { epochs: { type: 'integer' }, pause_ms: { type: 'integer' } },
    required: ['epochs', 'pause_ms'], additionalProperties: false,
  },
  inputs: {},
  outputs: { metrics: { kind: 'json' } },
  async run(ctx) {
    const n = ctx.params.epochs;
    const history = [];
    for (let e = 1; e <= n; e++) {
      await new Promise((r) => setTimeout(r, ctx.params.pause_ms));
      const loss = 2 / e;
      history.push({ epoch: e, loss, acc: 1 - loss / 2 });
      ctx.progress({ message: \`epoch \${e}/\${n} loss \${loss.toFixed(4)}\`, done: e, total: n, epochs: { current: e, total: n, finished: e - 1 }, metrics: { loss, acc: 1 - loss / 2 } });
    }
    await ctx.writeJson('metrics', { history });
  },
};
`;

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

describe('rethink ui in a real browser', { skip }, () => {
  let p: Project;
  let server: CliProcess;
  let base: string;
  let browser: Browser;
  let page: Page;
  let dag: PipelineDag;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is required (RETHINK_REQUIRE_SERVICES=1): apt-get install chromium`);
    p = await project({ 'curves.yaml': CURVES, 'live.yaml': LIVE, 'slow.mjs': SLOW_PLUGIN });
    const r = await p.run('curves.yaml');
    assert.equal(r.code, 0, r.stderr);
    server = startCli(p.dir, ['ui', 'curves.yaml', 'live.yaml', '--port', '0']);
    await until('rethink ui to print its address', () => /http:\/\/127\.0\.0\.1:\d+/.test(server.stdout() + server.stderr()));
    base = /http:\/\/127\.0\.0\.1:\d+/.exec(server.stdout() + server.stderr())![0];
    dag = (await (await fetch(`${base}/api/pipelines/${encodeURIComponent(await pipelineId('curves'))}`)).json()) as PipelineDag;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });

  after(async () => {
    await browser?.close();
    server?.child.kill();
  });

  async function pipelineId(name: string): Promise<string> {
    const o = (await (await fetch(`${base}/api/overview`)).json()) as { pipelines: { id: string; file: string }[] };
    const found = o.pipelines.find((x) => x.file.endsWith(`${name}.yaml`));
    assert.ok(found, `the overview lists ${name}.yaml: ${JSON.stringify(o.pipelines)}`);
    return found.id;
  }

  async function shot(t: TestContext, name: string): Promise<void> {
    const path = join(p.dir, 'screenshots', `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    t.diagnostic(`screenshot: ${path}`);
  }

  const fits = (): DagNode[] => dag.nodes.filter((n) => n.stage === 'fit');
  const fit = (lr: number, seed: number): DagNode => fits().find((n) => n.matrix['lr'] === lr && n.matrix['seed'] === seed)!;

  test('the pipeline page draws every stage instance of the DAG, each up to date', async (t) => {
    await page.goto(`${base}/pipelines/${encodeURIComponent(dag.id)}`);
    await page.waitForSelector('svg.dag .dag-node');
    const drawn = await page.$$eval('svg.dag .dag-node', (els) => els.map((e) => [e.getAttribute('data-id'), e.getAttribute('data-state')]));
    assert.deepEqual(
      drawn.map(([id]) => id).sort(),
      dag.nodes.map((n) => n.id).sort(),
    );
    assert.deepEqual(new Set(drawn.map(([id]) => id!.split('[')[0])), new Set(['fashion', 'small', 'fit']));
    assert.ok(drawn.every(([, state]) => state === 'up-to-date'), JSON.stringify(drawn));
    assert.equal((await page.$$('svg.dag path.dag-edge')).length, dag.edges.length);
    await shot(t, 'pipeline');
  });

  test('the sweep table has one row per training run, sorts by a column, downloads as CSV and summarises over seed', async (t) => {
    await page.goto(`${base}/pipelines/${encodeURIComponent(dag.id)}/sweep/fit`);
    await page.waitForSelector('table.sweep tbody tr');
    const ids = await page.$$eval('table.sweep tbody tr th', (els) => els.map((e) => e.textContent));
    assert.deepEqual([...ids].sort(), fits().map((n) => n.id).sort());
    await page.getByRole('button', { name: 'seed' }).press('Enter');
    await page.waitForSelector('th[aria-sort="ascending"]');
    const seeds = await page.$$eval('table.sweep tbody tr th', (els) => els.map((e) => /seed=(\d+)/.exec(e.textContent ?? '')?.[1]));
    assert.deepEqual(seeds, ['1', '1', '2', '2']);
    const csv = await (await fetch(new URL((await page.getByRole('link', { name: 'Download CSV' }).getAttribute('href'))!, base))).text();
    assert.equal(csv.trim().split('\n').length, 1 + fits().length, csv);
    await shot(t, 'sweep');
    await page.getByLabel('Summarise over').selectOption('seed');
    await page.waitForSelector('caption:has-text("summarised over seed")');
    const summaries = await page.$$eval('table.sweep tbody tr', (els) => els.length);
    assert.equal(summaries, 2, 'one row per learning rate, over its two seeds');
  });

  test('the curves page draws one line per run', async (t) => {
    await page.goto(`${base}/pipelines/${encodeURIComponent(dag.id)}/curves/fit`);
    await page.waitForSelector('.chart [data-rendered] svg');
    const lines = await page.$$('.chart g.mark-line path');
    assert.equal(lines.length, fits().length);
    await shot(t, 'curves');
  });

  test('the compare page names the param that differs, and only that one', async (t) => {
    const a = fit(0.01, 1);
    const b = fit(0.05, 1);
    await page.goto(`${base}/compare?keys=${a.key},${b.key}`);
    await page.waitForSelector('h2');
    const differs = await page.$$eval('table.compare-params tbody th', (els) => els.map((e) => e.textContent?.trim() ?? ''));
    assert.ok(differs.some((path) => /(^|\.)lr$/.test(path)), `lr among ${JSON.stringify(differs)}`);
    assert.ok(!differs.some((path) => /seed/.test(path)), `seed not among ${JSON.stringify(differs)}`);
    await page.waitForSelector('.chart [data-rendered] svg');
    assert.equal((await page.$$('.chart g.mark-line path')).length, 2);
    await shot(t, 'compare');
  });

  test("the live page shows a running stage's epoch advancing without a reload", async (t) => {
    await page.goto(`${base}/live`);
    await page.waitForSelector('text=Connected');
    await page.evaluate(() => ((globalThis as { notReloaded?: boolean }).notReloaded = true));
    const run = startCli(p.dir, ['run', 'live.yaml']);
    try {
      const epoch = page.locator('table.live .epoch').first();
      await epoch.waitFor({ timeout: 60_000 });
      const first = Number(await epoch.textContent());
      // Polls the page (not the clock): the number must change while the run goes on, with no reload.
      let later = first;
      await until('the epoch to advance', async () => (later = Number(await epoch.textContent())) > first, 60_000);
      assert.ok(later > first, `epoch ${first} → ${later}`);
      assert.equal(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded), true, 'the page was not reloaded');
      await shot(t, 'live');
    } finally {
      run.child.kill('SIGINT');
      await run.done;
    }
  });
});
