// A chart's data as a Vega-Lite spec: the line chart `figure` draws, with log axes where asked.
import { lineChartSpec } from '../figure/render.js';
import type { ChartData, ChartParams } from './data.js';

export function chartSpec(c: ChartData, p: Pick<ChartParams, 'log_x' | 'log_y' | 'mark'>): Record<string, unknown> {
  return lineChartSpec({ title: c.title, xTitle: c.xTitle, yTitle: c.yTitle, points: c.points, mark: p.mark, logX: p.log_x, logY: p.log_y });
}
