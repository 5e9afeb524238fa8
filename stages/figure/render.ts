// A figure's data as a Vega-Lite spec (kept as an output: open it in the Vega editor to restyle or
// explore) and as SVG, rendered headless by Vega (no canvas or browser needed).
import type { FigureData } from './data.js';

export function vegaLiteSpec(fig: FigureData): Record<string, unknown> {
  const hasPaper = fig.points.some((p) => p.source !== 'this run');
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: fig.title,
    width: 420,
    height: 260,
    data: { values: fig.points.filter((p) => p.y !== null) },
    mark: { type: 'line', point: { size: 24 }, clip: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: fig.xLabel },
      y: { field: 'y', type: 'quantitative', title: fig.yLabel },
      color: { field: 'series', type: 'nominal', title: null },
      ...(hasPaper ? { strokeDash: { field: 'source', type: 'nominal', title: null, scale: { domain: ['this run', 'paper (CIFAR-10)'], range: [[1, 0], [5, 3]] }, legend: { symbolType: 'stroke', symbolStrokeWidth: 2, encode: { symbols: { update: { stroke: { value: '#555' } } } } } } } : {}),
      detail: { field: 'source' },
      tooltip: [
        { field: 'series' },
        { field: 'source' },
        { field: 'x', title: fig.xLabel },
        { field: 'y', title: fig.yLabel, format: '.4g' },
        { field: 'runs', title: 'runs averaged' },
      ],
    },
    config: { font: 'sans-serif', legend: { orient: 'right' } },
  };
}

let turn: Promise<unknown> = Promise.resolve();

/**
 * The figure as SVG. Vega numbers clip paths and gradients with process-wide counters, so an SVG
 * would depend on what the process drew before it (a figure stage would not reproduce its own
 * bytes). Renders take turns, each with the counters reset.
 */
export function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const svg = turn.then(() => renderAlone(spec));
  turn = svg.catch(() => undefined);
  return svg;
}

async function renderAlone(spec: Record<string, unknown>): Promise<string> {
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(spec as never).spec), { renderer: 'none' });
  try {
    vega.resetSVGDefIds();
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
