// The Vega-Lite spec of learning curves: one line per run coloured by a matrix axis, or (band) the
// mean over seeds with ± one standard deviation shaded; tooltips, zoom and pan, optional log axes, and
// the paper's values dashed where the pipeline's `figure` stage drew them.
import type { CurvePoint, Curves } from '../../src/ui/api';

export const METRICS = ['loss', 'acc', 'testLoss', 'testAcc', 'lr'] as const;
export type Metric = (typeof METRICS)[number];
export const METRIC_TITLE: Readonly<Record<Metric, string>> = {
  loss: 'training loss',
  acc: 'training accuracy',
  testLoss: 'test loss',
  testAcc: 'test accuracy',
  lr: 'learning rate',
};

export interface CurveOptions {
  readonly metric: Metric;
  readonly x: 'epoch' | 'step';
  /** The matrix axis lines are coloured by; null: each run its own colour. */
  readonly color: string | null;
  /** Mean ± sd over the runs that share the colour value (over seeds), instead of one line per run. */
  readonly band: boolean;
  readonly logX: boolean;
  readonly logY: boolean;
  /** The paper's points (series, x, y) to draw dashed beside ours. */
  readonly paper: readonly { readonly series: string; readonly x: number; readonly y: number }[];
}

interface Row {
  run: string;
  /** The colour: the run's value of the chosen axis (numbers stay numbers, so the legend sorts 2 before 10), or the run. */
  group: string | number | boolean | null;
  x: number;
  y: number;
}

/** The metrics a set of curves has (so the page offers only those). */
export function metricsOf(curves: readonly Curves[]): Metric[] {
  return METRICS.filter((m) => curves.some((c) => [...c.epochs, ...c.steps].some((p) => typeof p[m] === 'number')));
}

export function rowsOf(curves: readonly Curves[], o: Pick<CurveOptions, 'metric' | 'x' | 'color'>): Row[] {
  return curves.flatMap((c) => {
    const run = c.id ?? c.key.slice(0, 12);
    const group = o.color === null ? run : (c.matrix[o.color] ?? null);
    const points: readonly CurvePoint[] = o.x === 'step' ? c.steps : c.epochs;
    return points.flatMap((p) => {
      const y = p[o.metric];
      const x = o.x === 'step' ? p.step : p.epoch;
      return typeof y === 'number' && typeof x === 'number' && Number.isFinite(y) ? [{ run, group, x, y }] : [];
    });
  });
}

export function curveSpec(curves: readonly Curves[], o: CurveOptions): Record<string, unknown> {
  const title = METRIC_TITLE[o.metric];
  const rows = rowsOf(curves, o);
  const scale = (log: boolean, zero: boolean) => ({ scale: log ? { type: 'log' } : { zero } });
  // Epochs and steps are counts: no tick at epoch 1.5.
  const x = { field: 'x', type: 'quantitative', title: o.x, ...scale(o.logX, false), axis: { tickMinStep: 1, format: 'd' } };
  const y = { field: 'y', type: 'quantitative', title, ...scale(o.logY, false) };
  const color = { field: 'group', type: 'nominal', title: o.color ?? 'run', legend: { labelLimit: 360 } };
  const zoom = { name: 'zoom', select: 'interval', bind: 'scales' };
  const lines = o.band
    ? [
        {
          mark: { type: 'errorband', extent: 'stdev', opacity: 0.2 },
          encoding: { x, y: { ...y, title }, color },
        },
        {
          params: [zoom],
          mark: { type: 'line', point: { size: 20 } },
          encoding: {
            x,
            y: { ...y, aggregate: 'mean' },
            color,
            tooltip: [
              { field: 'group', title: o.color ?? 'run' },
              { field: 'x', title: o.x },
              { field: 'y', aggregate: 'mean', title: `mean ${title}`, format: '.4g' },
              { field: 'y', aggregate: 'stdev', title: 'sd', format: '.3g' },
              { field: 'run', aggregate: 'distinct', title: 'runs' },
            ],
          },
        },
      ]
    : [
        {
          params: [zoom],
          mark: { type: 'line', point: { size: 20 } },
          encoding: {
            x,
            y,
            color,
            detail: { field: 'run' },
            tooltip: [
              { field: 'run' },
              { field: 'x', title: o.x },
              { field: 'y', title, format: '.4g' },
            ],
          },
        },
      ];
  const paper =
    o.paper.length === 0
      ? []
      : [
          {
            data: { values: o.paper.map((p) => ({ series: `paper: ${p.series}`, x: p.x, y: p.y })) },
            mark: { type: 'line', strokeDash: [5, 3], opacity: 0.8 },
            encoding: {
              x,
              y,
              color: { field: 'series', type: 'nominal', title: "paper's values", scale: { scheme: 'greys' } },
              tooltip: [{ field: 'series' }, { field: 'x', title: o.x }, { field: 'y', title, format: '.4g' }],
            },
          },
        ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 'container',
    height: 320,
    data: { values: rows },
    // Our lines share one colour scale; the paper's greys get their own (and their own legend).
    layer: [{ layer: lines }, ...paper],
    resolve: { scale: { color: 'independent' } },
    config: { legend: { orient: 'right' } },
  };
}
