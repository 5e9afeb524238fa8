import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createHarness } from '../../../src/testing/harness.js';
import { figureData, FigureInputError, type FigureParams, type RunInput } from '../../../stages/figure/data.js';
import { figurePlugin } from '../../../stages/figure/plugin.js';
import { vegaLiteSpec } from '../../../stages/figure/render.js';
import { chartPlugin } from '../../../stages/chart/plugin.js';
import { resolveParams } from '../../../src/config/params.js';
import type { Plugin } from '../../../src/plugin/types.js';

const DEFAULTS: FigureParams = { plot: 'learning_curves', title: null, series: null, x: null, metric: 'loss', x_unit: 'epoch', threshold: 1, paper: false, labels: {}, band: 'sd' };

/** A training run's metrics: per-epoch (loss, acc), 10 steps an epoch, a final test accuracy. */
const run = (id: string, matrix: RunInput['matrix'], curve: readonly [number, number][], testAcc = 0.5, model = 'mlp_1x512'): RunInput => ({
  id,
  matrix,
  metrics: { model, history: curve.map(([loss, acc], i) => ({ epoch: i + 1, steps: 10, loss, acc, testAcc: acc / 2 })), final: { test: { acc: testAcc } } },
});

test('learning curves: one line per series value, seeds averaged, x in epochs or thousands of steps', () => {
  const runs = [
    run('fit[kind=none,seed=1]', { kind: 'none', seed: 1 }, [[2, 0.1], [1, 0.5]]),
    run('fit[kind=none,seed=2]', { kind: 'none', seed: 2 }, [[1, 0.3], [0.5, 0.7]]),
    run('fit[kind=gaussian,seed=1]', { kind: 'gaussian', seed: 1 }, [[2.3, 0.1], [2.2, 0.12], [2.0, 0.2]]),
  ];
  const fig = figureData(runs, { ...DEFAULTS, series: 'kind' });
  assert.deepEqual(
    fig.points.map((p) => [p.series, p.x, p.y, p.runs]),
    [['none', 1, 1.5, 2], ['none', 2, 0.75, 2], ['gaussian', 1, 2.3, 1], ['gaussian', 2, 2.2, 1], ['gaussian', 3, 2.0, 1]],
  );
  assert.deepEqual(fig.notes, []);
  // A seed that stopped after one epoch leaves the second epoch's mean to the other: a note says so.
  const stopped = figureData([runs[0]!, run('fit[kind=none,seed=3]', { kind: 'none', seed: 3 }, [[3, 0.1]])], { ...DEFAULTS, series: 'kind' });
  assert.deepEqual(stopped.points.map((p) => [p.x, p.y, p.runs]), [[1, 2.5, 2], [2, 1, 1]]);
  assert.deepEqual(stopped.notes, ['none: from epoch 2 on, the line averages fewer than its 2 runs (the others had stopped)']);
  assert.equal(fig.yLabel, 'training loss (epoch average)');
  const steps = figureData(runs, { ...DEFAULTS, series: 'kind', x_unit: 'thousand_steps', metric: 'test_acc' });
  assert.deepEqual(steps.points.filter((p) => p.series === 'gaussian').map((p) => [p.x, p.y]), [[0.01, 0.05], [0.02, 0.06], [0.03, 0.1]]);
  assert.equal(steps.xLabel, 'thousand steps');
});

test('convergence: epochs to the threshold relative to the smallest x of each series; runs that never get there are named', () => {
  const acc = (n: number, reachAt: number | null) => Array.from({ length: n }, (_, i) => [1, reachAt !== null && i + 1 >= reachAt ? 1 : 0.5] as [number, number]);
  const runs = [
    run('fit[p=0,seed=1]', { p: 0, seed: 1 }, acc(10, 4)),
    run('fit[p=0,seed=2]', { p: 0, seed: 2 }, acc(10, 6)),
    run('fit[p=0.5,seed=1]', { p: 0.5, seed: 1 }, acc(10, 8)),
    run('fit[p=0.5,seed=2]', { p: 0.5, seed: 2 }, acc(10, 7)),
    run('fit[p=1,seed=1]', { p: 1, seed: 1 }, acc(10, null)),
    run('fit[p=1,seed=2]', { p: 1, seed: 2 }, acc(10, 10)),
  ];
  const fig = figureData(runs, { ...DEFAULTS, plot: 'convergence', x: 'p' });
  // baseline (4 + 6) / 2 = 5 epochs; p = 0.5: 7.5 / 5; p = 1: one seed never converged → no value.
  assert.deepEqual(fig.points.map((p) => [p.series, p.x, p.y]), [['mlp_1x512', 0, 1], ['mlp_1x512', 0.5, 1.5], ['mlp_1x512', 1, null]]);
  assert.ok(fig.notes.includes('fit[p=1,seed=1] never reached training accuracy 1 in 10 epochs'), fig.notes.join('\n'));
  const lower = figureData(runs, { ...DEFAULTS, plot: 'convergence', x: 'p', threshold: 0.5 });
  assert.deepEqual(lower.points.map((p) => p.y), [1, 1, 1]);
  const noBase = figureData([run('a', { p: 0 }, acc(3, null)), run('b', { p: 1 }, acc(3, 2))], { ...DEFAULTS, plot: 'convergence', x: 'p' });
  assert.deepEqual(noBase.points.map((p) => p.y), [null, null]);
  assert.match(noBase.notes.join('\n'), /mlp_1x512: no baseline \(p = 0 never converged\), so no ratios/);
});

test("test error is 1 − final test accuracy per model and x; the paper's values join as dashed lines for the models it has", () => {
  const runs = [run('a', { p: 0 }, [[1, 1]], 0.8), run('b', { p: 1 }, [[1, 1]], 0.1), run('c', { p: 0 }, [[1, 1]], 0.6, 'tiny_cnn')];
  const fig = figureData(runs, { ...DEFAULTS, plot: 'test_error', x: 'p', paper: true });
  const mine = fig.points.filter((p) => p.source === 'this run').map((p) => [p.series, p.x, Number(p.y!.toFixed(6))]);
  assert.deepEqual(mine, [['mlp_1x512', 0, 0.2], ['mlp_1x512', 1, 0.9], ['tiny_cnn', 0, 0.4]]);
  const paper = fig.points.filter((p) => p.source === 'paper (CIFAR-10)');
  assert.equal(paper.length, 11); // mlp_1x512 only: the paper has no tiny_cnn
  assert.deepEqual(paper.find((p) => p.x === 0.5), { series: 'mlp_1x512', x: 0.5, y: 0.796, source: 'paper (CIFAR-10)', runs: 1 });
  // Figure 1a's paper lines are Inception's loss per randomization kind, at 391 steps an epoch.
  const curves = figureData([run('n', { kind: 'random_labels' }, [[2.3, 0.1]])], { ...DEFAULTS, series: 'kind', paper: true, x_unit: 'thousand_steps' });
  assert.deepEqual(curves.points.filter((p) => p.source !== 'this run').slice(0, 2).map((p) => [p.series, p.x, p.y]), [['random_labels', 0.391, 2.303], ['random_labels', 1.173, 2.304]]);
  // Legend names apply to both: the paper's line is matched by value first, then renamed with ours.
  const named = figureData([run('n', { kind: 'random_labels' }, [[2.3, 0.1]])], { ...DEFAULTS, series: 'kind', paper: true, labels: { random_labels: 'random labels' } });
  assert.deepEqual([...new Set(named.points.map((p) => `${p.series} / ${p.source}`))], ['random labels / this run', 'random labels / paper (CIFAR-10)']);
});

test('bad inputs name the run and what would be valid', () => {
  const runs = [run('fit[p=0]', { p: 0 }, [[1, 1]])];
  assert.throws(() => figureData(runs, { ...DEFAULTS, plot: 'test_error' }), (e: unknown) => e instanceof FigureInputError && /needs `x`, the matrix axis/.test(e.message));
  assert.throws(() => figureData(runs, { ...DEFAULTS, plot: 'test_error', x: 'q' }), /fit\[p=0\] has no matrix axis "q" \(x\); its axes: p/);
  assert.throws(() => figureData(runs, { ...DEFAULTS, series: 'kind' }), /fit\[p=0\] has no matrix axis "kind" \(series\)/);
  assert.throws(() => figureData([{ id: 'x', matrix: {}, metrics: {} }], DEFAULTS), /x's metrics have no per-epoch history/);
  assert.throws(() => figureData([], DEFAULTS), /no runs to plot/);
});

test('the figure stage writes an SVG with its title and lines, the Vega-Lite spec and the plotted data', async () => {
  const h = await createHarness();
  try {
    const inputs = [0, 0.5, 1].map((p, i) => ({ json: run(`fit[p=${p}]`, { p }, [[1, 1]], 0.9 - 0.4 * i).metrics, origin: { stage: 'fit', matrix: { p } } }));
    const r = await h.run(figurePlugin, { params: { plot: 'test_error', x: 'p', title: 'Error & corruption', paper: true }, inputs: { runs: inputs } });
    const svg = await readFile(r.outputs['svg']!.path, 'utf8');
    // Another figure in between, drawn at the same time as the first one again: still the same bytes
    // (Vega's clip-path ids are process-wide counters).
    const curves = [run('a', { p: 0 }, [[2, 0.1], [1, 0.5]])].map((x) => ({ json: x.metrics, origin: { stage: 'fit', matrix: x.matrix } }));
    const [again] = await Promise.all([
      h.run(figurePlugin, { params: { plot: 'test_error', x: 'p', title: 'Error & corruption', paper: true }, inputs: { runs: inputs } }),
      h.run(figurePlugin, { params: { plot: 'learning_curves', series: 'p' }, inputs: { runs: curves } }),
    ]);
    assert.equal(again.outputs['svg']!.hash, r.outputs['svg']!.hash, 'a figure reproduces its bytes');
    assert.match(svg, /^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svg, />Error &amp; corruption</);
    assert.match(svg, />mlp_1x512</);
    assert.match(svg, />paper \(CIFAR-10\)</);
    assert.match(svg, />test error</);
    const spec = await r.outputs['spec']!.readJson<{ data: { values: { x: number; y: number; source: string }[] } }>();
    const mine = spec.data.values.filter((v) => v.source === 'this run').map((v) => [v.x, Number(v.y.toFixed(6))]);
    assert.deepEqual(mine, [[0, 0.1], [0.5, 0.5], [1, 0.9]]);
    const data = await r.outputs['data']!.readJson<{ title: string; points: unknown[] }>();
    assert.equal(data.title, 'Error & corruption');
    assert.equal(data.points.length, 3 + 11);
    await assert.rejects(
      h.run(figurePlugin, { params: { plot: 'convergence' }, inputs: { runs: inputs } }),
      (e: unknown) => (e as { userError?: boolean }).userError === true && /plot convergence needs `x`/.test((e as Error).message),
    );
  } finally {
    await h.close();
  }
});

test('a line averaged over seeds carries a band: ± sd by default, ± the 95% interval, the range, or none', () => {
  // Test accuracy 0.6, 0.7, 0.8 at p = 0 (test error 0.4, 0.3, 0.2); one run at p = 1.
  const runs = [0.6, 0.7, 0.8].map((acc, i) => run(`fit[p=0,seed=${i}]`, { p: 0, seed: i }, [[1, 1]], acc)).concat(run('fit[p=1,seed=0]', { p: 1, seed: 0 }, [[1, 1]], 0.1));
  const at0 = (band: FigureParams['band']) => figureData(runs, { ...DEFAULTS, plot: 'test_error', x: 'p', band }).points.find((p) => p.x === 0)!;
  const round = (v: number | null | undefined) => (v === undefined || v === null ? v : Number(v.toFixed(9)));
  const sd = at0('sd');
  assert.deepEqual([round(sd.y), round(sd.lo), round(sd.hi), sd.runs], [0.3, 0.2, 0.4, 3]); // sd of 0.2, 0.3, 0.4 is 0.1
  const ci = at0('ci95');
  assert.deepEqual([round(ci.lo), round(ci.hi)], [round(0.3 - (4.302652730 * 0.1) / Math.sqrt(3)), round(0.3 + (4.302652730 * 0.1) / Math.sqrt(3))]);
  const range = at0('range');
  assert.deepEqual([round(range.lo), round(range.hi)], [0.2, 0.4]);
  assert.equal('lo' in at0('none'), false);
  // A single run has no band, whichever is asked for.
  const single = figureData(runs, { ...DEFAULTS, plot: 'test_error', x: 'p', band: 'range' }).points.find((p) => p.x === 1)!;
  assert.equal('lo' in single || 'hi' in single, false);
});

test("convergence bands scale with the line: each x's spread of epochs over the baseline's mean", () => {
  const acc = (reachAt: number) => Array.from({ length: 12 }, (_, i) => [1, i + 1 >= reachAt ? 1 : 0.5] as [number, number]);
  const runs = [
    run('a', { p: 0, seed: 1 }, acc(4)),
    run('b', { p: 0, seed: 2 }, acc(6)),
    run('c', { p: 1, seed: 1 }, acc(8)),
    run('d', { p: 1, seed: 2 }, acc(12)),
  ];
  const fig = figureData(runs, { ...DEFAULTS, plot: 'convergence', x: 'p', band: 'range' });
  // Baseline mean 5 epochs: p = 0 spans 4..6 → 0.8..1.2; p = 1 (mean 10) spans 8..12 → 1.6..2.4.
  assert.deepEqual(fig.points.map((p) => [p.x, p.y, p.lo, p.hi].map((v) => Number(v!.toFixed(9)))), [[0, 1, 0.8, 1.2], [1, 2, 1.6, 2.4]]);
});

test('the spec shades the band under each line only when some point has one', () => {
  const withBand = vegaLiteSpec({ title: 'T', plot: 'test_error', xLabel: 'p', yLabel: 'e', notes: [], points: [{ series: 's', x: 0, y: 0.3, runs: 3, lo: 0.2, hi: 0.4, source: 'this run' }] });
  const layers = withBand['layer'] as { mark: { type: string }; encoding: Record<string, { field: string }>; transform?: unknown[] }[];
  assert.deepEqual(layers.map((l) => l.mark.type), ['area', 'line']);
  assert.deepEqual([layers[0]!.encoding['y']!.field, layers[0]!.encoding['y2']!.field, layers[0]!.encoding['color']!.field], ['lo', 'hi', 'series']);
  assert.equal('mark' in withBand, false);
  const plain = vegaLiteSpec({ title: 'T', plot: 'test_error', xLabel: 'p', yLabel: 'e', notes: [], points: [{ series: 's', x: 0, y: 0.3, runs: 1, source: 'this run' }] });
  assert.equal('layer' in plain, false);
  assert.equal((plain['mark'] as { type: string }).type, 'line');
});

test("Figure 2b: band best shades from each test-accuracy line up to its cumulative best; the paper's points join, dashed", () => {
  // Test accuracy is acc / 2 in `run`: 0.2, 0.4, 0.3, 0.35, 0.45 for Inception.
  const curve = (accs: readonly number[]): [number, number][] => accs.map((a) => [1, a]);
  const runs = [
    run('train[model=small_inception_bn]', { model: 'small_inception_bn' }, curve([0.4, 0.8, 0.6, 0.7, 0.9]), 0.45, 'small_inception_bn'),
    run('train[model=small_inception]', { model: 'small_inception' }, curve([0.5, 0.3]), 0.15, 'small_inception'),
  ];
  const fig = figureData(runs, { ...DEFAULTS, series: 'model', metric: 'test_acc', band: 'best', paper: true, x_unit: 'thousand_steps' });
  const ours = (series: string) => fig.points.filter((p) => p.source === 'this run' && p.series === series).map((p) => [p.x, p.y, p.lo, p.hi]);
  assert.deepEqual(ours('small_inception_bn'), [[0.01, 0.2, 0.2, 0.2], [0.02, 0.4, 0.4, 0.4], [0.03, 0.3, 0.3, 0.4], [0.04, 0.35, 0.35, 0.4], [0.05, 0.45, 0.45, 0.45]]);
  assert.deepEqual(ours('small_inception'), [[0.01, 0.25, 0.25, 0.25], [0.02, 0.15, 0.15, 0.25]]);
  // SPEC §4.6: at 5k steps and at the end (51 epochs × 391 steps).
  const paper = fig.points.filter((p) => p.source === 'paper (CIFAR-10)').map((p) => [p.series, p.x, p.y]);
  assert.deepEqual(paper, [['small_inception_bn', 5, 0.861], ['small_inception_bn', 19.941, 0.865], ['small_inception', 5, 0.797], ['small_inception', 19.941, 0.849]]);
  assert.ok(fig.notes.some((n) => /small_inception_bn test accuracy at 5k steps and at the end \(51 epochs\); its best 0\.867/.test(n)), fig.notes.join('\n'));
  const spec = vegaLiteSpec(fig);
  assert.deepEqual((spec['layer'] as { mark: { type: string } }[]).map((l) => l.mark.type), ['area', 'line'], 'the shading is drawn under the lines');
  // In epochs, the paper's points sit at 5000 / 391 and 51.
  const epochs = figureData(runs, { ...DEFAULTS, series: 'model', metric: 'test_acc', paper: true });
  assert.deepEqual(epochs.points.filter((p) => p.source !== 'this run' && p.series === 'small_inception').map((p) => p.x), [5000 / 391, 51]);
  // The cumulative best is a thing of accuracies over training only.
  assert.throws(() => figureData(runs, { ...DEFAULTS, metric: 'loss', band: 'best' }), (e: Error) => e instanceof FigureInputError && /band best .* needs plot learning_curves with metric acc or test_acc, not learning_curves of loss/.test(e.message));
  assert.throws(() => figureData(runs, { ...DEFAULTS, plot: 'test_error', x: 'model', band: 'best' }), /needs plot learning_curves .*, not test_error$/);
  // `chart` shares the seed bands only: a cumulative best is the figure's.
  assert.equal(resolveParams(chartPlugin as Plugin<never>, { x: 'n', y: 'acc', band: 'best' }).ok, false);
  assert.equal(resolveParams(figurePlugin as Plugin<never>, { plot: 'learning_curves', metric: 'test_acc', band: 'best' }).ok, true);
});
