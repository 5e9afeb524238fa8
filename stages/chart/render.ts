// A chart's data as a Vega-Lite spec: a line (or points) per series, and under each line averaged over
// seeds, its band as a shaded area.
import type { ChartData, ChartParams } from './data.js';

export function chartSpec(c: ChartData, p: Pick<ChartParams, 'log_x' | 'log_y' | 'mark'>): Record<string, unknown> {
  const hasBand = c.points.some((q) => q.lo !== undefined);
  const scale = (log: boolean) => (log ? { scale: { type: 'log' } } : {});
  const x = { field: 'x', type: 'quantitative', title: c.xTitle, ...scale(p.log_x) };
  const color = { field: 'series', type: 'nominal', title: null, ...(hasBand ? { legend: { symbolOpacity: 1 } } : {}) };
  const line = {
    mark: p.mark === 'line' ? { type: 'line', point: { size: 20 }, clip: true } : { type: 'point', filled: true, clip: true },
    encoding: {
      x,
      y: { field: 'y', type: 'quantitative', title: c.yTitle, ...scale(p.log_y) },
      color,
      tooltip: [{ field: 'series' }, { field: 'x', title: c.xTitle }, { field: 'y', title: c.yTitle, format: '.4g' }, { field: 'runs', title: 'runs averaged' }],
    },
  };
  const band = {
    transform: [{ filter: 'isValid(datum.lo)' }],
    mark: { type: 'area', opacity: 0.2, clip: true },
    encoding: { x, y: { field: 'lo', type: 'quantitative', title: c.yTitle, ...scale(p.log_y) }, y2: { field: 'hi' }, color },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: c.title,
    width: 420,
    height: 260,
    data: { values: c.points },
    ...(hasBand ? { layer: [band, line] } : line),
    // Series named by several axes (`kind=none, init=zero`) are longer than Vega's default label limit.
    config: { font: 'sans-serif', legend: { orient: 'right', labelLimit: 400 } },
  };
}
