// `figure`: one of the paper's plots from a sweep's training metrics (fan-in): Figure 1a's learning
// curves, 1b's convergence slowdown, 1c's test error against label corruption. Runs that differ only
// in their seed make one line, their mean, shaded by their spread; or (band: best) Figure 2's shading,
// each line's cumulative best above it. Writes the SVG, the Vega-Lite spec
// that drew it, and the plotted numbers. Vega loads only when the stage runs.
import { definePlugin, type Artifact } from '../../src/plugin/types.js';
import { CURVE_METRICS, FIGURE_BANDS, PLOTS, figureData, type FigureParams, type RunMetrics } from './data.js';

/** What `figure` and `chart` write: the picture, the spec that drew it, and the numbers plotted. */
export const plotOutputs = (data: string) =>
  ({
    svg: { kind: 'file', extension: '.svg' },
    spec: { kind: 'json', description: 'the Vega-Lite spec, data inlined' },
    data: { kind: 'json', description: data },
  }) as const;

export const figurePlugin = definePlugin<FigureParams>({
  name: 'figure',
  version: '4',
  description: "A plot of the paper's Figure 1 kind (learning_curves, convergence, test_error) from train[*].metrics; SVG + Vega-Lite spec + data",
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['plot'],
    properties: {
      plot: { enum: PLOTS, description: 'learning_curves (Fig. 1a), convergence (Fig. 1b), test_error (Fig. 1c)' },
      title: { type: ['string', 'null'], default: null },
      series: { type: ['string', 'null'], default: null, description: 'matrix axis that names the lines (default: the model)' },
      x: { type: ['string', 'null'], default: null, description: 'convergence, test_error: matrix axis on the x axis, e.g. p' },
      metric: { enum: CURVE_METRICS, default: 'loss', description: 'learning_curves: what each epoch shows' },
      x_unit: { enum: ['epoch', 'thousand_steps'], default: 'epoch', description: 'learning_curves: x axis' },
      threshold: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 1, description: 'convergence: train accuracy that counts as overfit' },
      paper: { type: 'boolean', default: false, description: "draw the paper's CIFAR-10 values (dashed) for the same models or kinds: Figure 1, and Figure 2b's test accuracy" },
      labels: { type: 'object', additionalProperties: { type: 'string' }, default: {}, description: 'legend names for series values, e.g. { none: true labels }' },
      band: {
        enum: FIGURE_BANDS,
        default: 'sd',
        description: "a line averaged over seeds: shade ± its sd, ± its mean's 95% interval (ci95), its min–max range, or none; best: from the line up to its cumulative best (Figure 2: early stopping's gain)",
      },
    },
  },
  inputs: { runs: { kind: 'json', many: true, description: 'metrics JSON of each training run, e.g. train[*].metrics' } },
  outputs: plotOutputs('{title, plot, xLabel, yLabel, points, notes}'),
  seeded: false,
  async run(ctx) {
    const { renderSvg, vegaLiteSpec, withNotes } = await import('./render.js');
    const runs = await Promise.all(
      ((ctx.inputs.runs ?? []) as readonly Artifact[]).map(async (a) => ({ id: a.from.id, matrix: a.from.matrix, metrics: await a.readJson<RunMetrics>() })),
    );
    const fig = figureData(runs, ctx.params);
    for (const note of fig.notes) ctx.log(note);
    const spec = vegaLiteSpec(fig);
    await ctx.writeJson('data', fig);
    await ctx.writeJson('spec', spec);
    await ctx.writeFile('svg', withNotes(await renderSvg(spec), fig.notes));
  },
});
