import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createHarness } from '../../../src/testing/harness.js';
import { chartData, ChartInputError, type ChartParams, type ChartRun } from '../../../stages/chart/data.js';
import { chartSpec } from '../../../stages/chart/render.js';
import { chartPlugin } from '../../../stages/chart/plugin.js';

const DEFAULTS: ChartParams = { x: 'n', y: 'err', series: null, over: [], band: 'sd', log_x: false, log_y: false, mark: 'line', title: null, x_title: null, y_title: null };
const run = (matrix: ChartRun['matrix'], doc: ChartRun['doc']): ChartRun => ({ id: `fit[${Object.entries(matrix).map(([k, v]) => `${k}=${v}`).join(',')}]`, matrix, doc });
const round = (v: number | null | undefined) => (v === null || v === undefined ? v : Number(v.toFixed(9)));

test('y against a matrix axis: a line per value of the other axes, seeds averaged with a band', () => {
  const runs = [
    run({ kind: 'true', n: 100, seed: 1 }, { err: 0.3 }),
    run({ kind: 'true', n: 100, seed: 2 }, { err: 0.5 }),
    run({ kind: 'true', n: 200, seed: 1 }, { err: 0.2 }),
    run({ kind: 'random', n: 100, seed: 1 }, { err: 0.9 }),
  ];
  const c = chartData(runs, { ...DEFAULTS, over: ['seed'] });
  assert.deepEqual(
    c.points.map((q) => [q.series, q.x, round(q.y), q.runs, round(q.lo), round(q.hi)]),
    [['kind=true', 100, 0.4, 2, round(0.4 - Math.SQRT1_2 * 0.2), round(0.4 + Math.SQRT1_2 * 0.2)], ['kind=true', 200, 0.2, 1, undefined, undefined], ['kind=random', 100, 0.9, 1, undefined, undefined]],
  );
  assert.deepEqual([c.title, c.xTitle, c.yTitle], ['err against n', 'n', 'err']);
  // Without `over`, the seed names lines too; `series` picks one axis and shows its bare values.
  assert.deepEqual([...new Set(chartData(runs, DEFAULTS).points.map((q) => q.series))], ['kind=true, seed=1', 'kind=true, seed=2', 'kind=random, seed=1']);
  assert.deepEqual([...new Set(chartData(runs, { ...DEFAULTS, series: 'kind' }).points.map((q) => q.series))], ['true', 'random']);
});

test("a list's fields give each run a whole curve; x may also be a field of the output", () => {
  const history = (rate: number) => ({ history: [0, 1, 2].map((epoch) => ({ epoch, d: rate ** epoch })), final: { n: rate } });
  const runs = [run({ init: 'zero' }, history(0.1)), run({ init: 'random' }, history(0.5))];
  const c = chartData(runs, { ...DEFAULTS, x: 'history[].epoch', y: 'history[].d', log_y: true });
  assert.deepEqual(c.points.map((q) => [q.series, q.x, round(q.y)]), [['init=zero', 0, 1], ['init=zero', 1, 0.1], ['init=zero', 2, 0.01], ['init=random', 0, 1], ['init=random', 1, 0.5], ['init=random', 2, 0.25]]);
  const byField = chartData(runs, { ...DEFAULTS, x: 'final.n', y: 'history.0.d' });
  assert.deepEqual(byField.points.map((q) => [q.x, q.y]), [[0.1, 1], [0.5, 1]]);
});

test('a log axis leaves out what it cannot show, and says so; bands stop at the smallest value drawn', () => {
  const runs = [run({ n: 1, seed: 1 }, { err: 0 }), run({ n: 2, seed: 1 }, { err: 0.1 }), run({ n: 2, seed: 2 }, { err: 0.9 }), run({ n: 3, seed: 1 }, { err: null })];
  const c = chartData(runs, { ...DEFAULTS, over: ['seed'], log_y: true });
  assert.deepEqual(c.points.map((q) => [q.x, round(q.y), round(q.lo)]), [[2, 0.5, 0.5]]);
  assert.deepEqual(c.notes, ['1 point without a number at y "err" (in some run) left out', '1 point ≤ 0 left out of the log scale']);
  const spec = chartSpec(c, { log_x: false, log_y: true, mark: 'point' });
  const [band, line] = spec['layer'] as { mark: { type: string }; encoding: { y: { scale?: { type: string } } } }[];
  assert.deepEqual([band!.mark.type, line!.mark.type, line!.encoding.y.scale?.type], ['area', 'point', 'log']);
  assert.equal('layer' in chartSpec({ ...c, points: [{ series: 's', x: 1, y: 1, runs: 1 }] }, { log_x: false, log_y: false, mark: 'line' }), false);
});

test('bad inputs name the run, the path and what would be valid', () => {
  const runs = [run({ n: 1 }, { err: 0.1, h: [{ a: 1 }] })];
  const fails = (p: Partial<ChartParams>, message: RegExp) => assert.throws(() => chartData(runs, { ...DEFAULTS, ...p }), (e: unknown) => e instanceof ChartInputError && e.userError && message.test(e.message));
  fails({ x: 'h[].a', y: 'g[].b' }, /x and y walk different lists \(h\[\] and g\[\]\)/);
  fails({ x: 'm' }, /fit\[n=1\] has no number at x "m" \(a matrix axis or a field of its output\)/);
  fails({ x: 'q[].a', y: 'q[].b' }, /fit\[n=1\]'s output has no list at "q"/);
  fails({ over: ['seed'] }, /over seed: not a matrix axis of the runs \(n\)/);
  fails({ series: 'kind' }, /series "kind" is not a matrix axis of the runs \(n\)/);
  assert.throws(() => chartData([], DEFAULTS), /no runs to plot/);
});

test('the chart stage writes its SVG, spec and data', async () => {
  const h = await createHarness();
  try {
    const runs = [1, 2].map((n) => ({ json: { err: 1 / n }, origin: { stage: 'fit', matrix: { n } } }));
    const r = await h.run(chartPlugin, { params: { x: 'n', y: 'err', title: 'Error & n' }, inputs: { runs } });
    assert.match(await readFile(r.outputs['svg']!.path, 'utf8'), />Error &amp; n</);
    const data = await r.outputs['data']!.readJson<{ points: { x: number; y: number }[] }>();
    assert.deepEqual(data.points.map((q) => [q.x, q.y]), [[1, 1], [2, 0.5]]);
  } finally {
    await h.close();
  }
});
