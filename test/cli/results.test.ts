import { test } from 'node:test';
import assert from 'node:assert/strict';
import { project } from '../support/tmp-project.js';

/** Metrics with a constant field, a repeated axis, nested varying fields and an array. */
const PLUGIN = `
export const plugin = {
  name: 'fit', version: '1', description: 'fake training metrics',
  params: { type: 'object', properties: { p: { type: 'number' } }, required: ['p'], additionalProperties: false },
  inputs: {}, outputs: { metrics: { kind: 'json' }, notes: { kind: 'json' } },
  async run(ctx) {
    const p = ctx.params.p;
    await ctx.writeJson('metrics', { model: 'mlp', p, seed: ctx.seed, final: { acc: 1 - p / 2, loss: p * 3 }, history: [p, p] });
    await ctx.writeJson('notes', { text: 'p is ' + p });
  },
};
`;

const PIPELINE = `seed: 1
stages:
  fit:
    uses: ./fit.mjs
    matrix: { p: [0, 0.5, 1] }
    with: { p: "\${matrix.p}" }
`;

test('results tabulates a sweep from the cache: its axes, then the fields that vary', async () => {
  const p = await project({ 'fit.mjs': PLUGIN, 'p.yaml': PIPELINE });
  const before = await p.cli('results', 'fit', 'p.yaml');
  assert.equal(before.code, 0);
  assert.equal(before.stdout, 'p\n');
  assert.match(before.stderr, /no instance of "fit" is up to date\n3 not up to date, not shown \(run `rethink run p\.yaml` first\): fit\[p=0\], fit\[p=0\.5\], fit\[p=1\]/);

  await p.run('p.yaml', '--only', 'fit[p=0]', '--only', 'fit[p=1]');
  const text = await p.cli('results', 'fit', 'p.yaml');
  // model and seed never vary; p repeats the axis; history is an array.
  assert.equal(text.stdout, ['p  final.acc  final.loss', '0          1           0', '1     0.5000           3', ''].join('\n'));
  assert.match(text.stderr, /^1 not up to date, not shown .*: fit\[p=0\.5\]\n$/);

  await p.run('p.yaml');
  const csv = await p.cli('results', 'fit', 'p.yaml', '--format', 'csv', '--metrics', 'final.loss,model', '--metrics', 'history.1');
  assert.equal(csv.stdout, 'p,final.loss,model,history.1\n0,0,mlp,0\n0.5,1.5,mlp,0.5\n1,3,mlp,1\n');
  const md = await p.cli('results', 'fit[p=0.5]', 'p.yaml', '--format', 'md', '--digits', '2');
  assert.equal(md.stdout, '| p | model | seed | final.acc | final.loss |\n|---|---|---|---|---|\n| 0.5 | mlp | 1 | 0.75 | 1.50 |\n', 'one row: every scalar field');
  const json = JSON.parse((await p.cli('results', 'fit', 'p.yaml', '--json')).stdout) as { output: string; columns: string[]; rows: unknown[][]; ids: string[]; missing: unknown[] };
  assert.equal(json.output, 'metrics');
  assert.deepEqual(json.ids, ['fit[p=0]', 'fit[p=0.5]', 'fit[p=1]']);
  assert.deepEqual(json.rows[1], [0.5, 0.75, 1.5]);
  assert.deepEqual(json.missing, []);
  const notes = await p.cli('results', 'fit', 'p.yaml', '--output', 'notes', '--format', 'csv');
  assert.equal(notes.stdout, 'p,text\n0,p is 0\n0.5,p is 0.5\n1,p is 1\n');

  const bad = await p.cli('results', 'fit', 'p.yaml', '--output', 'model');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /output "model" is not a JSON output of every instance of "fit"/);
  assert.match(bad.stderr, /--output metrics \| notes/);
  assert.equal((await p.cli('results', 'fit', 'p.yaml', '--format', 'xlsx')).code, 2);
  assert.equal((await p.cli('results')).code, 2);
});

test('results --over seed summarizes each combination of the other axes over its seeds', async () => {
  const plugin = `export const plugin = {
    name: 'fit', version: '1', description: 'seeded fake metrics', inputs: {}, outputs: { metrics: { kind: 'json' } },
    params: { type: 'object', properties: { p: { type: 'number' } }, required: ['p'], additionalProperties: false },
    async run(ctx) { await ctx.writeJson('metrics', { acc: 1 - ctx.params.p / 2 - ctx.seed / 100, stop: ctx.seed === 3 ? 'epochs' : 'target' }); },
  };`;
  const pipeline = 'stages:\n  fit:\n    uses: ./fit.mjs\n    matrix: { p: [0, 1], seed: [1, 2, 3] }\n    seed: "${matrix.seed}"\n    with: { p: "${matrix.p}" }\n';
  const p = await project({ 'fit.mjs': plugin, 'p.yaml': pipeline });
  await p.run('p.yaml', '--only', 'fit[p=0,*', '--only', 'fit[p=1,seed=1]');
  const text = await p.cli('results', 'fit', 'p.yaml', '--over', 'seed');
  // p = 0: acc 0.99, 0.98, 0.97 → mean 0.98, sd 0.01; p = 1 has one seed so far: no sd.
  assert.equal(text.stdout, ['p  runs  mean(acc)  sd(acc)  stop', '0     3     0.9800   0.0100  target ×2, epochs ×1', '1     1     0.4900        –  target', ''].join('\n'));
  assert.match(text.stderr, /2 not up to date, not shown .*: fit\[p=1,seed=2\], fit\[p=1,seed=3\]/);
  const json = JSON.parse((await p.cli('results', 'fit', 'p.yaml', '--over', 'seed', '--stats', 'n,ci95', '--metrics', 'acc', '--json')).stdout) as { columns: string[]; rows: number[][]; ids: string[][] };
  assert.deepEqual(json.columns, ['p', 'runs', 'n(acc)', 'ci95(acc)']);
  assert.deepEqual(json.ids, [['fit[p=0,seed=1]', 'fit[p=0,seed=2]', 'fit[p=0,seed=3]'], ['fit[p=1,seed=1]']]);
  assert.ok(Math.abs(json.rows[0]![3]! - (4.30265273 * 0.01) / Math.sqrt(3)) < 1e-9, String(json.rows[0]));

  const typo = await p.cli('results', 'fit', 'p.yaml', '--over', 'sed');
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /--over sed: not a matrix axis of "fit"/);
  assert.match(typo.stderr, /its axes: p, seed/);
  const stat = await p.cli('results', 'fit', 'p.yaml', '--over', 'seed', '--stats', 'mean,median');
  assert.equal(stat.code, 2);
  assert.match(stat.stderr, /--stats "median" is not a statistic/);
  assert.equal((await p.cli('results', 'fit', 'p.yaml', '--stats', 'mean')).code, 2, '--stats without --over');
});

test('runs lists the cached results newest first, marks the superseded ones, and filters by pipeline', async () => {
  const p = await project({ 'fit.mjs': PLUGIN, 'p.yaml': PIPELINE, 'q.yaml': 'stages:\n  solo: { uses: ./fit.mjs, with: { p: 2 } }\n' });
  await p.run('p.yaml', '--only', 'fit[p=0]');
  await p.run('p.yaml', '--only', 'fit[p=0]', '--set', 'seed=2');
  await p.run('q.yaml');
  type Doc = { total: number; runs: { stage: string; pipeline: string; current: boolean; attempts: number; startedAt: string }[] };
  const all = JSON.parse((await p.cli('runs', '--json')).stdout) as Doc;
  assert.equal(all.total, 3);
  assert.deepEqual(all.runs.map((r) => [r.stage, r.pipeline, r.current]), [['solo', 'q.yaml', true], ['fit[p=0]', 'p.yaml', true], ['fit[p=0]', 'p.yaml', false]]);
  assert.ok(all.runs[0]!.startedAt >= all.runs[1]!.startedAt && all.runs[1]!.startedAt >= all.runs[2]!.startedAt);
  const onlyP = JSON.parse((await p.cli('runs', 'p.yaml', '--json', '--limit', '1')).stdout) as Doc;
  assert.deepEqual([onlyP.total, onlyP.runs.length, onlyP.runs[0]!.current], [2, 1, true]);
  const text = await p.cli('runs', 'p.yaml');
  assert.match(text.stdout, /^started \(UTC\) +seconds +stage +pipeline +backend +commit\n/);
  assert.match(text.stdout, /\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\d+\.\d +fit\[p=0\] +p\.yaml +– +– +superseded\n$/);
});

test('a run record names the git commit its pipeline was at, and whether tracked files had changed', async () => {
  const { execFileSync } = await import('node:child_process');
  const { writeFile } = await import('node:fs/promises');
  const p = await project({ 'fit.mjs': PLUGIN, 'p.yaml': PIPELINE });
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: p.dir, encoding: 'utf8' }).trim();
  await p.run('p.yaml', '--only', 'fit[p=0]');
  type Doc = { runs: { stage: string; commit: { commit: string; dirty: boolean } | null }[] };
  const runs = async () => (JSON.parse((await p.cli('runs', '--json')).stdout) as Doc).runs;
  assert.equal((await runs())[0]!.commit, null, 'outside a repository');

  git('init', '-q');
  git('add', 'fit.mjs', 'p.yaml');
  git('commit', '-q', '-m', 'x');
  const head = git('rev-parse', 'HEAD');
  await p.run('p.yaml', '--only', 'fit[p=0.5]');
  assert.deepEqual((await runs())[0], { ...(await runs())[0]!, stage: 'fit[p=0.5]', commit: { commit: head, dirty: false } });
  // An edit to a tracked file that changes no key (a comment): the next result says the tree was dirty.
  await writeFile(`${p.dir}/p.yaml`, `# edited\n${PIPELINE}`);
  await p.run('p.yaml', '--only', 'fit[p=1]');
  assert.deepEqual((await runs())[0]!.commit, { commit: head, dirty: true });
  assert.match((await p.cli('runs')).stdout, new RegExp(`fit\\[p=1\\] .* ${head.slice(0, 8)}\\+`));
});
