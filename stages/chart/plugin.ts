// `chart`: a line (or point) chart of any stage's JSON outputs, fanned in: y against a matrix axis or
// a field, one line per value of the other axes, seeds averaged with a band, axes linear or log.
// Writes the SVG, the Vega-Lite spec that drew it and the plotted numbers, as `figure` does.
import { definePlugin, type Artifact, type JsonValue } from '../../src/plugin/types.js';
import { BANDS } from '../figure/data.js';
import { plotOutputs } from '../figure/plugin.js';
import type { ChartParams } from './data.js';

export const chartPlugin = definePlugin<ChartParams>({
  name: 'chart',
  version: '1',
  description: 'A chart of y against x from any JSON outputs (a sweep fanned in): lines per axis value, seeds averaged with a band, log axes; SVG + Vega-Lite spec + data',
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['x', 'y'],
    properties: {
      x: { type: 'string', minLength: 1, description: 'a matrix axis (n), a field (final.test.acc), or a list\'s field (history[].epoch)' },
      y: { type: 'string', minLength: 1, description: 'a field (test_error) or a list\'s field (history[].distanceToMinNorm), the same list as x\'s' },
      series: { type: ['string', 'null'], default: null, description: 'the matrix axis that names the lines; null: all axes but x\'s and the over ones' },
      over: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true, default: [], description: 'matrix axes to average over (e.g. [seed]), with a band' },
      band: { enum: BANDS, default: 'sd', description: 'around an average: ± sd, ± the 95% interval (ci95), the min–max range, or none' },
      log_x: { type: 'boolean', default: false },
      log_y: { type: 'boolean', default: false },
      mark: { enum: ['line', 'point'], default: 'line' },
      title: { type: ['string', 'null'], default: null },
      x_title: { type: ['string', 'null'], default: null },
      y_title: { type: ['string', 'null'], default: null },
    },
  },
  inputs: { runs: { kind: 'json', many: true, description: 'JSON outputs of many instances, e.g. fit[*].metrics' } },
  outputs: plotOutputs('{title, xTitle, yTitle, points, notes}'),
  seeded: false,
  async run(ctx) {
    const [{ chartData }, { chartSpec }, { renderSvg, withNotes }] = await Promise.all([import('./data.js'), import('./render.js'), import('../figure/render.js')]);
    const runs = await Promise.all(((ctx.inputs.runs ?? []) as readonly Artifact[]).map(async (a) => ({ id: a.from.id, matrix: a.from.matrix, doc: await a.readJson<JsonValue>() })));
    const chart = chartData(runs, ctx.params);
    for (const note of chart.notes) ctx.log(note);
    const spec = chartSpec(chart, ctx.params);
    await ctx.writeJson('data', chart);
    await ctx.writeJson('spec', spec);
    await ctx.writeFile('svg', withNotes(await renderSvg(spec), chart.notes));
  },
});
