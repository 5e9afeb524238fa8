import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarize, tQuantile975 } from '../../../src/util/stats.js';
import { summaryTable, sweepTable, SummaryError, type SweepRow } from '../../../stages/aggregate/summary.js';
import { displayTable } from '../../../stages/aggregate/plugin.js';

const close = (actual: number | null, expected: number, tolerance: number, what: string) =>
  assert.ok(actual !== null && Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not ${expected} ± ${tolerance}`);

test("t quantiles match a t table, in the table and in the expansion beyond it", () => {
  // Published two-sided 95% factors (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
  for (const [df, t] of [[1, 12.706], [2, 4.303], [4, 2.776], [9, 2.262], [30, 2.042], [40, 2.021], [60, 2.000], [100, 1.984], [1000, 1.962]] as const) {
    close(tQuantile975(df), t, 5e-4, `t(0.975, ${df})`);
  }
  // The expansion takes over at 31 without a visible step, and tends to the normal quantile.
  assert.ok(tQuantile975(30) > tQuantile975(31) && tQuantile975(30) - tQuantile975(31) < 3e-3);
  close(tQuantile975(1e9), 1.959964, 1e-6, 't(0.975, ∞)');
  assert.throws(() => tQuantile975(0), RangeError);
  assert.throws(() => tQuantile975(2.5), RangeError);
});

test('summarize: mean, sample sd, range, n and the 95% half-width; no spread from one value', () => {
  const s = summarize([0.9, 0.92, 0.94, 0.96]);
  close(s.mean, 0.93, 1e-15, 'mean');
  close(s.sd, Math.sqrt(0.002 / 3), 1e-15, 'sd'); // squared deviations 0.0009+0.0001+0.0001+0.0009
  assert.deepEqual([s.min, s.max, s.n], [0.9, 0.96, 4]);
  close(s.ci95, (3.182446305 * Math.sqrt(0.002 / 3)) / 2, 1e-12, 'ci95');
  // Close values keep their digits: a one-pass sum of squares would lose them at this offset.
  close(summarize([1e9 + 1, 1e9 + 2, 1e9 + 3]).sd, 1, 1e-9, 'sd at an offset');
  assert.deepEqual(summarize([7]), { mean: 7, sd: null, min: 7, max: 7, n: 1, ci95: null });
  assert.deepEqual(summarize([]), { mean: null, sd: null, min: null, max: null, n: 0, ci95: null });
});

/** p × seed runs of two stages' worth of metrics: test accuracy, and how training stopped. */
const rows: SweepRow[] = [
  { stage: 'fit', matrix: { p: 0, seed: 1 }, values: [0.8, 'target'] },
  { stage: 'fit', matrix: { p: 0, seed: 2 }, values: [0.9, 'target'] },
  { stage: 'fit', matrix: { p: 0.5, seed: 1 }, values: [0.4, 'target'] },
  { stage: 'fit', matrix: { p: 0.5, seed: 2 }, values: [null, 'epochs'] },
  { stage: 'fit', matrix: { p: 0.5, seed: 3 }, values: [0.5, 'target'] },
];

test('a summary table has a row per combination of the other axes, with statistics over the seeds', () => {
  const t = summaryTable(rows, ['acc', 'stopped_by'], ['seed'], ['mean', 'sd', 'n']);
  assert.deepEqual(t.columns, ['p', 'runs', 'mean(acc)', 'sd(acc)', 'n(acc)', 'stopped_by']);
  assert.equal(t.rows.length, 2);
  const [first, second] = t.rows as (number | string | null)[][];
  assert.deepEqual(first!.slice(0, 2), [0, 2]);
  close(first![2] as number, 0.85, 1e-15, 'mean');
  close(first![3] as number, Math.SQRT1_2 * 0.1, 1e-15, 'sd');
  assert.deepEqual(first!.slice(4), [2, 'target']);
  // A missing value is counted out of n and voids the statistics; text values are tallied.
  assert.deepEqual(second, [0.5, 3, null, null, 2, 'target ×2, epochs ×1']);
  assert.deepEqual(t.members, [[0, 1], [2, 3, 4]]);
});

test('summaries keep the stage column when several stages feed them, and can reduce every axis', () => {
  const two: SweepRow[] = [...rows.slice(0, 2), { stage: 'other', matrix: { seed: 1 }, values: [0.1, 'x'] }];
  const t = summaryTable(two, ['acc'], ['seed'], ['min', 'max']);
  assert.deepEqual([t.columns, t.coordinates], [['stage', 'p', 'runs', 'min(acc)', 'max(acc)'], 2]);
  assert.deepEqual(t.rows, [['fit', 0, 2, 0.8, 0.9], ['other', null, 1, 0.1, 0.1]]);
  const all = summaryTable(rows.slice(0, 3), ['acc'], ['p', 'seed'], ['n']);
  assert.deepEqual([all.columns, all.rows], [['runs', 'n(acc)'], [[3, 3]]]);
});

test('a summary over an axis the runs lack, or with no statistics, is refused with the valid choices', () => {
  assert.throws(() => summaryTable(rows, ['acc'], ['sed'], ['mean']), (e: unknown) => e instanceof SummaryError && e.userError && /cannot summarize over "sed": the runs' matrix axes are p, seed/.test(e.message));
  assert.throws(() => summaryTable(rows, ['acc'], ['seed'], []), /choose from mean, sd, min, max, n, ci95/);
});

test('a sweep table takes its axes and stage column from the sweep when given, so it has columns without rows', () => {
  assert.deepEqual(sweepTable([], ['acc']).columns, ['acc']);
  assert.deepEqual(sweepTable([], ['acc'], { axes: ['p'], stages: ['a', 'b'] }).columns, ['stage', 'p', 'acc']);
  assert.deepEqual(sweepTable(rows.slice(0, 1), ['acc', 'how'], { title: 'T' }), { title: 'T', coordinates: 2, columns: ['p', 'seed', 'acc', 'how'], rows: [[0, 1, 0.8, 'target']] });
});

test("a summary reads as one column per metric: mean ± sd, [min, max], the 95% half-width, n; plain columns as they are", () => {
  const shown = (stats: Parameters<typeof summaryTable>[3]) => displayTable(summaryTable(rows, ['acc', 'stopped_by'], ['seed'], stats), 3);
  const all = shown(['n', 'max', 'ci95', 'sd', 'min', 'mean']);
  assert.deepEqual(all.columns, ['p', 'runs', 'acc (mean ± sd [min, max] 95% CI n)', 'stopped_by']);
  assert.deepEqual(all.rows[0], ['0', '2', '0.850 ± 0.071 [0.800, 0.900] 95% ±0.635 n=2', 'target']);
  // A run without the value leaves n and blanks the rest, as in the JSON.
  assert.deepEqual(all.rows[1], ['0.5', '3', '– n=2', 'target ×2, epochs ×1']);
  assert.deepEqual([shown(['mean', 'ci95']).columns[2], shown(['mean', 'ci95']).rows[0]![2]], ['acc (mean ± 95% CI)', '0.850 ± 0.635']);
  assert.deepEqual([shown(['sd']).columns[2], shown(['sd']).rows[0]![2]], ['acc (sd)', 'sd 0.071']);
  assert.deepEqual([shown(['max']).columns[2], shown(['max']).rows[0]![2]], ['acc (max)', 'max 0.900']);
  // A table that is not a summary shows its columns as they are.
  assert.deepEqual(displayTable(sweepTable(rows.slice(0, 1), ['acc', 'how']), 2), { columns: ['p', 'seed', 'acc', 'how'], rows: [['0', '1', '0.80', 'target']] });
});
